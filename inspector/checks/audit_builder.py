"""Offline checks of one builder config: its keys, its run images and mirrors, [stack]."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inspector.checks.audit_files import Loaded, load_failure, raw_document
from inspector.checks.audit_locations import Layout, Spot, layout
from inspector.checks.audit_pack_config import user_relations
from inspector.checks.audit_references import (
    DOCKER_HUB_ALIASES,
    Claims,
    alias,
    invalid,
    mirror_findings,
    parse_or_none,
)
from inspector.checks.audit_rules import Finding
from inspector.sources.model import Builder, RunImage
from inspector.sources.pack_config import PackConfig
from inspector.sources.toml_positions import Locator

# The keys pack's strict decoder knows in these tables; anything else is INS004.
_STACK_KEYS = frozenset({"id", "build-image", "run-image", "run-image-mirrors"})
_RUN_IMAGE_KEYS = frozenset({"image", "mirrors"})
_RUN_KEYS = frozenset({"images"})


def builder_findings(loaded: Loaded[Builder], user: Loaded[PackConfig] | None) -> list[Finding]:
    if loaded.value is None:
        return [load_failure(loaded, is_builder=True)]
    builder = loaded.value
    locator = Locator(loaded.text or "")
    raw = raw_document(loaded.text)
    written = layout(loaded.path, builder, locator, raw)
    findings = _unknown_keys(loaded.path, locator, raw)
    for index, (run_image, spot) in enumerate(zip(builder.run_images, written.spots, strict=True)):
        findings.extend(_run_image_findings(run_image, index, spot, written))
    if builder.stack_run_image is not None:
        stack = Spot(loaded.path, locator, "stack", 0)
        findings.extend(_stack_conflict(builder.run_images[0], builder.stack_run_image, stack))
    if user is not None and user.value is not None:
        findings.extend(user_relations(builder, written, user))
    return findings


def _run_image_findings(
    run_image: RunImage, index: int, spot: Spot, layout: Layout
) -> list[Finding]:
    findings: list[Finding] = []
    image_at = spot.at(run_image.image, layout.image_key)
    image = parse_or_none(run_image.image)
    label = "run image" if index == 0 else f"run image #{index + 1}"
    if image is None:
        findings.append(invalid(spot, image_at, label, run_image.image))
    else:
        if image.digest is None and image.tag == "latest":
            how = "uses :latest" if run_image.image.endswith(":latest") else "has no tag"
            findings.append(
                spot.finding(
                    "INS005",
                    image_at,
                    f"{label} {run_image.image} {how} and no digest: each build may get "
                    "another base image",
                )
            )
        if image.registry in DOCKER_HUB_ALIASES:
            findings.append(alias(spot, image_at, label, run_image.image, image))
    # The run image claims its registry first; user mirrors are checked in the pack config.
    claims: Claims | None = None
    if index == 0 and image is not None:
        claims = {image.registry: (run_image.image, image_at)}
    findings.extend(mirror_findings(run_image, image, spot, layout.mirrors_key, claims, "mirror"))
    if index > 0 and run_image.mirrors:
        findings.append(
            spot.finding(
                "INS016",
                spot.header(),
                f"{label} {run_image.image} has {len(run_image.mirrors)} mirror(s); pack "
                "selects only from the first run image, so they are never chosen",
            )
        )
    return findings


def _stack_conflict(run: RunImage, stack: RunImage, spot: Spot) -> list[Finding]:
    def norm(text: str) -> str:
        ref = parse_or_none(text)
        return ref.normalized if ref else text

    parts = []
    if norm(run.image) != norm(stack.image):
        parts.append(f"run-image {stack.image} vs {run.image}")
    if [norm(m) for m in run.mirrors] != [norm(m) for m in stack.mirrors]:
        parts.append(
            f"run-image-mirrors [{', '.join(stack.mirrors)}] vs [{', '.join(run.mirrors)}]"
        )
    if not parts:
        return []
    message = (
        f"[stack] disagrees with the first [[run.images]] ({'; '.join(parts)}): "
        "pack uses [[run.images]] and ignores [stack]"
    )
    return [spot.finding("INS011", spot.header(), message)]


def _unknown_keys(file: str, locator: Locator, raw: Mapping[str, Any]) -> list[Finding]:
    findings = []

    def check(table: object, known: frozenset[str], spot: Spot, label: str) -> None:
        if not isinstance(table, dict):
            return
        allowed = ", ".join(sorted(known))
        for key in table:
            if key not in known:
                message = f"{label}: unknown key {key!r} (pack knows {allowed})"
                findings.append(spot.finding("INS004", spot.key(key), message))

    run = raw.get("run")
    check(run, _RUN_KEYS, Spot(file, locator, "run", 0), "[run]")
    images = run.get("images") if isinstance(run, dict) else None
    for nth, entry in enumerate(images if isinstance(images, list) else []):
        spot = Spot(file, locator, "run.images", nth)
        check(entry, _RUN_IMAGE_KEYS, spot, f"[[run.images]] #{nth + 1}")
    check(raw.get("stack"), _STACK_KEYS, Spot(file, locator, "stack", 0), "[stack]")
    return findings
