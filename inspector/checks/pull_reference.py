"""Where pack really pulls its pick: through pack's ``[registry-mirrors]``, probed.

pack selects the run image with an access check that does *not* translate, then pulls
the pick from the translated location (``pkg/client/build.go:617``, ``pkg/image/
fetcher.go`` Fetch; ``internal/name/name.go`` TranslateRegistry). A translated copy
that is missing or holds other bits than the run image is what the build really gets,
so it is a finding of its own, separate from the candidates' checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from inspector.checks.evaluate import Evaluated, PlatformDiff, judge_all
from inspector.checks.verdict import Sync
from inspector.reference import parse
from inspector.registry.client import RegistryClient
from inspector.registry.model import Probe, Status
from inspector.resolver import Candidate, Source, with_pull_reference

if TYPE_CHECKING:
    from inspector.checks.check import CheckReport


@dataclass(frozen=True, slots=True)
class PullCheck:
    """The pick, where pack pulls it, and what is there (judged like any mirror: what a
    build would pull, verified down to the blobs of the build's platform)."""

    selected: str
    reference: str | None  # None when pack cannot translate the name (the build fails)
    error: str | None
    result: Evaluated | None
    run_image: str
    run_image_digest: str | None
    strict: bool = False

    @property
    def probe(self) -> Probe | None:
        return self.result.probe if self.result is not None else None

    @property
    def in_sync(self) -> bool | None:
        """The pulled copy is identical or equivalent to the run image; None when unknown."""
        return self.result.in_sync if self.result is not None else None

    @property
    def sync(self) -> Sync | None:
        return self.result.sync if self.result is not None else None

    @property
    def platforms(self) -> tuple[PlatformDiff, ...]:
        return self.result.platforms if self.result is not None else ()

    @property
    def ok(self) -> bool:
        if self.result is None:
            return self.error is None
        return not self.result.finding(strict=self.strict)

    def verdict(self) -> str:
        if self.error is not None:
            return (
                f"FAIL: pack cannot pull {self.selected} through [registry-mirrors]: {self.error}"
            )
        assert self.result is not None
        result = self.result
        where = f"pack pulls {self.selected} as {self.reference} ([registry-mirrors])"
        if result.status is Status.MISSING:
            return f"FAIL: {where}, and it is missing there: the build fails at pull"
        if result.status is not Status.AVAILABLE:
            detail = f" ({result.probe.detail})" if result.probe.detail else ""
            return f"FAIL: {where}, but it is {result.status.value}{detail}"
        if result.sync is None:
            why = "; ".join(result.unchecked or result.notes) or "the run image is unknown"
            return f"WARN: {where}; it could not be compared ({why})"
        words = [str(p) for p in result.problems] + [
            f"{p.platform}: {p.state.value}" for p in result.platforms if not p.in_sync
        ]
        which = f" ({'; '.join(words)})" if words else ""
        if not result.pick_found or not self.ok:
            return (
                f"FAIL: {where}, but it is {result.sync.value} against {self.run_image}{which}: "
                "the build would not get the run image's bits"
            )
        return f"OK: {where}: {result.sync.value} to the run image"


def annotate(report: CheckReport, registry_mirrors: Mapping[str, str] | None) -> CheckReport:
    """The report with ``resolution.pull_reference`` set (pure)."""
    return replace(report, resolution=with_pull_reference(report.resolution, registry_mirrors))


async def pulled(
    client: RegistryClient, report: CheckReport, registry_mirrors: Mapping[str, str] | None
) -> tuple[CheckReport, PullCheck | None]:
    """:func:`annotate`, then :func:`probe_pull`: the report with its pull reference, and
    what is there (for check, preflight and rebase alike)."""
    annotated = annotate(report, registry_mirrors)
    return annotated, await probe_pull(client, annotated)


async def probe_pull(client: RegistryClient, report: CheckReport) -> PullCheck | None:
    """Probe and judge the translated pull reference of an annotated report; None when
    pack pulls the pick as it is (no registry mirror applies), since the candidates'
    checks cover it."""
    resolution = report.resolution
    selected = resolution.selected.reference
    run_image = report.run_image
    run_digest = run_image.probe.digest
    if resolution.pull_error is not None:
        return PullCheck(
            selected, None, resolution.pull_error, None, run_image.candidate.reference,
            run_digest, report.strict,
        )  # fmt: skip
    if resolution.pull_reference is None or resolution.pull_reference == selected:
        return None
    ref = parse(resolution.pull_reference)
    pulled = Candidate(
        rank=0,  # not one of pack's candidates: a rank no candidate has
        reference=resolution.pull_reference,
        source=Source.MIRROR,
        run_image=run_image.candidate.run_image,
        run_image_index=run_image.candidate.run_image_index,
        ref=ref,
        error=None,
        matches_preferred=False,
    )
    probes = {ref.normalized: await client.probe(ref)}
    if run_image.candidate.ref is not None:
        probes[run_image.candidate.ref.normalized] = run_image.probe
    # What the build pulls from there is verified like pack's pick: down to the blobs
    # of the build platform's image.
    [judged] = await judge_all(
        client,
        [run_image.candidate, pulled],
        probes,
        deep=report.deep,
        pick=pulled.rank,
        platform=report.platform,
        only=[pulled],  # the run image itself was judged with the candidates already
    )
    return PullCheck(
        selected,
        resolution.pull_reference,
        None,
        judged,
        run_image.candidate.reference,
        run_digest,
        report.strict,
    )
