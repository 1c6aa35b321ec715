"""Human output: a rich table on a terminal, aligned plain text for pipes and ``NO_COLOR``.

rich is imported only when it is used, so scripted runs start faster.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    marked: frozenset[int] = field(default_factory=frozenset)  # row indexes to emphasise
    notes: Sequence[str] = ()  # lines printed after the table (verdicts)


def use_rich(stream: TextIO) -> bool:
    """Colour and boxes only for a terminal, and never when ``NO_COLOR`` is set."""
    return stream.isatty() and "NO_COLOR" not in os.environ


def render(tables: Sequence[Table], stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    if use_rich(stream):
        _render_rich(tables, stream)
    else:
        stream.write(plain(tables))


def plain(tables: Sequence[Table]) -> str:
    out: list[str] = []
    for table in tables:
        if table.title:
            out.append(table.title)
        if table.rows:
            widths = [len(c) for c in table.columns]
            for row in table.rows:
                widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
            for line in [table.columns, *table.rows]:
                cells = (cell.ljust(w) for cell, w in zip(line, widths, strict=True))
                out.append("  ".join(cells).rstrip())
        out.extend(table.notes)
        out.append("")
    return "\n".join(out[:-1]) + "\n" if out else ""


def _render_rich(tables: Sequence[Table], stream: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text  # cells as Text: "[::1]" in a reference is not markup

    console = Console(file=stream)
    for table in tables:
        grid = RichTable(title=table.title or None, title_justify="left")
        for column in table.columns:
            grid.add_column(column)
        for index, row in enumerate(table.rows):
            grid.add_row(*map(Text, row), style="bold" if index in table.marked else None)
        if table.rows:
            console.print(grid)
        elif table.title:
            console.print(Text(table.title))
        for note in table.notes:
            console.print(Text(note))
