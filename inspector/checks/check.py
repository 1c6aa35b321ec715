"""``check``: resolve, probe every candidate, compare digests, and judge pack's pick.

pack drops the candidates it cannot read before it picks (``filterImageList``), and its
access check counts any HTTP answer but 401/403 as readable — so it will pick a mirror
that answers 404. ``selected`` here is that pick; the verdict says plainly when the pick
is missing, unauthorized or stale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inspector.checks.evaluate import Evaluated, evaluate
from inspector.reference import Reference
from inspector.registry.client import RegistryClient
from inspector.registry.model import Status
from inspector.resolver import (
    Candidate,
    Mode,
    Resolution,
    Selector,
    candidates,
    lifecycle_error,
    no_user_mirrors,
    preferred_registry,
    select,
)
from inspector.sources.model import RunImage


@dataclass(frozen=True, slots=True)
class CheckReport:
    resolution: Resolution  # with pack's online pick marked
    results: tuple[Evaluated, ...]  # same order as resolution.candidates

    @property
    def selected(self) -> Evaluated:
        return next(r for r in self.results if r.candidate.selected)

    @property
    def run_image(self) -> Evaluated:
        return next(r for r in self.results if r.candidate is self.resolution.run_image)

    @property
    def in_sync(self) -> bool:
        """Every candidate is available and serves its run image's digest."""
        return all(r.status is Status.AVAILABLE and r.in_sync for r in self.results)

    @property
    def ok(self) -> bool:
        return self.in_sync

    def verdict(self) -> str:
        pick = self.selected
        name = pick.candidate.reference
        if pick.status is Status.MISSING:
            head = f"FAIL: pack would pick {name}, but it is missing: the build fails at pull"
        elif pick.status is not Status.AVAILABLE:
            detail = f" ({pick.probe.detail})" if pick.probe.detail else ""
            head = f"FAIL: pack would pick {name}, but it is {pick.status.value}{detail}"
        elif pick.in_sync is False:
            head = (
                f"FAIL: pack would pick {name}, but it is out of sync with "
                f"{pick.candidate.run_image}: the app would get other bits"
            )
        elif pick.in_sync is None:
            head = f"WARN: pack would pick {name}; the run image's digest is unknown"
        else:
            head = f"OK: pack would pick {name}: available and identical to the run image"
        others = [r for r in self.results if r is not pick and not _good(r)]
        if others:
            # The pick is fine but the run still has findings (exit 1): say so up front.
            head = head.replace("OK:", "WARN:", 1)
            head += f"; {len(others)} other candidate(s) missing, unreadable or stale"
        return head


def _good(result: Evaluated) -> bool:
    return result.status is Status.AVAILABLE and result.in_sync is not False


async def check(
    client: RegistryClient,
    app_image: Reference,
    run_images: Sequence[RunImage],
    user_mirrors: Callable[[str], Sequence[str]],
    *,
    mode: Mode = Mode.PUBLISH,
    builder_image: str | None = None,
    selector: Selector = Selector.PACK,
) -> CheckReport:
    preferred = preferred_registry(app_image, mode, builder_image, selector)
    if selector is Selector.LIFECYCLE:
        user_mirrors = no_user_mirrors  # lifecycle's rule knows nothing of pack's config
    listed = candidates(run_images, user_mirrors, preferred)
    evaluated = await evaluate(client, listed)
    probes = {r.candidate.rank: r.probe for r in evaluated}

    def readable(candidate: Candidate) -> bool:
        return probes[candidate.rank].readable_by_pack

    marked = select(listed, preferred, readable, selector)
    resolution = Resolution(
        app_image,
        mode,
        preferred,
        tuple(marked),
        builder_image=builder_image,
        selector=selector,
        error=lifecycle_error(marked),
    )
    results = tuple(
        Evaluated(c, r.probe, r.in_sync, r.platforms)
        for c, r in zip(marked, evaluated, strict=True)
    )
    return CheckReport(resolution, results)
