"""JSON documents of the contract (``resolve``, ``builder``; later ``check`` and friends)."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from inspector.resolver import Candidate, Resolution
from inspector.sources.model import Builder
from inspector.sources.pack_config import PackConfig


def dump(document: dict[str, Any], stream: TextIO | None = None) -> None:
    """One JSON document on stdout, nothing else."""
    stream = stream or sys.stdout
    json.dump(document, stream, indent=2)
    stream.write("\n")


def candidate(c: Candidate, resolution: Resolution) -> dict[str, Any]:
    return {
        "rank": c.rank,
        "reference": c.reference,
        "normalized": c.normalized,
        "registry": c.registry,
        "source": c.source.value,
        "run_image": c.run_image,
        "matches_app_registry": c.registry == resolution.app_image.registry,
        "matches_preferred_registry": c.matches_preferred,
        "selectable": c.selectable,
        "selected": c.selected,
        "readable": c.readable,
        "reason": c.reason,
        **({"error": c.error} if c.error else {}),
    }


def resolution(r: Resolution) -> dict[str, Any]:
    return {
        "app_image": r.app_image.original,
        "app_registry": r.app_image.registry,
        "preferred_registry": r.preferred_registry,
        "mode": r.mode.value,
        "selected": r.selected.reference,
        "candidates": [candidate(c, r) for c in r.candidates],
    }


def builder(b: Builder, pack_config: PackConfig) -> dict[str, Any]:
    return {
        "source": b.source,
        "description": b.description,
        "stack_id": b.stack_id,
        "build_image": b.build_image,
        "lifecycle_version": b.lifecycle_version,
        "buildpacks": [{"id": bp.id, "version": bp.version} for bp in b.buildpacks],
        "pack_config": pack_config.path,
        "run_images": [
            {
                "image": run_image.image,
                "user_mirrors": list(pack_config.mirrors_for(run_image.image)),
                "mirrors": list(run_image.mirrors),
                "selectable": index == 0,
            }
            for index, run_image in enumerate(b.run_images)
        ],
    }
