"""``mirrors``: for every run image of a builder, is each mirror present and identical?"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inspector.checks.evaluate import Evaluated, evaluate
from inspector.registry.client import RegistryClient
from inspector.registry.model import Status
from inspector.resolver import Source, candidates
from inspector.sources.model import RunImage


@dataclass(frozen=True, slots=True)
class RunImageMirrors:
    image: Evaluated
    mirrors: tuple[Evaluated, ...]

    @property
    def in_sync(self) -> bool:
        return self.image.status is Status.AVAILABLE and all(
            m.status is Status.AVAILABLE and m.in_sync for m in self.mirrors
        )


@dataclass(frozen=True, slots=True)
class MirrorsReport:
    run_images: tuple[RunImageMirrors, ...]

    @property
    def in_sync(self) -> bool:
        return all(group.in_sync for group in self.run_images)

    def verdict(self) -> str:
        total = sum(len(g.mirrors) for g in self.run_images)
        bad = [
            m
            for g in self.run_images
            for m in g.mirrors
            if m.status is not Status.AVAILABLE or m.in_sync is not True
        ]
        missing_images = [g for g in self.run_images if g.image.status is not Status.AVAILABLE]
        if not bad and not missing_images:
            return f"OK: all {total} mirror(s) of {len(self.run_images)} run image(s) in sync"
        parts = []
        if missing_images:
            parts.append(f"{len(missing_images)} run image(s) not available")
        if bad:
            parts.append(f"{len(bad)} of {total} mirror(s) missing, unreadable or stale")
        return "FAIL: " + ", ".join(parts)


async def mirrors(
    client: RegistryClient,
    run_images: Sequence[RunImage],
    user_mirrors: Callable[[str], Sequence[str]],
) -> MirrorsReport:
    listed = candidates(run_images, user_mirrors, preferred="")
    evaluated = await evaluate(client, listed)
    groups = []
    for index in range(len(run_images)):
        mine = [e for e in evaluated if e.candidate.run_image_index == index]
        image = next(e for e in mine if e.candidate.source is Source.IMAGE)
        groups.append(RunImageMirrors(image, tuple(e for e in mine if e is not image)))
    return MirrorsReport(tuple(groups))
