"""JSON documents of the contract (``resolve``, ``builder``; later ``check`` and friends)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from inspector.resolver import Candidate, Resolution
from inspector.sources.model import Builder
from inspector.sources.pack_config import PackConfig

if TYPE_CHECKING:  # the check modules pull in httpx; offline commands never need it
    from inspector.checks.check import CheckReport
    from inspector.checks.evaluate import Evaluated
    from inspector.checks.mirrors import MirrorsReport


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


def evaluated(e: Evaluated) -> dict[str, Any]:
    """Status, digest and sync of one probed reference (contract keys)."""
    document: dict[str, Any] = {
        "status": e.probe.status.value,
        "digest": e.probe.digest,
        "media_type": e.probe.media_type,
        "in_sync": e.in_sync,
    }
    if e.probe.detail:
        document["detail"] = e.probe.detail
    if e.probe.http_status is not None:
        document["http_status"] = e.probe.http_status
    if e.platforms:
        document["platforms"] = {
            p.platform: {
                "digest": p.digest,
                "run_image_digest": p.run_image_digest,
                "in_sync": p.in_sync,
            }
            for p in e.platforms
        }
    return document


def check(report: CheckReport) -> dict[str, Any]:
    document = resolution(report.resolution)
    document["candidates"] = [
        {**candidate(e.candidate, report.resolution), **evaluated(e)} for e in report.results
    ]
    document["run_image_digest"] = report.run_image.probe.digest
    document["in_sync"] = report.in_sync
    document["verdict"] = report.verdict()
    return document


def mirrors(report: MirrorsReport) -> dict[str, Any]:
    def entry(e: Evaluated) -> dict[str, Any]:
        return {
            "reference": e.candidate.reference,
            "normalized": e.candidate.normalized,
            "source": e.candidate.source.value,
            **evaluated(e),
        }

    return {
        "run_images": [
            {
                "image": group.image.candidate.reference,
                "normalized": group.image.candidate.normalized,
                **{k: v for k, v in evaluated(group.image).items() if k != "in_sync"},
                "mirrors": [entry(m) for m in group.mirrors],
                "in_sync": group.in_sync,
            }
            for group in report.run_images
        ],
        "in_sync": report.in_sync,
        "verdict": report.verdict(),
    }
