"""Where things are written in TOML text: tomllib returns values, but no line numbers.

:class:`Locator` finds the ``line:column`` of table headers, keys and single-line string
values, so a finding about a value can point at the place it is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Position:
    line: int
    column: int | None = None


@dataclass(frozen=True, slots=True)
class _Token:
    table: int  # index into Locator.headers; -1 for the root table
    key: str  # the key a value belongs to, or the key itself for key tokens
    value: str
    position: Position


_HEADER = re.compile(r"\s*(\[\[?)([^\[\]]+)\]\]?\s*(?:#.*)?$")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*\s*=(?!=)")
_WORD = re.compile(r"[A-Za-z0-9_.:+-]+")


class Locator:
    """Positions of table headers, keys and single-line string values in TOML text.

    A small scanner, not a parser: it skips comments and multi-line strings, tracks the
    current table header and the key each string belongs to, and is good enough for the
    shapes builder.toml and pack's config are written in. Unknown shapes fall back to
    the first match anywhere, then to line 1, never to an error.
    """

    def __init__(self, text: str) -> None:
        self.headers: list[tuple[str, Position]] = []
        self.keys: list[_Token] = []
        self.values: list[_Token] = []
        self._scan(text)

    def header(self, table: str, nth: int = 0) -> Position | None:
        index = self._table_index(table, nth)
        return None if index is None else self.headers[index][1]

    def key(self, name: str, table: str, nth: int = 0) -> Position:
        index = self._table_index(table, nth)
        for token in self.keys:
            if token.value == name and (index is None or token.table == index):
                return token.position
        return self.header(table, nth) or Position(1)

    def value(self, value: str, table: str, nth: int, key: str, occurrence: int = 0) -> Position:
        """The ``occurrence``-th ``value`` of ``key`` in the ``nth`` ``[table]``."""
        index = self._table_index(table, nth)
        if index is not None:
            found = [t for t in self.values if t.table == index and t.key == key]
            found = [t for t in found if t.value == value]
            if len(found) > occurrence:
                return found[occurrence].position
        anywhere = [t for t in self.values if t.value == value]  # inline tables, odd layouts
        keyed = [t for t in anywhere if t.key == key]
        if keyed:
            return keyed[min(occurrence, len(keyed) - 1)].position
        if anywhere:
            return anywhere[0].position
        return self.header(table, nth) or Position(1)

    def _table_index(self, table: str, nth: int) -> int | None:
        seen = 0
        for index, (name, _) in enumerate(self.headers):
            if name == table:
                if seen == nth:
                    return index
                seen += 1
        return None

    def _scan(self, text: str) -> None:
        table, key, depth = -1, "", 0
        closing: str | None = None  # the delimiter of an open multi-line string
        for number, line in enumerate(text.splitlines(), start=1):
            i = 0
            if closing is not None:
                end = line.find(closing)
                if end < 0:
                    continue
                i, closing = end + 3, None
            elif depth == 0 and (header := _HEADER.match(line)):
                name = ".".join(p.strip().strip("\"'") for p in header.group(2).split("."))
                self.headers.append((name, Position(number, header.start(1) + 1)))
                table, key = len(self.headers) - 1, ""
                continue
            while i < len(line):
                char = line[i]
                if char == "#":
                    break
                if char in "\"'":
                    if line.startswith(char * 3, i):
                        end = line.find(char * 3, i + 3)
                        if end < 0:
                            closing = char * 3
                            break
                        i = end + 3
                        continue
                    value, end = _string(line, i)
                    position = Position(number, i + 1)
                    rest = line[end:].lstrip()
                    if rest.startswith("=") and not rest.startswith("=="):
                        key = value  # a quoted key
                        self.keys.append(_Token(table, key, value, position))
                    else:
                        self.values.append(_Token(table, key, value, position))
                    i = end
                    continue
                if char in "[{":
                    depth += 1
                elif char in "]}":
                    depth = max(0, depth - 1)
                elif bare := _BARE_KEY.match(line, i):
                    key = bare.group(0).rstrip("=").split(".")[-1].strip()
                    self.keys.append(_Token(table, key, key, Position(number, i + 1)))
                    i = bare.end()
                    continue
                elif word := _WORD.match(line, i):
                    i = word.end()  # a number, boolean or date: not a key
                    continue
                i += 1


def _string(line: str, start: int) -> tuple[str, int]:
    """The single-line string opening at ``start``, and the index after its closing quote."""
    quote = line[start]
    out: list[str] = []
    i = start + 1
    while i < len(line):
        char = line[i]
        if char == quote:
            return "".join(out), i + 1
        if char == "\\" and quote == '"' and i + 1 < len(line):
            i += 1
            char = {"n": "\n", "t": "\t"}.get(line[i], line[i])
        out.append(char)
        i += 1
    return "".join(out), len(line)


_DECODE_POSITION = re.compile(r"at line (\d+), column (\d+)")


def decode_error_position(message: str) -> Position | None:
    """The place a ``tomllib.TOMLDecodeError`` message names ("… (at line L, column C)")."""
    found = _DECODE_POSITION.search(message)
    return Position(int(found.group(1)), int(found.group(2))) if found else None
