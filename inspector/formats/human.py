"""Tables and verdict lines for people; the data comes in finished."""

from __future__ import annotations

from inspector.formats.table import Table
from inspector.resolver import Resolution
from inspector.sources.model import Builder
from inspector.sources.pack_config import PackConfig


def resolution(r: Resolution) -> list[Table]:
    rows = []
    for c in r.candidates:
        rows.append(
            [
                str(c.rank),
                c.reference,
                c.source.value,
                c.registry or "-",
                "yes" if c.matches_preferred else "no",
                "<- selected" if c.selected else "",
                c.reason,
            ]
        )
    title = (
        f"Run image for {r.app_image.original} "
        f"({r.mode.value} mode, preferred registry {r.preferred_registry})"
    )
    return [
        Table(
            title,
            ["#", "reference", "source", "registry", "preferred", "selected", "reason"],
            rows,
            marked=frozenset(i for i, c in enumerate(r.candidates) if c.selected),
            notes=[f"pack would use {r.selected.reference} ({r.selected.reason})"],
        )
    ]


def builder(b: Builder, pack_config: PackConfig) -> list[Table]:
    facts = [
        ("Source", b.source),
        ("Description", b.description or "-"),
        ("Stack", b.stack_id or "-"),
        ("Lifecycle", b.lifecycle_version or "-"),
    ]
    if b.buildpacks:
        facts.append(("Buildpacks", ", ".join(f"{bp.id}@{bp.version}" for bp in b.buildpacks)))
    tables = [Table("Builder", ["field", "value"], [list(f) for f in facts])]
    for index, run_image in enumerate(b.run_images):
        user = pack_config.mirrors_for(run_image.image)
        rows = [[m, "user-mirror (pack config)"] for m in user]
        rows.append([run_image.image, "image"])
        rows.extend([m, "mirror"] for m in run_image.mirrors)
        note = [] if index == 0 else ["pack only selects from the first run image"]
        title = f"Run image #{index + 1} (match order)"
        tables.append(Table(title, ["reference", "source"], rows, notes=note))
    return tables
