"""Where things are written in TOML text: tomllib returns values, but no line numbers.

:class:`Locator` reads the text once with a small recursive-descent scanner that follows
TOML 1.0's grammar for everything that moves a line number (comments, the four string
forms with their escapes and line-ending backslashes, arrays and inline tables over
several lines, dotted and quoted keys, ``[table]`` and ``[[array of tables]]`` headers),
and records the ``line:column`` of every key by its full path, array indices included
(``("order", 1, "group", 0, "id")``), and of every string value. It never raises: on text
that is not TOML it keeps what it found up to the first mistake.
"""

from __future__ import annotations

import bisect
import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

Path = tuple[str | int, ...]


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


class _Stop(Exception):
    """Not TOML from here on: the scan ends, what was found so far stays."""


_BARE = re.compile(r"[A-Za-z0-9_-]+")
_WS = " \t"
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}
# A scalar that is not a string: numbers, booleans, dates and times (a space may separate
# a date from its time).
_SCALAR = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})?"
    r"|[A-Za-z0-9_.:+-]+"
)


class Locator:
    """Positions of table headers, keys and string values in TOML text."""

    def __init__(self, text: str) -> None:
        self.headers: list[tuple[str, Position]] = []
        self.keys: list[_Token] = []
        self.values: list[_Token] = []
        self.paths: dict[Path, Position] = {}  # every key and header, by full path
        self._text = text.removeprefix("\ufeff")  # pack's TOML library strips it too
        self._starts = [0] + [m.end() for m in re.finditer("\n", self._text)]
        self._i = 0
        self._table = -1
        self._current: Path = ()  # the table keys are written into now
        self._implicit: set[Path] = set()  # tables only named on the way to another
        self._arrays: dict[Path, int] = {}  # array-of-tables path -> entries so far
        with contextlib.suppress(_Stop, IndexError, RecursionError):
            self._document()

    # -- queries ---------------------------------------------------------------------

    def at(self, path: Sequence[str | int]) -> Position | None:
        """The key or header at ``path``, else the nearest enclosing one that is written."""
        path = tuple(path)
        while path:
            if path in self.paths:
                return self.paths[path]
            path = path[:-1]
        return None

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

    # -- scanning --------------------------------------------------------------------

    def _position(self, index: int) -> Position:
        line = bisect.bisect_right(self._starts, index)
        return Position(line, index - self._starts[line - 1] + 1)

    def _peek(self, count: int = 1) -> str:
        return self._text[self._i : self._i + count]

    def _skip_ws(self) -> None:
        while self._i < len(self._text) and self._text[self._i] in _WS:
            self._i += 1

    def _skip_blank(self) -> None:
        """Whitespace, newlines and comments (inside arrays, between statements)."""
        while self._i < len(self._text):
            char = self._text[self._i]
            if char in " \t\r\n":
                self._i += 1
            elif char == "#":
                end = self._text.find("\n", self._i)
                self._i = len(self._text) if end < 0 else end
            else:
                return

    def _end_of_line(self) -> None:
        self._skip_ws()
        if self._peek() == "#":
            end = self._text.find("\n", self._i)
            self._i = len(self._text) if end < 0 else end
        if self._i < len(self._text) and self._peek() not in "\r\n":
            raise _Stop

    def _document(self) -> None:
        while True:
            self._skip_blank()
            if self._i >= len(self._text):
                return
            if self._peek(2) == "[[":
                self._header(array=True)
            elif self._peek() == "[":
                self._header(array=False)
            else:
                self._keyval(self._current, top=True)
            self._end_of_line()

    def _header(self, *, array: bool) -> None:
        start = self._i
        self._i += 2 if array else 1
        self._skip_ws()
        parts = self._key()
        self._skip_ws()
        closing = "]]" if array else "]"
        if self._peek(len(closing)) != closing:
            raise _Stop
        self._i += len(closing)
        path: Path = ()
        names = [name for name, _ in parts]
        position = self._position(start)
        for k, name in enumerate(names):
            path += (name,)
            if path not in self.paths:  # a super-table written later gets its own line
                self.paths[path] = position
                self._implicit.add(path)
            if array and k == len(names) - 1:
                count = self._arrays.get(path, 0)
                self._arrays[path] = count + 1
                path += (count,)
            elif path in self._arrays:
                path += (self._arrays[path] - 1,)
        self.headers.append((".".join(names), position))
        self._table = len(self.headers) - 1
        self._current = path
        if path not in self.paths or path in self._implicit:
            self.paths[path] = position
            self._implicit.discard(path)

    def _key(self) -> list[tuple[str, Position]]:
        parts = [self._simple_key()]
        while True:
            save = self._i
            self._skip_ws()
            if self._peek() != ".":
                self._i = save
                return parts
            self._i += 1
            self._skip_ws()
            parts.append(self._simple_key())

    def _simple_key(self) -> tuple[str, Position]:
        position = self._position(self._i)
        char = self._peek()
        if char == '"':
            return self._basic(), position
        if char == "'":
            return self._literal(), position
        bare = _BARE.match(self._text, self._i)
        if not bare:
            raise _Stop
        self._i = bare.end()
        return bare.group(0), position

    def _keyval(self, base: Path, *, top: bool) -> None:
        parts = self._key()
        path = base
        for name, position in parts:
            path += (name,)
            self.paths.setdefault(path, position)
            self.keys.append(_Token(self._table, name, name, position))
        self._skip_ws()
        if self._peek() != "=":
            raise _Stop
        self._i += 1
        self._skip_ws()
        self._value(path, parts[-1][0])

    def _value(self, path: Path, key: str) -> None:
        start = self._i
        char = self._peek()
        if char in "\"'":
            value = self._string()
            self.values.append(_Token(self._table, key, value, self._position(start)))
        elif char == "[":
            self._i += 1
            index = 0
            while True:
                self._skip_blank()
                if self._peek() == "]":
                    self._i += 1
                    return
                self._value((*path, index), key)
                index += 1
                self._skip_blank()
                if self._peek() == ",":
                    self._i += 1
                elif self._peek() != "]":
                    raise _Stop
        elif char == "{":
            self._i += 1
            self._skip_ws()
            if self._peek() == "}":
                self._i += 1
                return
            while True:
                self._skip_ws()
                self._keyval(path, top=False)
                self._skip_ws()
                if self._peek() == ",":
                    self._i += 1
                elif self._peek() == "}":
                    self._i += 1
                    return
                else:
                    raise _Stop
        else:
            scalar = _SCALAR.match(self._text, self._i)
            if not scalar:
                raise _Stop
            self._i = scalar.end()

    def _string(self) -> str:
        if self._peek(3) == '"""':
            return self._multiline('"')
        if self._peek(3) == "'''":
            return self._multiline("'")
        return self._basic() if self._peek() == '"' else self._literal()

    def _literal(self) -> str:
        end = self._text.find("'", self._i + 1)
        newline = self._text.find("\n", self._i + 1)
        if end < 0 or 0 <= newline < end:
            raise _Stop
        value = self._text[self._i + 1 : end]
        self._i = end + 1
        return value

    def _basic(self) -> str:
        self._i += 1
        out: list[str] = []
        while True:
            char = self._text[self._i]
            if char == '"':
                self._i += 1
                return "".join(out)
            if char == "\n":
                raise _Stop
            if char == "\\":
                out.append(self._escape())
                continue
            out.append(char)
            self._i += 1

    def _escape(self) -> str:
        kind = self._text[self._i + 1]
        if kind in _ESCAPES:
            self._i += 2
            return _ESCAPES[kind]
        width = {"u": 4, "U": 8}.get(kind)
        if width is None:
            raise _Stop
        digits = self._text[self._i + 2 : self._i + 2 + width]
        self._i += 2 + width
        try:
            return chr(int(digits, 16))
        except ValueError:
            raise _Stop from None

    def _multiline(self, quote: str) -> str:
        self._i += 3
        if self._peek() == "\n":
            self._i += 1
        elif self._peek(2) == "\r\n":
            self._i += 2
        out: list[str] = []
        delimiter = quote * 3
        while True:
            if self._text.startswith(delimiter, self._i):
                # Up to two quotes may end the content right before the delimiter.
                run = 3
                while run < 5 and self._text.startswith(quote, self._i + run):
                    run += 1
                out.append(quote * (run - 3))
                self._i += run
                return "".join(out)
            char = self._text[self._i]
            if char == "\\" and quote == '"':
                rest = self._i + 1
                while rest < len(self._text) and self._text[rest] in _WS:
                    rest += 1
                if self._text[rest : rest + 1] in ("\n", "\r"):
                    # A line-ending backslash: drop it and all whitespace after it.
                    self._i = rest
                    while self._i < len(self._text) and self._text[self._i] in " \t\r\n":
                        self._i += 1
                    continue
                out.append(self._escape())
                continue
            out.append(char)
            self._i += 1


_DECODE_POSITION = re.compile(r"at line (\d+), column (\d+)")


def decode_error_position(message: str) -> Position | None:
    """The place a ``tomllib.TOMLDecodeError`` message names ("… (at line L, column C)")."""
    found = _DECODE_POSITION.search(message)
    return Position(int(found.group(1)), int(found.group(2))) if found else None
