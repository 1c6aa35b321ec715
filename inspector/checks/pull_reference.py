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

from inspector.checks.evaluate import PlatformDiff, platform_diff
from inspector.reference import parse
from inspector.registry.client import INDEX_TYPES, RegistryClient
from inspector.registry.model import Probe, Status
from inspector.resolver import with_pull_reference

if TYPE_CHECKING:
    from inspector.checks.check import CheckReport


@dataclass(frozen=True, slots=True)
class PullCheck:
    """The pick, where pack pulls it, and what is there."""

    selected: str
    reference: str | None  # None when pack cannot translate the name (the build fails)
    error: str | None
    probe: Probe | None
    run_image: str
    run_image_digest: str | None
    in_sync: bool | None  # the pulled digest equals the run image's; None when unknown
    platforms: tuple[PlatformDiff, ...] = ()

    @property
    def ok(self) -> bool:
        if self.error is not None or self.probe is None:
            return self.error is None
        return self.probe.status is Status.AVAILABLE and self.in_sync is not False

    def verdict(self) -> str:
        if self.error is not None:
            return (
                f"FAIL: pack cannot pull {self.selected} through [registry-mirrors]: {self.error}"
            )
        assert self.probe is not None
        where = f"pack pulls {self.selected} as {self.reference} ([registry-mirrors])"
        if self.probe.status is Status.MISSING:
            return f"FAIL: {where}, and it is missing there: the build fails at pull"
        if self.probe.status is not Status.AVAILABLE:
            detail = f" ({self.probe.detail})" if self.probe.detail else ""
            return f"FAIL: {where}, but it is {self.probe.status.value}{detail}"
        if self.in_sync is False:
            differing = [p.platform for p in self.platforms if not p.in_sync]
            which = f" ({', '.join(differing)})" if differing else ""
            return (
                f"FAIL: {where}, but it is out of sync with {self.run_image}{which}: "
                "the app would get other bits"
            )
        if self.in_sync is None:
            return f"WARN: {where}; the run image's digest is unknown, so it is not compared"
        return f"OK: {where}: available and identical to the run image"


def annotate(report: CheckReport, registry_mirrors: Mapping[str, str] | None) -> CheckReport:
    """The report with ``resolution.pull_reference`` set (pure)."""
    return replace(report, resolution=with_pull_reference(report.resolution, registry_mirrors))


async def probe_pull(client: RegistryClient, report: CheckReport) -> PullCheck | None:
    """Probe the translated pull reference of an annotated report; None when pack pulls
    the pick as it is (no registry mirror applies), since the candidates' probe covers it."""
    resolution = report.resolution
    selected = resolution.selected.reference
    run_image = report.run_image
    run_digest = run_image.probe.digest
    if resolution.pull_error is not None:
        return PullCheck(
            selected, None, resolution.pull_error, None, run_image.candidate.reference,
            run_digest, None,
        )  # fmt: skip
    if resolution.pull_reference is None or resolution.pull_reference == selected:
        return None
    ref = parse(resolution.pull_reference)
    probe = await client.probe(ref)
    in_sync: bool | None = None
    platforms: tuple[PlatformDiff, ...] = ()
    if probe.digest and run_digest:
        in_sync = probe.digest == run_digest
        image_ref = run_image.candidate.ref
        both_indexes = probe.media_type in INDEX_TYPES and run_image.probe.media_type in INDEX_TYPES
        if not in_sync and both_indexes and image_ref is not None:
            platforms = await platform_diff(client, ref, image_ref, (probe.digest, run_digest))
    return PullCheck(
        selected,
        resolution.pull_reference,
        None,
        probe,
        run_image.candidate.reference,
        run_digest,
        in_sync,
        platforms,
    )
