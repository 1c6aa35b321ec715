"""JSON documents of the contract (``resolve``, ``builder``; later ``check`` and friends)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from inspector.resolver import Candidate, Resolution
from inspector.sources.model import Builder, Buildpack
from inspector.sources.pack_config import PackConfig

if TYPE_CHECKING:  # the check modules pull in httpx; offline commands never need it
    from inspector.checks.check import CheckReport
    from inspector.checks.evaluate import Evaluated
    from inspector.checks.mirrors import MirrorsReport
    from inspector.checks.preflight import PreflightReport
    from inspector.checks.pull_reference import PullCheck
    from inspector.checks.rebase import RebaseReport


def error(message: str) -> dict[str, Any]:
    """The document for bad input under ``--json`` (contract: "Output, errors in JSON");
    ``dump`` puts ``schema_version`` first."""
    return {"error": {"message": message}}


def dump(document: dict[str, Any], stream: TextIO | None = None, *, versioned: bool = True) -> None:
    """One JSON document on stdout, nothing else; ``schema_version`` first (not in SARIF,
    whose own schema names its version)."""
    stream = stream or sys.stdout
    if versioned and "schema_version" not in document:
        from inspector.formats.schema import SCHEMA_VERSION

        document = {"schema_version": SCHEMA_VERSION, **document}
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
        "selector": r.selector.value,
        "builder_image": r.builder_image,
        "selected": r.selected.reference,
        # What pack pulls for the pick: the pick through pack's [registry-mirrors].
        "pull_reference": r.pull_reference,
        **({"pull_error": r.pull_error} if r.pull_error else {}),
        # Not "error": that key is the bad-input document's (contract).
        **({"selection_error": r.error} if r.error else {}),
        "candidates": [candidate(c, r) for c in r.candidates],
    }


def buildpack(bp: Buildpack) -> dict[str, Any]:
    """pack's ``dist.ModuleInfo`` JSON (``id`` always, the rest ``omitempty``), plus the
    ``uri`` or ``image`` a builder.toml entry was given by (never folded into ``id``)."""
    document: dict[str, Any] = {"id": bp.id}
    for key in ("name", "version", "homepage", "uri", "image"):
        value = getattr(bp, key)
        if value:
            document[key] = value
    return document


def builder(b: Builder, pack_config: PackConfig) -> dict[str, Any]:
    """pack builder inspect's field names (``run_images: [{name, user_configured}]``,
    ``buildpacks``, ``stack``, ``lifecycle``, ``created_by``) plus inspector's own."""
    from inspector.formats.human import pack_run_images

    name, version = b.extras.get("created_by_name"), b.extras.get("created_by_version")
    return {
        "builder_name": b.image or b.source,
        "source": b.source,
        "description": b.description,
        "created_by": {"name": name, "version": version} if name or version else None,
        "stack": {"id": b.stack_id} if b.stack_id else None,
        "lifecycle": {"version": b.lifecycle_version},
        "run_images": [
            {"name": image, **({"user_configured": True} if user else {})}
            for image, user in pack_run_images(b, pack_config)
        ],
        "buildpacks": [buildpack(bp) for bp in b.buildpacks],
        "stack_id": b.stack_id,
        "build_image": b.build_image,
        "lifecycle_version": b.lifecycle_version,
        "pack_config": pack_config.path,
        # inspector's view: each run image with the user mirrors pack would try for it.
        "run_image_groups": [
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
    document["sync"] = e.sync.value if e.sync is not None else None
    document["platforms"] = [
        {
            "platform": p.platform,
            "digest": p.digest,
            "run_image_digest": p.run_image_digest,
            "state": p.state.value,
        }
        for p in e.platforms
    ]
    document["problems"] = [str(p) for p in e.problems]
    if e.notes:
        document["notes"] = list(e.notes)
    if e.unchecked:
        document["unchecked"] = list(e.unchecked)
    if e.pick_platform:
        document["verified_platform"] = e.pick_platform
        document["platform_found"] = e.pick_found
    return document


def check(report: CheckReport) -> dict[str, Any]:
    document = resolution(report.resolution)
    document["candidates"] = [
        {**candidate(e.candidate, report.resolution), **evaluated(e)} for e in report.results
    ]
    document["run_image_digest"] = report.run_image.probe.digest
    document["in_sync"] = report.in_sync
    document["ok"] = report.ok
    document["strict"] = report.strict
    document["deep"] = report.deep
    document["platform"] = report.platform
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
        "ok": report.ok,
        "strict": report.strict,
        "deep": report.deep,
        "verdict": report.verdict(),
    }


if TYPE_CHECKING:
    from inspector.checks.sync import SyncReport


def sync(report: SyncReport) -> dict[str, Any]:
    return {
        "mirrors": [
            {
                "run_image": r.run_image,
                "mirror": r.mirror,
                "normalized": r.normalized,
                "source": r.source.value,
                "state": r.state.value,
                "action": r.action.value,
                "bytes": r.bytes,
                "digest": r.digest,
                "previous_digest": r.previous_digest,
                "detail": r.detail,
                "method": r.method or None,
                "blobs": {
                    "total": r.blobs.total,
                    "present": r.blobs.present,
                    "mounted": r.blobs.mounted,
                    "uploaded": r.blobs.uploaded,
                },
                "manifests": r.manifests,
            }
            for r in report.results
        ],
        "dry_run": report.dry_run,
        "bytes": report.bytes,
        "ok": report.ok,
        "verdict": report.verdict(),
    }


def builder_detail(b: Builder, pack_config: PackConfig) -> dict[str, Any]:
    """``builder`` plus what a builder image adds, and each run image's match order."""
    document = builder(b, pack_config)
    document["image"] = b.image
    for key in ("platform", "digest", "manifest_digest"):
        if key in b.extras:
            document[key] = b.extras[key]
    for entry, run_image in zip(document["run_image_groups"], b.run_images, strict=True):
        order = [(m, "user-mirror") for m in pack_config.mirrors_for(run_image.image)]
        order.append((run_image.image, "image"))
        order.extend((m, "mirror") for m in run_image.mirrors)
        entry["match_order"] = [{"reference": r, "source": s} for r, s in order]
    if b.stack_run_image is not None:
        document["stack_run_image"] = {
            "image": b.stack_run_image.image,
            "mirrors": list(b.stack_run_image.mirrors),
        }
    if b.image:
        # The shape of `pack builder inspect --output json` for a builder read remotely.
        pack_keys = ("description", "created_by", "stack", "lifecycle", "run_images", "buildpacks")
        info = {key: document[key] for key in pack_keys if document[key] is not None}
        document["remote_info"] = info
        document["local_info"] = None
    return document


def preflight(report: PreflightReport) -> dict[str, Any]:
    return {
        "app_image": report.app_image.original,
        "app_registry": report.app_image.registry,
        "selected": report.check.selected.candidate.reference,
        "checks": [
            {"id": i.id, "name": i.name, "result": i.result.value, "reason": i.reason}
            for i in report.items
        ],
        "ok": report.ok,
        "verdict": report.verdict(),
        "push": {
            "allowed": report.push.allowed,
            "detail": report.push.detail,
            "http_status": report.push.http_status,
            "cancelled": report.push.cancelled,
        },
        "check": check(report.check),
    }


def rebase(report: RebaseReport) -> dict[str, Any]:
    """The ``check`` document plus the contract's rebase keys."""
    new = report.new_base
    document = check(report.check)
    document.update(
        {
            "app_digest": report.app.digest,
            "app_manifest_digest": report.app.manifest_digest,
            "platform": report.app.platform,
            "run_image_metadata": {
                "image": report.selectable.image,
                "mirrors": list(report.selectable.mirrors),
            },
            "current_base": report.current_base,
            "current_base_reference": report.metadata.reference or None,
            "current_top_layer": report.metadata.top_layer or None,
            "new_base": new.manifest_digest or new.digest,
            "new_base_digest": new.digest,
            "new_top_layer": new.top_layer,
            "rebase_needed": report.rebase_needed,
            "force_required": report.force_required,
            "force_reasons": list(report.force_reasons),
            "verdict": report.verdict(),
        }
    )
    if new.detail:
        document["new_base_detail"] = new.detail
    return document


def mark_finding(document: dict[str, Any]) -> dict[str, Any]:
    """A finding beside the report proper (a failed pull, missing attachments, an unknown
    key): ``ok`` and ``in_sync`` false where the document has them, so ``jq -e .in_sync``
    agrees with the exit code."""
    for key in ("ok", "in_sync"):
        if key in document:
            document[key] = False
    return document


def with_pull(document: dict[str, Any], p: PullCheck | None) -> dict[str, Any]:
    """``document`` with its ``pull`` check; a failed one (what the build really pulls is
    missing or other bits) makes ``ok``/``in_sync`` false and leads the ``verdict``, so
    ``jq -e .in_sync`` agrees with the exit code."""
    document["pull"] = pull(p)
    if p is not None and not p.ok:
        mark_finding(document)
        if "verdict" in document:
            document["verdict"] = f"{p.verdict()}; {document['verdict']}"
    return document


def pull(p: PullCheck | None) -> dict[str, Any] | None:
    """Where pack pulls its pick through [registry-mirrors], and what is there."""
    if p is None:
        return None
    document: dict[str, Any] = {
        "selected": p.selected,
        "pull_reference": p.reference,
        "ok": p.ok,
        "verdict": p.verdict(),
    }
    if p.error is not None:
        document["error"] = p.error
    if p.result is not None:
        document.update(evaluated(p.result))
        document["run_image_digest"] = p.run_image_digest
    return document
