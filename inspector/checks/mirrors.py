"""``mirrors``: for every run image of a builder, does each mirror serve what a build
would pull from the run image? (verdicts: see ``verdict.py``)"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inspector.checks.evaluate import Evaluated, evaluate
from inspector.checks.verdict import Sync
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
        return (
            self.image.status is Status.AVAILABLE
            and self.image.in_sync is not False  # the run image itself broken
            and all(m.status is Status.AVAILABLE and m.in_sync for m in self.mirrors)
        )


@dataclass(frozen=True, slots=True)
class MirrorsReport:
    run_images: tuple[RunImageMirrors, ...]
    strict: bool = False
    deep: bool = False

    @property
    def in_sync(self) -> bool:
        return all(group.in_sync for group in self.run_images)

    @property
    def ok(self) -> bool:
        """No findings: every run image available and not broken, every mirror identical
        or equivalent (identical only, with ``strict``)."""
        return all(
            not e.finding(strict=self.strict)
            for g in self.run_images
            for e in (g.image, *g.mirrors)
        )

    def verdict(self) -> str:
        total = sum(len(g.mirrors) for g in self.run_images)
        mirrors = [m for g in self.run_images for m in g.mirrors]
        bad = [m for m in mirrors if m.finding(strict=self.strict)]
        images = [g.image for g in self.run_images]
        bad_images = [e for e in images if e.finding()]
        equivalent = sum(1 for m in mirrors if m.sync is Sync.EQUIVALENT)
        if not bad and not bad_images:
            text = f"OK: all {total} mirror(s) of {len(self.run_images)} run image(s) in sync"
            if equivalent:
                text += f" ({equivalent} equivalent: other index digest, same images)"
            return text
        parts = []
        if bad_images:
            parts.append(f"{len(bad_images)} run image(s) not available or broken")
        if bad:
            counts: dict[str, int] = {}
            for m in bad:
                word = m.sync.value if m.sync and m.status is Status.AVAILABLE else m.status.value
                if m.status is Status.AVAILABLE and m.sync is None:
                    word = "unverified"
                counts[word] = counts.get(word, 0) + 1
            detail = ", ".join(f"{n} {word}" for word, n in counts.items())
            parts.append(f"{len(bad)} of {total} mirror(s) not in sync ({detail})")
        return "FAIL: " + "; ".join(parts)


async def mirrors(
    client: RegistryClient,
    run_images: Sequence[RunImage],
    user_mirrors: Callable[[str], Sequence[str]],
    *,
    deep: bool = False,
    strict: bool = False,
) -> MirrorsReport:
    listed = candidates(run_images, user_mirrors, preferred="")
    evaluated = await evaluate(client, listed, deep=deep)
    groups = []
    for index in range(len(run_images)):
        mine = [e for e in evaluated if e.candidate.run_image_index == index]
        image = next(e for e in mine if e.candidate.source is Source.IMAGE)
        groups.append(RunImageMirrors(image, tuple(e for e in mine if e is not image)))
    return MirrorsReport(tuple(groups), strict, deep)
