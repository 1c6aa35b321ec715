"""Checks of image references as written: one reference on its own (INS001 invalid, INS015
Docker Hub alias for a mirror) and a list of mirrors against its run image (INS006 to
INS010)."""

from __future__ import annotations

from inspector.checks.audit_locations import Spot, where
from inspector.checks.audit_rules import Finding
from inspector.reference import Reference, ReferenceError, parse
from inspector.sources.model import RunImage
from inspector.sources.toml_positions import Position

DOCKER_HUB_ALIASES = frozenset({"registry-1.docker.io", "registry.hub.docker.com"})

# The candidate pack picks on each registry (resolver.pick_per_registry):
# registry -> (reference as written, position).
Claims = dict[str, tuple[str, Position]]


def parse_or_none(text: str) -> Reference | None:
    """``None`` for a reference pack cannot parse; it is reported once, as INS001."""
    try:
        return parse(text)
    except ReferenceError:
        return None


def short(digest: str) -> str:
    algorithm, _, hex_part = digest.partition(":")
    return f"{algorithm}:{hex_part[:12]}"


def invalid(spot: Spot, position: Position, what: str, text: str) -> Finding:
    try:
        parse(text)
    except ReferenceError as error:
        # "invalid reference 'X': why" -> "why"; the finding names the value already.
        why = str(error).removeprefix(f"invalid reference {text!r}: ")
        return spot.finding("INS001", position, f"{what} {text!r}: {why}")
    raise AssertionError("only called for references that do not parse")


def alias(spot: Spot, at: Position, label: str, text: str, ref: Reference) -> Finding:
    return spot.finding(
        "INS015",
        at,
        f"{label} {text}: {ref.registry} is Docker Hub, but pack compares registries as "
        "written, so an app on Docker Hub (index.docker.io) never selects it; write "
        f"docker.io{ref.normalized.removeprefix(ref.registry)}",
    )


def mirror_findings(
    run_image: RunImage,
    image: Reference | None,
    spot: Spot,
    key: str,
    claims: Claims | None,
    label: str,
) -> list[Finding]:
    """Checks of one mirror list against its image. ``claims=None``: skip shadowing (a mirror
    that is not its registry's pick is INS008)."""
    findings: list[Finding] = []
    seen: dict[str, Position] = {}
    for mirror, at in zip(run_image.mirrors, spot.each(run_image.mirrors, key), strict=True):
        ref = parse_or_none(mirror)
        if ref is None:
            findings.append(invalid(spot, at, label, mirror))
            continue
        if ref.registry in DOCKER_HUB_ALIASES:
            findings.append(alias(spot, at, label, mirror, ref))
        if image is not None and ref.normalized == image.normalized:
            findings.append(
                spot.finding(
                    "INS007",
                    at,
                    f"{label} {mirror} is the run image {run_image.image} itself "
                    f"({ref.normalized})",
                )
            )
            continue
        if ref.normalized in seen:
            findings.append(
                spot.finding(
                    "INS006",
                    at,
                    f"{label} {mirror} is listed already ({ref.normalized}, "
                    f"{where(seen[ref.normalized])})",
                )
            )
            continue
        seen[ref.normalized] = at
        if claims is not None:
            first, first_at = claims.get(ref.registry, (mirror, at))
            if first_at != at:
                findings.append(
                    spot.finding(
                        "INS008",
                        at,
                        f"{label} {mirror}: {first} ({where(first_at)}) comes first on "
                        f"{ref.registry}, so pack falls back to this one only when that one "
                        "is unreadable",
                    )
                )
        if image is not None:
            drift = _tag_drift(image, ref)
            if drift:
                findings.append(spot.finding("INS009", at, f"{label} {mirror}: {drift}"))
            name, image_name = _image_name(ref), _image_name(image)
            if name != image_name:
                findings.append(
                    spot.finding(
                        "INS010",
                        at,
                        f"{label} {mirror}: image name {name} differs from {image_name} "
                        f"of the run image {run_image.image} (repository {ref.repository})",
                    )
                )
    return findings


def _image_name(ref: Reference) -> str:
    """The last component of the repository path: namespaces differ across registries."""
    return ref.repository.rpartition("/")[2]


def _tag_drift(image: Reference, mirror: Reference) -> str | None:
    if image.digest and mirror.digest:
        if image.digest == mirror.digest:
            return None
        return f"digest {short(mirror.digest)} differs from the run image's {short(image.digest)}"
    if image.digest:
        return f"only tag :{mirror.tag}, but the run image is pinned to {short(image.digest)}"
    if mirror.digest:
        return f"pinned to {short(mirror.digest)}, but the run image only to tag :{image.tag}"
    if image.tag != mirror.tag:
        return f"tag :{mirror.tag} differs from the run image's :{image.tag}"
    return None
