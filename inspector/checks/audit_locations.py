"""Where an audit finding points: the table of a file that a run image or entry is written in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inspector.checks.audit_rules import Finding, rule
from inspector.sources.model import Builder
from inspector.sources.toml_positions import Locator, Position


def finding_at(rule_id: str, file: str, position: Position, message: str) -> Finding:
    return Finding(rule(rule_id), file, position.line, position.column, message)


@dataclass(frozen=True, slots=True)
class Spot:
    """One table of one file (the ``nth`` ``[table]``): where its keys and values are written."""

    file: str
    locator: Locator
    table: str
    nth: int

    def at(self, value: str, key: str, occurrence: int = 0) -> Position:
        return self.locator.value(value, self.table, self.nth, key, occurrence)

    def each(self, values: Sequence[str], key: str) -> list[Position]:
        """Positions of a list's items; a repeated item is found at its own occurrence."""
        return [self.at(value, key, values[:j].count(value)) for j, value in enumerate(values)]

    def key(self, name: str) -> Position:
        return self.locator.key(name, self.table, self.nth)

    def header(self) -> Position:
        return self.locator.header(self.table, self.nth) or Position(1)

    def finding(self, rule_id: str, position: Position, message: str) -> Finding:
        return finding_at(rule_id, self.file, position, message)


def where(position: Position, file: str | None = None) -> str:
    """A position for a message: ``file:line``, or ``line N`` within the finding's own file."""
    return f"{file}:{position.line}" if file else f"line {position.line}"


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a loaded builder wrote its run images."""

    spots: tuple[Spot, ...]  # one per run image, in order
    image_key: str
    mirrors_key: str


def layout(path: str, builder: Builder, locator: Locator, raw: Mapping[str, Any]) -> Layout:
    """``raw`` is the file's decoded TOML: it says which of the two shapes the builder uses."""
    run = raw.get("run")
    if isinstance(run, dict) and run.get("images"):
        spots = tuple(Spot(path, locator, "run.images", i) for i in range(len(builder.run_images)))
        return Layout(spots, "image", "mirrors")
    # Legacy shape: the one run image is [stack] run-image.
    return Layout((Spot(path, locator, "stack", 0),), "run-image", "run-image-mirrors")
