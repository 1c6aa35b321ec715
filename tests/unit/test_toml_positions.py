"""The locator's line numbers are exact: generated TOML documents (every string form,
escapes, line-ending backslashes, arrays over several lines, inline tables, comments,
arrays of tables) are read by tomllib and by the locator, and every key and string value
is found where the generator wrote it, with the value tomllib decodes.

Examples per run: ``test_generated_documents_are_located_exactly`` 400.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.sources.toml_positions import Locator, Position

FAST = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Text a value may hold: printable characters of several scripts, quotes, backslashes,
# tabs and (for the multi-line forms) newlines.
CONTENT = st.text(
    alphabet=st.sampled_from(list("abcxyz019 -_.:/\"'\\\té€日\U0001f600\x01\x7f")), max_size=12
)
MULTILINE = st.text(alphabet=st.sampled_from(list("ab1 \"'\\\t\né日")), max_size=16)


def escape_basic(text: str, draw: Any) -> str:
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\t" and draw(st.booleans()):
            out.append("\\t")
        elif _control(char):
            out.append(f"\\u{ord(char):04x}")
        elif draw(st.integers(0, 4)) == 0:  # any character may be written as an escape
            out.append(f"\\u{ord(char):04X}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return "".join(out)


@st.composite
def string_literal(draw: Any) -> tuple[str, str]:
    """(TOML source, decoded value) of one string, in one of the four forms."""
    form = draw(st.sampled_from(["basic", "literal", "ml-basic", "ml-literal"]))
    if form == "basic":
        value = draw(CONTENT)
        return f'"{escape_basic(value, draw)}"', value
    if form == "literal":
        value = draw(CONTENT.filter(lambda t: "'" not in t and not any(_control(c) for c in t)))
        return f"'{value}'", value
    value = draw(MULTILINE)
    if form == "ml-literal":
        value = value.replace("'", "")
        # A newline right after the delimiter is trimmed: one that is content needs another.
        newline = draw(st.booleans()) or value.startswith("\n")
        return "'''" + ("\n" if newline else "") + value + "'''", value
    source = escape_basic(value.replace("\n", "\x00"), draw).replace("\\u0000", "\n")
    if draw(st.booleans()) and source and not source[0].isspace():
        # A line-ending backslash before a non-blank character changes nothing.
        source = "\\\n   " + source
    return '"""\n' + source + '"""', value


def _control(char: str) -> bool:
    return (ord(char) < 0x20 and char != "\t") or char == "\x7f"


KEYS = st.sampled_from(["image", "mirrors", "id", "run-image", "a_b", "x1", "quoted key"])
TABLES = st.sampled_from(["run", "stack", "build", "system.pre", "lifecycle"])
ARRAYS = st.sampled_from(["run.images", "buildpacks", "order"])


@dataclass
class Doc:
    lines: list[str] = field(default_factory=list)
    keys: dict[tuple[Any, ...], int] = field(default_factory=dict)  # path -> line
    strings: list[tuple[str, int]] = field(default_factory=list)  # value, line

    @property
    def line(self) -> int:
        """The number of the next line to be written."""
        return sum(chunk.count("\n") for chunk in self.lines) + 1

    def add(self, text: str) -> None:
        self.lines.append(text if text.endswith("\n") else text + "\n")


def key_source(key: str) -> str:
    return f'"{key}"' if " " in key else key


@st.composite
def documents(draw: Any) -> Doc:
    doc = Doc()
    counts: dict[str, int] = {}
    seen_tables: set[str] = set()
    for _ in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            doc.add(f"# {draw(CONTENT.filter(lambda t: not any(_control(c) for c in t)))}")
        if draw(st.booleans()):
            doc.add("")
        array = draw(st.booleans())
        name = draw(ARRAYS if array else TABLES.filter(lambda n: n not in seen_tables))
        if array:
            if name in seen_tables:
                continue
            index = counts.get(name, 0)
            counts[name] = index + 1
            base: tuple[Any, ...] = (*name.split("."), index)
            doc.keys[base] = doc.line
            doc.add(f"[[{name}]]")
        else:
            seen_tables.add(name)
            base = tuple(name.split("."))
            doc.keys[base] = doc.line
            spaced = " . ".join(name.split(".")) if draw(st.booleans()) else name
            doc.add(f"[ {spaced} ]  # a table")
        for key in draw(st.lists(KEYS, max_size=4, unique=True)):
            write_keyval(draw, doc, base, key)
    return doc


def write_keyval(draw: Any, doc: Doc, base: tuple[Any, ...], key: str) -> None:
    start = doc.line
    doc.keys[(*base, key)] = start
    kind = draw(st.sampled_from(["string", "array", "inline", "number", "dotted", "inline-array"]))
    prefix = f"{key_source(key)} = "
    if kind == "dotted":  # key.sub = "…": both parts are keys on this line
        source, value = draw(string_literal())
        doc.keys[(*base, key, "sub")] = start
        doc.strings.append((value, start))
        doc.add(f"{key_source(key)} . sub = {source}")
        return
    if kind == "inline-array":  # key = [{ inner = "…" }, …] over several lines
        text = prefix + "["
        for index, (source, value) in enumerate(
            draw(st.lists(string_literal().filter(lambda s: "\n" not in s[0]), max_size=3))
        ):
            text += "\n  "
            line = start + text.count("\n")
            doc.keys[(*base, key, index, "inner")] = line
            doc.strings.append((value, line))
            text += "{ inner = " + source + " },"
        doc.add(text + "\n]")
        return
    if kind == "number":
        doc.add(prefix + draw(st.sampled_from(["1", "-2.5e3", "true", "1979-05-27 07:32:00Z"])))
        return
    if kind == "string":
        source, value = draw(string_literal())
        doc.strings.append((value, start))
        doc.add(prefix + source + "  # after")
        return
    if kind == "inline":
        source, value = draw(string_literal().filter(lambda s: "\n" not in s[0]))
        doc.keys[(*base, key, "inner")] = start
        doc.strings.append((value, start))
        doc.add(prefix + "{ inner = " + source + ", n = 2 }")
        return
    # An array of strings, one or several per line, with comments between them.
    items = draw(st.lists(string_literal(), max_size=4))
    text = prefix + "["
    for source, value in items:
        if draw(st.booleans()):
            text += "  # between\n  "
        line = start + text.count("\n")
        doc.strings.append((value, line))
        text += source + ", "
    doc.add(text + "\n]")


@FAST
@given(documents())
def test_generated_documents_are_located_exactly(doc: Doc) -> None:
    text = "".join(doc.lines)
    decoded = tomllib.loads(text)  # the generator writes valid TOML only
    locator = Locator(text)

    for path, line in doc.keys.items():
        found = locator.paths.get(path)
        assert found is not None, (path, text)
        assert found.line == line, (path, text)

    assert [(t.value, t.position.line) for t in locator.values] == doc.strings, text
    assert sorted(t.value for t in locator.values) == sorted(_strings(decoded))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def test_multiline_and_escaped_strings_do_not_shift_lines() -> None:
    # The case: a multi-line literal and a \u-escaped key value.
    text = (
        "description = '''\nline one\nline two'''\n"
        '[[run.images]]\nimage = "\\u0072egistry.example.com/x:1"\n'
        'mirrors = ["""\nm.example.com/x:1"""]\n'
    )
    locator = Locator(text)
    assert locator.paths[("run", "images", 0, "image")] == Position(5, 1)
    assert locator.value("registry.example.com/x:1", "run.images", 0, "image") == Position(5, 9)
    assert locator.value("m.example.com/x:1", "run.images", 0, "mirrors").line == 6


def test_text_that_is_not_toml_keeps_what_was_found() -> None:
    locator = Locator('[run]\nimages = "x"\n= broken\n[later]\n')
    assert locator.paths[("run", "images")] == Position(2, 1)
    assert ("later",) not in locator.paths


def test_a_byte_order_mark_is_not_a_column() -> None:
    locator = Locator('\ufeffimage = "x"\n')
    assert locator.paths[("image",)] == Position(1, 1)
