"""Tables for people: wrap at 80 columns without cutting a reference or a digest prefix,
colour by meaning, ``--color``/``NO_COLOR``/``FORCE_COLOR``, control characters escaped."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from inspector.formats.escape import escape
from inspector.formats.table import (
    Table,
    color_choice,
    column_widths,
    plain,
    render,
    render_rich,
    style_of,
)

ANSI = re.compile(r"\x1b\[[0-9;]*m")
REFERENCES = [
    "registry-mirror.internal.example.com:5000/platform/cnb/run-jammy-base:0.1.2",
    "index.docker.io/paketobuildpacks/run-jammy-base:latest",
    "ghcr.io/paketo/run@sha256:" + "ab" * 32,
]
DIGESTS = ["0123456789ab", "-", "fedcba987654"]
COLUMNS = ["#", "reference", "source", "on preferred", "status", "digest", "in sync", ""]


def check_like_table() -> Table:
    rows = [
        ["1", REFERENCES[0], "user-mirror", "no", "available", DIGESTS[0], "NO (linux/amd64)", ""],
        ["2", REFERENCES[1], "image", "no", "missing", DIGESTS[1], "-", "<- pack's pick"],
        [
            "3",
            REFERENCES[2],
            "mirror",
            "yes",
            "unreachable: connection refused",
            DIGESTS[2],
            "yes",
            "",
        ],
    ]
    title = "Run image candidates for registry.example.com/example/app (publish mode)"
    return Table(
        title, COLUMNS, rows, marked=frozenset({1}), notes=["FAIL: pack's pick is missing"]
    )


def rendered(tables: list[Table], width: int = 80) -> str:
    console = Console(
        file=io.StringIO(), width=width, record=True, force_terminal=True, color_system="standard"
    )
    render_rich(tables, console)
    return console.export_text(styles=True)


def column_text(text: str, header_line: str, column: str, next_column: str) -> list[str]:
    """The cells of one column, each folded piece joined back (rows start at a rank)."""
    lines = ANSI.sub("", text).splitlines()
    index = next(i for i, line in enumerate(lines) if header_line in line)
    start = lines[index].index(column)
    end = lines[index].index(next_column, start + len(column))
    cells: list[str] = []
    for line in lines[index + 2 :]:
        if not line.strip() or line.startswith("FAIL"):
            break
        piece = line[start:end].strip()
        if line[0].isdigit():
            cells.append(piece)
        else:
            cells[-1] += piece
    return cells


@pytest.mark.parametrize("width", [80, 100])
def test_at_narrow_widths_references_fold_and_nothing_is_cut(width: int) -> None:
    text = ANSI.sub("", rendered([check_like_table()], width))
    assert "…" not in text
    assert all(len(line) <= width for line in text.splitlines()), text
    references = column_text(text, "reference", "reference", "source")
    assert references == REFERENCES
    # A 12-character digest prefix is never split across lines.
    for digest in DIGESTS:
        assert any(digest in line for line in text.splitlines())


def test_widths_keep_short_words_whole_and_fit() -> None:
    table = check_like_table()
    widths = column_widths(table.columns, table.rows, 80)
    assert sum(widths) + 2 * (len(widths) - 1) <= 80
    assert widths[COLUMNS.index("digest")] >= 12
    assert widths[COLUMNS.index("source")] >= len("user-mirror")
    # The reference column gets the room the short columns do not need.
    assert widths[1] == max(widths)


def test_wide_terminal_shows_each_row_on_one_line() -> None:
    text = ANSI.sub("", rendered([check_like_table()], 200))
    for reference in REFERENCES:
        assert any(reference in line for line in text.splitlines())


@pytest.mark.parametrize(
    ("cell", "colour"),
    [
        ("FAIL", "red"),
        ("FAIL: pack's pick is missing", "red"),
        ("NO (linux/amd64)", "red"),
        ("missing", "red"),
        ("stale (linux/arm64)", "red"),
        ("broken", "red"),
        ("unreachable: connection refused", "red"),
        ("OK: every mirror is identical", "green"),
        ("yes", "green"),
        ("PASS", "green"),
        ("available", "green"),
        ("WARN", "yellow"),
        ("equivalent", "yellow"),
        ("note: attestations differ", "yellow"),
        ("no", None),  # not on the preferred registry: not a failure
        ("registry.example.com/example/run", None),
        ("", None),
    ],
)
def test_colour_by_meaning(cell: str, colour: str | None) -> None:
    assert style_of(cell) == colour


def test_colours_reach_the_terminal() -> None:
    text = rendered([check_like_table()], 200)
    assert "\x1b[1;31mmissing" in text  # red, and bold: pack's pick
    assert "\x1b[31mNO (linux/amd64)" in text
    assert "\x1b[32mavailable" in text  # green
    assert "\x1b[31munreachable: connection refused" in text
    assert "\x1b[31mFAIL: pack's pick is missing" in text
    assert "\x1b[31mno" not in text and "\x1b[32mno" not in text


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize(
    ("tty", "mode", "env", "expected"),
    [
        (True, "auto", {}, True),
        (False, "auto", {}, False),
        (True, "auto", {"NO_COLOR": "1"}, False),
        (True, "auto", {"NO_COLOR": ""}, True),  # set but empty: not a request (no-color.org)
        (False, "auto", {"FORCE_COLOR": "1"}, True),
        (False, "auto", {"FORCE_COLOR": ""}, False),
        (True, "auto", {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
        (False, "always", {"NO_COLOR": "1"}, True),  # the flag wins over the environment
        (True, "never", {"FORCE_COLOR": "1"}, False),
    ],
)
def test_color_choice(tty: bool, mode: str, env: dict[str, str], expected: bool) -> None:
    assert color_choice(Stream(tty), mode, env) is expected  # type: ignore[arg-type]


def test_render_always_writes_colour_to_a_pipe_and_never_writes_plain() -> None:
    coloured, bare = Stream(False), Stream(True)
    render([check_like_table()], coloured, color="always")  # type: ignore[arg-type]
    render([check_like_table()], bare, color="never")  # type: ignore[arg-type]
    assert ANSI.search(coloured.getvalue())
    assert not ANSI.search(bare.getvalue())
    assert bare.getvalue() == plain([check_like_table()])


# --- control characters from registries and configs -----------------------------------------

HOSTILE = [
    "\x1b[2J\x1b[Hcleared",  # clear the screen
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "ok\rFAIL",  # carriage return overwrites what was shown
    "line\n::error::injected",  # a GitHub Actions workflow command on its own line
    "lone \ud800 surrogate",
    "bidi \u202etxt.exe",
    "nul\x00 del\x7f c1\x9b",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_leaves_no_control_character(text: str) -> None:
    escaped = escape(text)
    assert not re.search("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e]", escaped)
    escaped.encode("utf-8")  # a lone surrogate would raise here


def test_escape_shows_what_was_there() -> None:
    assert escape("a\x1b[31mb") == "a\\x1b[31mb"
    assert escape("a\r\nb\tc") == "a\\r\\nb\\tc"
    assert escape("\ud800") == "\\ud800"
    assert escape("\u202e") == "\\u202e"
    assert escape("registry.example.com/ünïcode") == "registry.example.com/ünïcode"


@pytest.mark.parametrize("rich", [True, False])
def test_hostile_strings_are_escaped_in_cells_titles_and_notes(rich: bool) -> None:
    rows = [[text, text] for text in HOSTILE]
    table = Table("title " + HOSTILE[1], ["reference", "detail\x1b"], rows, notes=HOSTILE)
    if rich:
        out = rendered([table], 200)
        out = ANSI.sub("", out)  # the colour codes rich itself writes
    else:
        out = plain([table])
    assert "\x1b" not in out
    assert "\r" not in out
    assert "\ud800" not in out and "\u202e" not in out
    out.encode("utf-8")
    # Every newline is one the renderer wrote: no line starts with the injected command.
    assert not any(line.startswith("::error::") for line in out.splitlines())
    assert "\\x1b]8;;https://evil.example/" in out.replace("\n", "")
