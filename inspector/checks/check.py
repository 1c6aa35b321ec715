"""``check``: resolve, probe every candidate, judge each by what a build would pull, and
judge pack's pick.

pack drops the candidates it cannot read before it picks (``filterImageList``), and its
access check counts any HTTP answer but 401/403 as readable — so it will pick a mirror
that answers 404. ``selected`` here is that pick; the verdict says plainly when the pick
is missing, unauthorized, partial, stale or broken. The pick is always verified down to
the blobs of the image manifest pack pulls for ``platform``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inspector.checks.evaluate import Evaluated, judge_all, probe_all
from inspector.checks.verdict import Sync
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
    strict: bool = False
    platform: str = "linux/amd64"
    deep: bool = False

    @property
    def selected(self) -> Evaluated:
        return next(r for r in self.results if r.candidate.selected)

    @property
    def run_image(self) -> Evaluated:
        return next(r for r in self.results if r.candidate is self.resolution.run_image)

    @property
    def in_sync(self) -> bool:
        """Every candidate is available and identical or equivalent to its run image."""
        return all(r.status is Status.AVAILABLE and r.in_sync for r in self.results)

    @property
    def ok(self) -> bool:
        return not any(r.finding(strict=self.strict) for r in self.results)

    def verdict(self) -> str:
        pick = self.selected
        name = pick.candidate.reference
        image = pick.candidate.run_image
        if pick.status is Status.MISSING:
            head = f"FAIL: pack would pick {name}, but it is missing: the build fails at pull"
        elif pick.status is not Status.AVAILABLE:
            detail = f" ({pick.probe.detail})" if pick.probe.detail else ""
            head = f"FAIL: pack would pick {name}, but it is {pick.status.value}{detail}"
        elif not pick.pick_found:
            head = (
                f"FAIL: pack would pick {name}, but it has no {self.platform} image: "
                f"a {self.platform} build fails at pull"
            )
        elif pick.sync is Sync.BROKEN:
            problem = pick.problems[0]
            head = f"FAIL: pack would pick {name}, but it is broken: {problem} ({problem.impact})"
            if len(pick.problems) > 1:
                head += f"; {len(pick.problems) - 1} more problem(s)"
        elif pick.sync is Sync.STALE:
            head = (
                f"FAIL: pack would pick {name}, but it is stale against {image}"
                f" ({'; '.join(pick.notes)}): the app would get other bits"
            )
        elif pick.sync is Sync.PARTIAL:
            head = f"FAIL: pack would pick {name}, but it is partial: {'; '.join(pick.notes)}"
            missing = [p.platform for p in pick.platforms if p.state.value == "missing"]
            if missing:
                head += f": builds for {', '.join(missing)} would fail"
        elif pick.sync is None:
            why = "; ".join(pick.unchecked or pick.notes) or "the run image's digest is unknown"
            head = f"WARN: pack would pick {name}; cannot tell whether it is in sync ({why})"
        elif pick.sync is Sync.EQUIVALENT:
            word = "FAIL" if self.strict else "OK"
            head = f"{word}: pack would pick {name}: equivalent to the run image ({pick.notes[0]})"
        else:
            head = (
                f"OK: pack would pick {name}: identical to the run image, "
                f"{self.platform} verified down to its blobs"
            )
        others = [r for r in self.results if r is not pick and r.finding(strict=self.strict)]
        if others:
            # The pick is fine but the run still has findings (exit 1): say so up front.
            head = head.replace("OK:", "WARN:", 1)
            head += f"; {len(others)} other candidate(s) missing, unreadable or not in sync"
        return head


async def check(
    client: RegistryClient,
    app_image: Reference,
    run_images: Sequence[RunImage],
    user_mirrors: Callable[[str], Sequence[str]],
    *,
    mode: Mode = Mode.PUBLISH,
    builder_image: str | None = None,
    selector: Selector = Selector.PACK,
    platform: str = "linux/amd64",
    deep: bool = False,
    strict: bool = False,
) -> CheckReport:
    preferred = preferred_registry(app_image, mode, builder_image, selector)
    if selector is Selector.LIFECYCLE:
        user_mirrors = no_user_mirrors  # lifecycle's rule knows nothing of pack's config
    listed = candidates(run_images, user_mirrors, preferred)
    probes = await probe_all(client, (c.ref for c in listed if c.ref is not None))

    def readable(candidate: Candidate) -> bool:
        if candidate.ref is None:
            return False
        return probes[candidate.ref.normalized].readable_by_pack

    marked = select(listed, preferred, readable, selector)
    pick = next(c.rank for c in marked if c.selected)
    results = await judge_all(client, marked, probes, deep=deep, pick=pick, platform=platform)
    resolution = Resolution(
        app_image,
        mode,
        preferred,
        tuple(marked),
        builder_image=builder_image,
        selector=selector,
        error=lifecycle_error(marked),
    )
    return CheckReport(resolution, tuple(results), strict, platform, deep)
