"""``--format`` / ``--json`` / ``--color``: which renderer a command's report goes to.

A command chooses the format before it does any work (a format it does not offer is bad
input, exit 2, before a registry is asked anything), then hands :func:`emit` one callable
per format; only the chosen one runs, so only its renderer is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from inspector.formats.table import ColorMode, Table

# Commands whose findings have a place in a builder.toml, so SARIF means something.
SARIF_COMMANDS = frozenset({"check", "mirrors", "preflight", "audit"})


@dataclass(frozen=True, slots=True)
class Output:
    format: str  # table | json | sarif
    color: ColorMode


def choose(values: Mapping[str, Any], command: str) -> Output:
    """The output format of a command's options (``--json`` is ``--format json``)."""
    chosen: str | None = values.get("output_format")
    if values.get("as_json"):
        if chosen not in (None, "json"):
            raise click.UsageError(f"--json and --format {chosen} exclude each other")
        chosen = "json"
    chosen = chosen or "table"
    if chosen == "sarif" and command not in SARIF_COMMANDS:
        offered = ", ".join(sorted(SARIF_COMMANDS))
        raise click.UsageError(
            f"--format sarif: {command} has no findings to locate (SARIF: {offered})"
        )
    color: ColorMode = values.get("color") or "auto"
    return Output(chosen, color)


def emit(
    output: Output,
    *,
    tables: Callable[[], Sequence[Table]],
    document: Callable[[], dict[str, Any]],
    sarif: Callable[[], dict[str, Any]] | None = None,
) -> None:
    """Render the report in the chosen format on stdout."""
    if output.format == "table":
        from inspector.formats import table

        table.render(tables(), color=output.color)
        return
    from inspector.formats import json

    if output.format == "sarif":
        assert sarif is not None, "choose() lets sarif through only for SARIF commands"
        json.dump(sarif(), versioned=False)
    else:
        json.dump(document())


def emit_report(
    output: Output,
    command: str,
    report: Any,
    builder_config: str | None,
    *,
    more_tables: Callable[[], Sequence[Table]] | None = None,
    more_document: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """A ``check``/``mirrors``/``preflight`` report, rendered by the function of the
    command's name in ``formats.human``, ``formats.json`` or ``formats.sarif_reports``
    (findings located in ``builder_config`` when the builder came from a file).
    ``more_tables`` follow the report's tables; ``more_document`` adds to its JSON."""

    def tables() -> Any:
        from inspector.formats import human

        made = list(getattr(human, command)(report))
        return [*made, *more_tables()] if more_tables else made

    def document() -> Any:
        from inspector.formats import json

        made = getattr(json, command)(report)
        return more_document(made) if more_document else made

    def sarif() -> Any:
        from inspector.formats import sarif_reports

        return getattr(sarif_reports, command)(report, builder_config)

    emit(output, tables=tables, document=document, sarif=sarif)
