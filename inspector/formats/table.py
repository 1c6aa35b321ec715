"""Human output: a rich table on a terminal, aligned plain text for pipes and ``NO_COLOR``.

Every string passes :func:`inspector.formats.escape.escape` first: references, details and
labels come from registries and configs, and a control character in them must not reach
a terminal or a CI log. Colour is chosen by cell value (see :func:`style_of`), so any row a
renderer produces gets it. Columns wrap instead of truncating: at 80 columns a reference
folds onto a second line and a 12-character digest prefix stays whole.

rich is imported only when it is used, so scripted runs start faster.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TextIO

from inspector.formats.escape import escape

if TYPE_CHECKING:
    from rich.console import Console

ColorMode = Literal["auto", "always", "never"]
COLOR_MODES: tuple[ColorMode, ...] = ("auto", "always", "never")

# What a cell or verdict line starts with -> its colour (contract: red for failures,
# green for success, yellow for warnings and notes). Matched on the first word, case
# sensitive: "NO" (out of sync) is red, "no" (not on the preferred registry) is not.
RED = frozenset(
    {
        "FAIL",
        "NO",
        "missing",
        "stale",
        "broken",
        "partial",
        "unauthorized",
        "unreachable",
        "error",
        "failed",
        "refused",
    }
)
GREEN = frozenset(
    {"OK", "PASS", "yes", "available", "identical", "in-sync", "copied", "up-to-date", "verified"}
)
YELLOW = frozenset({"WARN", "WARNING", "warning", "note", "equivalent", "INFO", "planned"})
_FIRST_WORD = re.compile(r"[^\s(:,]+:?")


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    marked: frozenset[int] = field(default_factory=frozenset)  # row indexes to emphasise
    notes: Sequence[str] = ()  # lines printed after the table (verdicts)


def style_of(text: str) -> str | None:
    """The colour a cell or verdict line gets from the word it starts with."""
    match = _FIRST_WORD.match(text)
    if match is None:
        return None
    word = match.group(0).rstrip(":")
    if word in RED:
        return "red"
    if word in GREEN:
        return "green"
    if word in YELLOW:
        return "yellow"
    return None


def color_choice(
    stream: TextIO, mode: ColorMode = "auto", environ: Mapping[str, str] | None = None
) -> bool:
    """Whether ``stream`` gets the rich table (boxes, colour).

    ``--color always|never`` decides; under ``auto``: ``NO_COLOR`` set and non-empty means
    plain (https://no-color.org), else ``FORCE_COLOR`` set and non-empty means colour,
    else colour only for a terminal.
    """
    if mode == "always":
        return True
    if mode == "never":
        return False
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


def render(
    tables: Sequence[Table], stream: TextIO | None = None, color: ColorMode | None = None
) -> None:
    stream = stream or sys.stdout
    if color_choice(stream, color or "auto"):
        render_rich(tables, console_for(stream))
    else:
        stream.write(plain(tables))


def plain(tables: Sequence[Table]) -> str:
    out: list[str] = []
    for table in tables:
        rows = [[escape(cell) for cell in row] for row in table.rows]
        columns = [escape(c) for c in table.columns]
        if table.title:
            out.append(escape(table.title))
        if rows:
            widths = [len(c) for c in columns]
            for row in rows:
                widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
            for line in [columns, *rows]:
                cells = (cell.ljust(w) for cell, w in zip(line, widths, strict=True))
                out.append("  ".join(cells).rstrip())
        out.extend(escape(note) for note in table.notes)
        out.append("")
    return "\n".join(out[:-1]) + "\n" if out else ""


def console_for(stream: TextIO, width: int | None = None) -> Console:
    """A console that writes colour to ``stream`` even when it is not a terminal (the
    choice was made by :func:`color_choice`); its width is the terminal's, else 80."""
    from rich.console import Console

    return Console(file=stream, force_terminal=True, width=width, highlight=False)


# A column whose words are all at most this long never breaks inside a word: digest
# prefixes (12), statuses, "user-mirror", ranks. Longer words (references) fold.
_KEEP_WHOLE = 12
# The narrowest a folding column gets while others keep their words whole.
_FOLD_FLOOR = 16
_GAP = 2  # between columns: one space of padding and the box's blank divider


def column_widths(columns: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> list[int]:
    """Widths that fit ``width`` where possible, never cutting a short word.

    Each column gets its natural width when everything fits. Otherwise a column of short
    words (all at most ``_KEEP_WHOLE``: digest prefixes, statuses) keeps its longest word
    whole and a column of long ones (references) gets a floor, and the room left goes to
    the columns that want more, in proportion to what they lack. When even that is too
    wide, headers may break inside a word (the references keep their room), then the
    folding columns shrink further.
    """
    count = len(columns)
    natural = [max([len(columns[i]), *(len(row[i]) for row in rows)]) for i in range(count)]
    avail = width - _GAP * (count - 1)
    if sum(natural) <= avail:
        return natural
    floors: list[int] = []
    longest_words: list[int] = []
    for with_headers, fold_floor in ((True, _FOLD_FLOOR), (False, _FOLD_FLOOR), (False, 8)):
        floors, longest_words = [], []
        for i in range(count):
            words = [w for row in rows for w in row[i].split()]
            if with_headers:
                words += columns[i].split()
            longest = max((len(w) for w in words), default=1)
            longest_words.append(longest)
            floors.append(longest if longest <= _KEEP_WHOLE else min(natural[i], fold_floor))
        if sum(floors) <= avail:
            break
    widths = list(floors)
    spare = avail - sum(widths)
    # Room goes to the columns of long words (references) first: they fold worst.
    folding = {i for i in range(count) if longest_words[i] > _KEEP_WHOLE}
    while spare > 0:
        lacking = {i: natural[i] - widths[i] for i in range(count) if natural[i] > widths[i]}
        if folding & lacking.keys():
            lacking = {i: lack for i, lack in lacking.items() if i in folding}
        if not lacking:
            break
        total = sum(lacking.values())
        given = 0
        for i, lack in lacking.items():
            share = min(lack, max(1, spare * lack // total), spare - given)
            widths[i] += share
            given += share
        spare -= given
    return widths


def render_rich(tables: Sequence[Table], console: Console) -> None:
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text  # cells as Text: "[::1]" in a reference is not markup

    for table in tables:
        rows = [[escape(cell) for cell in row] for row in table.rows]
        columns = [escape(c) for c in table.columns]
        title = escape(table.title)
        if not rows:
            if title:
                console.print(Text(title), overflow="fold")
        else:
            grid = RichTable(
                box=box.SIMPLE_HEAD,
                show_edge=False,
                pad_edge=False,
                padding=(0, 1, 0, 0),
            )
            widths = column_widths(columns, rows, console.width)
            for column, width in zip(columns, widths, strict=True):
                grid.add_column(column, overflow="fold", width=width)
            for index, row in enumerate(rows):
                grid.add_row(
                    *(Text(cell, style=style_of(cell) or "") for cell in row),
                    style="bold" if index in table.marked else None,
                )
            if title:
                console.print(Text(title), overflow="fold")
            # crop=False: when even the floors do not fit, lines run on; nothing is cut.
            console.print(grid, crop=False)
        for note in table.notes:
            text = escape(note)
            console.print(Text(text, style=style_of(text) or ""), overflow="fold")
