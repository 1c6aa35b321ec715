"""Keys of a builder.toml that pack rejects: named on stderr by every command, and a
finding for the commands that check run images (a misspelt ``mirror`` means the mirrors
the user meant are not the ones being checked)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click

from inspector.sources.model import Builder


def announce(builder: Builder) -> None:
    """One line on stderr per unknown key: ``file:line``, the key, what it probably means."""
    for unknown in builder.unknown_keys:
        hint = unknown.suggestion()
        meant = f" (did you mean {hint!r}?)" if hint else ""
        effect = (
            "; inspector ignores it, so what it lists is not checked"
            if unknown.in_run_image_section
            else ""
        )
        click.echo(
            f"inspector: warning: {builder.source}:{unknown.line}: {unknown.describe()}{meant}: "
            f"pack rejects this file{effect}",
            err=True,
        )


def findings(builders: Iterable[Builder]) -> int:
    """Unknown keys in the run-image sections ([run], [[run.images]], [stack])."""
    return sum(1 for b in builders for key in b.unknown_keys if key.in_run_image_section)


def exit_code(ok: bool, builders: Iterable[Builder]) -> int:
    """1 when the report has findings or a run-image section has an unknown key."""
    count = findings(builders)
    if count:
        click.echo(
            f"inspector: {count} unknown key(s) in run-image sections of the builder config "
            "count as finding(s): exit 1",
            err=True,
        )
    return 0 if ok and not count else 1


def annotate(document: dict[str, Any], builders: Iterable[Builder]) -> dict[str, Any]:
    """``document`` (a JSON report) with ``unknown_keys`` listed; one in a run-image section
    makes ``in_sync`` and ``ok`` false, so ``jq -e .in_sync`` agrees with the exit code."""
    listed = [
        {
            "file": builder.source,
            "line": key.line,
            "column": key.column,
            "key": key.key,
            "where": key.describe(),
            "run_image_section": key.in_run_image_section,
        }
        for builder in builders
        for key in builder.unknown_keys
    ]
    document["unknown_keys"] = listed
    if any(entry["run_image_section"] for entry in listed):
        from inspector.formats.json import mark_finding

        mark_finding(document)
    return document
