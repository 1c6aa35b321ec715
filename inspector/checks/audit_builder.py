"""Offline checks of one builder config: its keys, its run images and mirrors, [stack]."""

from __future__ import annotations

from inspector.checks.audit_files import Loaded, load_failure, raw_document
from inspector.checks.audit_locations import Layout, Spot, finding_at, layout
from inspector.checks.audit_pack_config import user_relations
from inspector.checks.audit_references import (
    Claims,
    invalid,
    mirror_findings,
    parse_or_none,
)
from inspector.checks.audit_rules import Finding
from inspector.resolver import no_user_mirrors, pick_per_registry
from inspector.sources.model import Builder, RunImage
from inspector.sources.pack_config import PackConfig
from inspector.sources.toml_positions import Locator, Position


def builder_findings(loaded: Loaded[Builder], user: Loaded[PackConfig] | None) -> list[Finding]:
    if loaded.value is None:
        return [load_failure(loaded, is_builder=True)]
    builder = loaded.value
    locator = Locator(loaded.text or "")
    raw = raw_document(loaded.text)
    written = layout(loaded.path, builder, locator, raw)
    findings = _unknown_keys(loaded.path, builder)
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
        if image.digest is not None and index == 0:
            findings.append(
                spot.finding(
                    "INS017",
                    image_at,
                    f"{label} {run_image.image} is pinned by digest: `pack rebase` finds "
                    "the same image again and never brings OS patches; a tag lets it",
                )
            )
    # What pack picks on each registry (the resolver's rule); user mirrors are checked in
    # the pack config (INS012).
    claims: Claims | None = None
    if index == 0 and image is not None:
        positions = [image_at, *spot.each(run_image.mirrors, layout.mirrors_key)]
        claims = {
            registry: (pick.reference, positions[pick.rank - 1])
            for registry, pick in pick_per_registry([run_image], no_user_mirrors).items()
        }
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


def _unknown_keys(file: str, builder: Builder) -> list[Finding]:
    findings = []
    for unknown in builder.unknown_keys:
        hint = unknown.suggestion()
        meant = f"; did you mean {hint!r}?" if hint else ""
        message = f"{unknown.describe()}: `pack builder create` rejects the file{meant}"
        findings.append(finding_at("INS004", file, Position(unknown.line, unknown.column), message))
    return findings
