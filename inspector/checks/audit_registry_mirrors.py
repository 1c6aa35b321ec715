"""INS105 (``audit --online``): a registry mirror in pack's config lacks the run image.

pack selects a run image with an access check that does not translate, then pulls the
pick through ``[registry-mirrors]`` (``internal/name/name.go`` TranslateRegistry). For
every candidate pack may pick (the first run image's user mirrors, the image and its
mirrors), the translated location must hold the run image's bits; a missing, unreadable
or stale copy there is what the build would really get. Pure: the caller probes
:func:`references_to_probe` and passes the probes in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from inspector.checks.audit_files import Loaded
from inspector.checks.audit_locations import Spot
from inspector.checks.audit_references import short
from inspector.checks.audit_rules import Finding
from inspector.reference import ReferenceError, parse
from inspector.registry.model import Probe, Status
from inspector.resolver import candidates, translate
from inspector.sources.model import Builder
from inspector.sources.pack_config import PackConfig
from inspector.sources.toml_positions import Locator

RULE_ID = "INS105"


def _pulls(builder: Builder, config: PackConfig) -> Iterator[tuple[str, str, str, str]]:
    """(candidate, translated, mirror key, run image) for each candidate pack may pick
    whose pull a registry mirror redirects."""
    mirrors = config.registry_mirrors
    if not mirrors:
        return
    for candidate in candidates(builder.run_images, config.mirrors_for, preferred=""):
        if not candidate.selectable or candidate.ref is None:
            continue
        try:
            translated = translate(candidate.reference, mirrors)
        except ReferenceError:
            continue  # pack fails at pull; the translated name is no reference to probe
        if translated == candidate.reference:
            continue
        key = "*" if "*" in mirrors else candidate.ref.registry
        yield candidate.reference, translated, key, candidate.run_image


def references_to_probe(
    builders: Sequence[Loaded[Builder]], user: Loaded[PackConfig] | None
) -> list[str]:
    """The translated location of every candidate a registry mirror redirects."""
    if user is None or user.value is None:
        return []
    found: dict[str, None] = {}
    for loaded in builders:
        if loaded.value is not None:
            for _, translated, _, image in _pulls(loaded.value, user.value):
                found.setdefault(translated)
                found.setdefault(image)
    return list(found)


def findings(
    builders: Sequence[Loaded[Builder]],
    user: Loaded[PackConfig] | None,
    probes: Mapping[str, Probe],
) -> list[Finding]:
    """INS105 at the pack config's ``[registry-mirrors]`` entry, once per translated name."""
    if user is None or user.value is None or not user.value.registry_mirrors:
        return []
    mirrors = user.value.registry_mirrors
    spot = Spot(user.path, Locator(user.text or ""), "registry-mirrors", 0)
    reported: set[str] = set()
    result: list[Finding] = []
    for loaded in builders:
        if loaded.value is None:
            continue
        for candidate, translated, key, image in _pulls(loaded.value, user.value):
            if translated in reported:
                continue
            probe = probes.get(_normalized(translated))
            if probe is None:
                continue
            why = _problem(probe, probes.get(_normalized(image)))
            if why is None:
                continue
            reported.add(translated)
            message = (
                f"registry mirror {mirrors[key]} ({key!r}): pack pulls {candidate} as "
                f"{translated}, which {why}"
            )
            result.append(spot.finding(RULE_ID, spot.at(mirrors[key], key), message))
    return result


def _normalized(text: str) -> str:
    return parse(text).normalized


def _problem(probe: Probe, image_probe: Probe | None) -> str | None:
    code = f"HTTP {probe.http_status}" if probe.http_status is not None else "no answer"
    if probe.status is Status.MISSING:
        return f"does not exist ({code}): the build fails at pull"
    if probe.status is Status.UNAUTHORIZED:
        return f"refuses access ({code}): the build fails at pull"
    if probe.status is not Status.AVAILABLE:
        detail = f": {probe.detail}" if probe.detail else ""
        return f"cannot be read ({probe.status.value}{detail})"
    if (
        image_probe is not None
        and image_probe.status is Status.AVAILABLE
        and probe.digest
        and image_probe.digest
        and probe.digest != image_probe.digest
    ):
        return (
            f"serves {short(probe.digest)} where the run image serves "
            f"{short(image_probe.digest)}: the app would get other bits"
        )
    return None
