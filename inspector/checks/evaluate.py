"""Probe every candidate once, then judge each one by what a build would pull from it.

Identical normalized references are probed once (HEAD); all probes run concurrently.
Then, per run image: its index is read once (GET), every candidate with the same digest
shares its tree (content addressing) and only HEADs its children by digest; a candidate
with another digest has its own index read. ``deep`` also HEADs every config and layer
blob; the candidate pack picks (``pick``) is always verified down to the blobs of the
image manifest it would pull for the build's platform. See ``depth.py`` for the cost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from inspector.checks.depth import Depth, Unverifiable, pick_leaf
from inspector.checks.verdict import PlatformDiff, Problem, Sync, Tree, judge
from inspector.reference import Reference
from inspector.registry.client import RegistryClient
from inspector.registry.model import Probe, Status
from inspector.resolver import Candidate, Source

__all__ = ["Evaluated", "PlatformDiff", "Sync", "evaluate", "judge_all", "probe_all"]


@dataclass(frozen=True, slots=True)
class Evaluated:
    """A candidate with what the registry said about it and its verdict.

    ``sync`` is ``None`` when unknown (the candidate or its run image not available, or
    a child could not be checked: ``unchecked`` says which)."""

    candidate: Candidate
    probe: Probe
    sync: Sync | None = None
    platforms: tuple[PlatformDiff, ...] = ()
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = field(default=())
    pick_platform: str | None = None  # verified down to its blobs for this platform
    pick_found: bool = True  # False: pack's pick has no image for ``pick_platform``

    @property
    def status(self) -> Status:
        return self.probe.status

    @property
    def in_sync(self) -> bool | None:
        """``True`` exactly for identical and equivalent; ``None`` when unknown."""
        if self.sync is None:
            return None
        return self.sync in (Sync.IDENTICAL, Sync.EQUIVALENT)

    def finding(self, *, strict: bool = False) -> bool:
        """Missing, unreadable, partial, stale, broken (and equivalent under ``strict``)."""
        if self.status is not Status.AVAILABLE or self.sync is None or not self.pick_found:
            return True
        return not self.in_sync or (strict and self.sync is Sync.EQUIVALENT)


async def probe_all(client: RegistryClient, refs: Iterable[Reference]) -> dict[str, Probe]:
    """Probe each distinct reference once, concurrently; keyed by normalized reference."""
    unique = {ref.normalized: ref for ref in refs}
    probes = await asyncio.gather(*(client.probe(ref) for ref in unique.values()))
    return dict(zip(unique, probes, strict=True))


def _probe_of(candidate: Candidate, probes: Mapping[str, Probe]) -> Probe:
    if candidate.ref is None:
        return Probe(candidate.reference, Status.ERROR, detail=candidate.error)
    return probes[candidate.ref.normalized]


async def evaluate(
    client: RegistryClient, candidates: Sequence[Candidate], *, deep: bool = False
) -> list[Evaluated]:
    probes = await probe_all(client, (c.ref for c in candidates if c.ref is not None))
    return await judge_all(client, candidates, probes, deep=deep)


async def judge_all(
    client: RegistryClient,
    candidates: Sequence[Candidate],
    probes: Mapping[str, Probe],
    *,
    deep: bool = False,
    pick: int | None = None,
    platform: str = "linux/amd64",
    only: Sequence[Candidate] | None = None,
) -> list[Evaluated]:
    """Verdicts for ``candidates`` (same order), or for ``only`` those of them (the run
    images among ``candidates`` are still what they are compared with); ``pick`` is the
    rank of the candidate verified down to the blobs of its ``platform`` image."""
    depth = Depth(client, deep=deep)
    images = {c.run_image_index: c for c in candidates if c.source is Source.IMAGE}
    trees: dict[int, asyncio.Task[Tree]] = {}

    def run_tree(index: int, ref: Reference, probe: Probe) -> asyncio.Task[Tree]:
        if index not in trees:
            assert probe.digest is not None
            trees[index] = asyncio.ensure_future(depth.tree(ref, probe.digest, probe.media_type))
        return trees[index]

    async def one(candidate: Candidate) -> Evaluated:
        probe = _probe_of(candidate, probes)
        if probe.status is not Status.AVAILABLE or probe.digest is None or candidate.ref is None:
            return Evaluated(candidate, probe)
        image = images[candidate.run_image_index]
        image_probe = _probe_of(image, probes)
        if (
            image.ref is None
            or image_probe.status is not Status.AVAILABLE
            or not image_probe.digest
        ):
            return Evaluated(candidate, probe, notes=("the run image is not available",))
        picked = candidate.rank == pick
        try:
            run = await asyncio.shield(run_tree(candidate.run_image_index, image.ref, image_probe))
            if probe.digest == image_probe.digest:
                mine = run
            else:
                mine = await depth.tree(candidate.ref, probe.digest, probe.media_type)
            problems, unchecked = await depth.verify(candidate.ref, mine, source=image.ref)
            notes: list[str] = []
            found = True
            if picked:
                leaf = pick_leaf(mine, platform)
                if leaf is None:
                    found = False
                    notes.append(f"no {platform} image: a {platform} build fails at pull")
                else:
                    # Read from the pick itself: that GET is the one pack makes.
                    more, not_checked = await depth.verify(
                        candidate.ref, mine, source=candidate.ref, deep=True, leaves=[leaf]
                    )
                    problems += [p for p in more if p not in problems]
                    unchecked += not_checked
        except Unverifiable as error:
            return Evaluated(candidate, probe, unchecked=(str(error),))
        verdict = judge(run, mine, problems)
        sync: Sync | None = verdict.sync
        if unchecked and not problems:
            sync = None  # not provably fine, not provably broken
        return Evaluated(
            candidate,
            probe,
            sync,
            verdict.platforms,
            verdict.problems,
            (*verdict.notes, *notes),
            tuple(dict.fromkeys(unchecked)),
            platform if picked else None,
            found,
        )

    return list(await asyncio.gather(*(one(c) for c in (candidates if only is None else only))))
