"""Probe every candidate once and compare each with its run image.

Identical normalized references are probed once; all probes run concurrently, so the
whole evaluation costs about one round trip after the registries are pinged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from inspector.reference import Reference
from inspector.registry.client import RegistryClient, RegistryError
from inspector.registry.model import Probe, Status
from inspector.resolver import Candidate, Source


@dataclass(frozen=True, slots=True)
class PlatformDiff:
    """One platform of two indexes: the candidate's child digest and the run image's."""

    platform: str
    digest: str | None
    run_image_digest: str | None

    @property
    def in_sync(self) -> bool:
        return self.digest == self.run_image_digest


@dataclass(frozen=True, slots=True)
class Evaluated:
    """A candidate with what the registry said about it."""

    candidate: Candidate
    probe: Probe
    in_sync: bool | None  # None when either digest is unknown
    platforms: tuple[PlatformDiff, ...] = field(default=())

    @property
    def status(self) -> Status:
        return self.probe.status


async def probe_all(client: RegistryClient, refs: Iterable[Reference]) -> dict[str, Probe]:
    """Probe each distinct reference once, concurrently; keyed by normalized reference."""
    unique = {ref.normalized: ref for ref in refs}
    probes = await asyncio.gather(*(client.probe(ref) for ref in unique.values()))
    return dict(zip(unique, probes, strict=True))


def _unparsed(candidate: Candidate) -> Probe:
    return Probe(candidate.reference, Status.ERROR, detail=candidate.error)


async def evaluate(client: RegistryClient, candidates: Sequence[Candidate]) -> list[Evaluated]:
    probes = await probe_all(client, (c.ref for c in candidates if c.ref is not None))

    def probe_of(candidate: Candidate) -> Probe:
        if candidate.ref is None:
            return _unparsed(candidate)
        return probes[candidate.ref.normalized]

    images = {c.run_image_index: c for c in candidates if c.source is Source.IMAGE}
    results: list[Evaluated] = []
    diffs: dict[tuple[str, str], tuple[PlatformDiff, ...]] = {}
    for candidate in candidates:
        probe = probe_of(candidate)
        image = images[candidate.run_image_index]
        image_probe = probe_of(image)
        in_sync: bool | None = None
        platforms: tuple[PlatformDiff, ...] = ()
        if probe.digest and image_probe.digest:
            in_sync = probe.digest == image_probe.digest
            if not in_sync and _both_indexes(probe, image_probe):
                assert candidate.ref is not None and image.ref is not None
                key = (probe.digest, image_probe.digest)
                if key not in diffs:
                    diffs[key] = await platform_diff(client, candidate.ref, image.ref, key)
                platforms = diffs[key]
        results.append(Evaluated(candidate, probe, in_sync, platforms))
    return results


def _both_indexes(a: Probe, b: Probe) -> bool:
    from inspector.registry.client import INDEX_TYPES

    return a.media_type in INDEX_TYPES and b.media_type in INDEX_TYPES


async def platform_diff(
    client: RegistryClient, ref: Reference, image_ref: Reference, digests: tuple[str, str]
) -> tuple[PlatformDiff, ...]:
    """Which platforms of two different indexes differ (fetched by digest, so the
    comparison is of exactly what was probed)."""
    try:
        mine, theirs = await asyncio.gather(
            client.get_manifest(ref, digests[0]), client.get_manifest(image_ref, digests[1])
        )
        left, right = mine.platforms(), theirs.platforms()
    except RegistryError:
        return ()
    return tuple(
        PlatformDiff(platform, left.get(platform), right.get(platform))
        for platform in sorted(set(left) | set(right))
    )
