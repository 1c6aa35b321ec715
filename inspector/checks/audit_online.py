"""Online checks (``audit --online``): what the registries answered, as findings.

The caller probes :func:`references_to_probe` (the CLI through ``probe_references``) and
passes the probes in, so these checks stay pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from inspector.checks.audit_files import Loaded, raw_document
from inspector.checks.audit_locations import Spot, layout
from inspector.checks.audit_pack_config import user_entry
from inspector.checks.audit_references import parse_or_none, short
from inspector.checks.audit_rules import Finding
from inspector.registry.model import Probe, Status
from inspector.resolver import Source, candidates
from inspector.sources.model import Builder
from inspector.sources.pack_config import PackConfig
from inspector.sources.toml_positions import Locator, Position


def references_to_probe(
    builders: Sequence[Loaded[Builder]], user: Loaded[PackConfig] | None = None
) -> list[str]:
    """Every distinct, parseable candidate (normalized), in pack's order per builder."""
    config = user.value if user is not None else None
    user_mirrors = config.mirrors_for if config is not None else lambda _: ()
    found: dict[str, None] = {}
    for loaded in builders:
        if loaded.value is None:
            continue
        # No preferred registry: the order and the parsed references are all that is used.
        for candidate in candidates(loaded.value.run_images, user_mirrors, preferred=""):
            # pack consults user mirrors for the first run image only.
            if candidate.source is Source.USER_MIRROR and not candidate.selectable:
                continue
            if candidate.ref is not None:
                found.setdefault(candidate.ref.normalized)
    return list(found)


def findings_from_probes(
    builder: Loaded[Builder],
    probes: Mapping[str, Probe],
    user: Loaded[PackConfig] | None = None,
) -> list[Finding]:
    """Findings from what registries answered; ``probes`` is keyed by normalized reference.

    A reference without a probe is skipped. Each distinct reference is reported once per run
    image (repeats are already INS006/INS007 offline).
    """
    if builder.value is None:
        return []
    locator = Locator(builder.text or "")
    written = layout(builder.path, builder.value, locator, raw_document(builder.text))
    findings: list[Finding] = []
    for index, (run_image, spot) in enumerate(
        zip(builder.value.run_images, written.spots, strict=True)
    ):
        image = parse_or_none(run_image.image)
        if image is None:
            continue
        image_probe = probes.get(image.normalized)
        label = "run image" if index == 0 else f"run image #{index + 1}"
        image_at = spot.at(run_image.image, written.image_key)
        if image_probe is not None:
            findings.extend(_status(spot, image_at, label, run_image.image, image_probe))
        # In pack's order: the user's mirrors (first run image only), then the builder's.
        lists = [(run_image, spot, written.mirrors_key, "mirror")]
        effective = user_entry(user, run_image.image) if index == 0 and user is not None else None
        if effective is not None:
            entry, user_spot = effective
            lists.insert(0, (entry, user_spot, "mirrors", "user mirror"))
        for listed, where, key, what in lists:
            seen = {image.normalized}
            for mirror, at in zip(listed.mirrors, where.each(listed.mirrors, key), strict=True):
                ref = parse_or_none(mirror)
                if ref is None or ref.normalized in seen:
                    continue
                seen.add(ref.normalized)
                probe = probes.get(ref.normalized)
                if probe is None:
                    continue
                findings.extend(_status(where, at, what, mirror, probe))
                stale = _stale(probe, image_probe)
                if stale is not None:
                    findings.append(
                        where.finding(
                            "INS102",
                            at,
                            f"{what} {mirror} serves {short(stale[0])}, the run image "
                            f"{run_image.image} serves {short(stale[1])}",
                        )
                    )
    return findings


def _stale(probe: Probe, image_probe: Probe | None) -> tuple[str, str] | None:
    """The mirror's and the run image's digests, when both were found and differ."""
    if (
        probe.status is Status.AVAILABLE
        and image_probe is not None
        and image_probe.status is Status.AVAILABLE
        and probe.digest
        and image_probe.digest
        and probe.digest != image_probe.digest
    ):
        return probe.digest, image_probe.digest
    return None


def _status(spot: Spot, at: Position, what: str, text: str, probe: Probe) -> list[Finding]:
    code = f"HTTP {probe.http_status}" if probe.http_status is not None else "no answer"
    detail = f": {probe.detail}" if probe.detail else ""
    if probe.status is Status.MISSING:
        tail = (
            ""
            if what.startswith("run image")
            else "; pack still counts a 404 as readable, may pick it, and the pull then fails"
        )
        return [spot.finding("INS101", at, f"{what} {text} does not exist ({code}){tail}")]
    if probe.status is Status.UNAUTHORIZED:
        message = f"{what} {text}: access refused ({code}){detail}; pack skips it"
        return [spot.finding("INS103", at, message)]
    if probe.status is Status.UNREACHABLE:
        message = f"{what} {text}: registry unreachable{detail}; pack skips it"
        return [spot.finding("INS104", at, message)]
    if probe.status is Status.ERROR:
        return [spot.finding("INS104", at, f"{what} {text}: registry error ({code}){detail}")]
    return []
