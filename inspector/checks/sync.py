"""``sync``: make every mirror that is not ``identical`` serve the run image's exact digest,
with everything it references present.

Which mirrors need work comes from :func:`inspector.checks.mirrors.mirrors` (verdicts, see
``verdict.py``): everything but ``identical`` is copied, and a ``broken`` mirror (children
or blobs missing) is repaired even when its top-level digest already matches. For each
such mirror the copy is faithful and ordered so that the mirror's tag is the last thing
to change:

1. every config and layer blob the target lacks (HEAD decides): cross-repository mount on
   the same registry — confirmed by a HEAD, since distribution answers 201 for a mount it
   did not link (a sha512 blob), with an upload as the fallback — or a streamed upload
   across registries;
2. every child manifest of an index the target lacks, by digest, byte for byte (a child
   listed twice is copied once);
3. the top manifest by digest, then by the mirror's tag;
4. a fresh probe of the mirror must answer the run image's digest, and every blob and
   manifest that was lacking must now be there (HEAD).

A failure at any step leaves the tag where it was (what was written is untagged content
the registry's garbage collection can reclaim) and the next mirror is still tried.
Mirrors are synced one after another, blobs of one mirror concurrently (bounded).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from inspector.checks.evaluate import Evaluated
from inspector.checks.image_tree import ImageTree, load_tree
from inspector.checks.mirrors import MirrorsReport
from inspector.checks.tasks import gather_all
from inspector.checks.verdict import Sync
from inspector.errors import InputError
from inspector.reference import Reference, ReferenceError, parse
from inspector.registry import push
from inspector.registry.client import Manifest, RegistryClient, RegistryError
from inspector.registry.model import Status
from inspector.resolver import Source, candidates
from inspector.sources.model import RunImage


class State(StrEnum):
    """What the mirror looked like before the sync."""

    IN_SYNC = "in-sync"  # identical: nothing to do
    MISSING = "missing"
    STALE = "stale"
    EQUIVALENT = "equivalent"  # same images, another index: the tag moves to the run image's
    PARTIAL = "partial"
    BROKEN = "broken"  # children or blobs missing: repaired in place
    UNAUTHORIZED = "unauthorized"  # 401/403 on read: a push may still be allowed, try it
    ERROR = "error"  # an unusable answer (e.g. HTTP 500): try the copy, it may fix it
    UNREACHABLE = "unreachable"
    INVALID = "invalid"  # the reference does not parse


class Action(StrEnum):
    COPIED = "copied"
    UP_TO_DATE = "up-to-date"
    PLANNED = "planned"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class BlobCounts:
    total: int = 0
    present: int = 0  # already on the target: skipped
    mounted: int = 0
    uploaded: int = 0


@dataclass(frozen=True, slots=True)
class MirrorSync:
    """One mirror's outcome. ``bytes`` is the size of the blobs the target lacked: copied
    (uploaded or mounted), or to be copied in a plan. ``digest`` is the run image's digest,
    which the mirror now serves (or would serve)."""

    run_image: str
    mirror: str
    normalized: str | None
    source: Source
    state: State
    action: Action
    bytes: int = 0
    digest: str | None = None
    previous_digest: str | None = None
    detail: str = ""
    blobs: BlobCounts = field(default_factory=BlobCounts)
    manifests: int = 0  # manifests PUT (or to PUT), tag included
    method: str = ""  # "mount" or "upload": how lacking blobs travel


@dataclass(frozen=True, slots=True)
class SyncReport:
    results: tuple[MirrorSync, ...]
    dry_run: bool

    @property
    def ok(self) -> bool:
        return all(r.action is not Action.FAILED for r in self.results)

    @property
    def bytes(self) -> int:
        return sum(r.bytes for r in self.results)

    def count(self, action: Action) -> int:
        return sum(1 for r in self.results if r.action is action)

    def verdict(self) -> str:
        if not self.results:
            return "Nothing to do: the builder's run images have no mirrors"
        failed, total = self.count(Action.FAILED), len(self.results)
        current = self.count(Action.UP_TO_DATE)
        if current == total:
            return f"Nothing to do: all {total} mirror(s) are up to date"
        size = human_size(self.bytes)
        if self.dry_run:
            text = (
                f"Plan: copy {self.count(Action.PLANNED)} mirror(s), {size} of blobs to move; "
                f"{current} up to date"
            )
            if failed:
                text += f"; {failed} cannot be synced"
            return text + ". Nothing was written (--dry-run)."
        copied = self.count(Action.COPIED)
        text = f"copied {copied} mirror(s) ({size}), {current} up to date"
        return f"FAIL: {failed} of {total} mirror(s) failed; {text}" if failed else f"OK: {text}"


def human_size(count: int) -> str:
    """Decimal units, as registries and docker report sizes."""
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{count} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


# -- progress --------------------------------------------------------------------------------


class Task(Protocol):
    def advance(self, count: int) -> None: ...
    def done(self) -> None: ...


class Progress(Protocol):
    """Where byte counts go while copying (the CLI shows a bar on a terminal)."""

    def task(self, description: str, total: int) -> Task: ...


class _Silent:
    def task(self, description: str, total: int) -> _Silent:
        return self

    def advance(self, count: int) -> None:
        pass

    def done(self) -> None:
        pass


# -- choosing mirrors ------------------------------------------------------------------------


def check_only(
    run_images: Sequence[RunImage],
    user_mirrors: Callable[[str], Sequence[str]],
    only: Sequence[str],
) -> None:
    """Every ``--only`` value must name a mirror, as written or normalized (bad input else)."""
    mirrors = [c for c in candidates(run_images, user_mirrors, "") if c.source is not Source.IMAGE]
    for value in only:
        if not any(matches(value, c.reference, c.normalized) for c in mirrors):
            listed = ", ".join(dict.fromkeys(c.reference for c in mirrors)) or "none"
            raise InputError(f"--only {value!r}: not a mirror of the builder (mirrors: {listed})")


def matches(value: str, reference: str, normalized: str | None) -> bool:
    """``value`` (an ``--only`` word) names this mirror: as written, or normalized."""
    if value == reference:
        return True
    try:
        return normalized is not None and parse(value).normalized == normalized
    except ReferenceError:
        return False


def _state(mirror: Evaluated) -> State:
    status = mirror.probe.status
    if mirror.candidate.ref is None:
        return State.INVALID
    if status is Status.AVAILABLE:
        return {
            Sync.IDENTICAL: State.IN_SYNC,
            Sync.EQUIVALENT: State.EQUIVALENT,
            Sync.PARTIAL: State.PARTIAL,
            Sync.BROKEN: State.BROKEN,
        }.get(mirror.sync, State.STALE)  # type: ignore[arg-type]
    if status is Status.MISSING:
        return State.MISSING
    if status is Status.UNREACHABLE:
        return State.UNREACHABLE
    return State.UNAUTHORIZED if status is Status.UNAUTHORIZED else State.ERROR


# -- one mirror --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    run_image: Evaluated
    mirror: Evaluated
    state: State

    def result(self, action: Action, **values: Any) -> MirrorSync:
        return MirrorSync(
            run_image=self.run_image.candidate.reference,
            mirror=self.mirror.candidate.reference,
            normalized=self.mirror.candidate.normalized,
            source=self.mirror.candidate.source,
            state=self.state,
            action=action,
            previous_digest=self.mirror.probe.digest,
            **values,
        )


class _Copier:
    def __init__(
        self, client: RegistryClient, progress: Progress, transfers: int, dry_run: bool
    ) -> None:
        self.client = client
        self.progress = progress
        self.slots = asyncio.Semaphore(transfers)
        self.dry_run = dry_run

    async def lacking(self, target: Reference, tree: ImageTree) -> list[push.Blob]:
        present = await gather_all(
            *(push.blob_exists(self.client, target, b.digest) for b in tree.blobs)
        )
        return [b for b, there in zip(tree.blobs, present, strict=True) if not there]

    async def missing_manifests(self, target: Reference, tree: ImageTree) -> list[Manifest]:
        wanted = [*tree.children, tree.top]
        present = await gather_all(
            *(push.manifest_exists(self.client, target, m.digest) for m in wanted)
        )
        return [m for m, there in zip(wanted, present, strict=True) if not there]

    async def run(self, job: _Job, source: Reference, tree: ImageTree) -> MirrorSync:
        target = job.mirror.candidate.ref
        assert target is not None
        method = "mount" if push.same_registry_of(source, target) else "upload"
        try:
            lacking = await self.lacking(target, tree)
            manifests = await self.missing_manifests(target, tree)
        except RegistryError as error:
            if not self.dry_run:
                return job.result(Action.FAILED, digest=tree.top.digest, detail=error.detail)
            # Cannot look: plan for the worst, and say why.
            lacking, manifests = list(tree.blobs), [*tree.children, tree.top]
            note = f"; cannot read the target ({error.detail}), counting every blob"
        else:
            note = ""
        size = sum(b.size for b in lacking)
        puts = len(manifests) + (1 if target.tag else 0)
        counts = BlobCounts(total=len(tree.blobs), present=len(tree.blobs) - len(lacking))
        common = {"digest": tree.top.digest, "method": method, "manifests": puts}
        if self.dry_run:
            detail = (
                f"{_repair(job.mirror)}{len(lacking)} of {len(tree.blobs)} blob(s) to {method}, "
                f"{puts} manifest PUT(s){note}"
            )
            return job.result(Action.PLANNED, bytes=size, blobs=counts, detail=detail, **common)
        task = self.progress.task(target.original, size) if size else _Silent()
        try:
            moved = await gather_all(*(self._blob(source, target, b, task) for b in lacking))
            for manifest in manifests:  # children first, the index (top) last
                await push.put_manifest(
                    self.client, target, manifest.digest, manifest.body, manifest.media_type
                )
            if target.tag:
                # The only step that changes what the mirror serves.
                await push.move_tag(self.client, target, tree.top, job.mirror.probe.digest)
        except RegistryError as error:
            return job.result(Action.FAILED, blobs=counts, detail=error.detail, **common)
        finally:
            task.done()
        counts = BlobCounts(
            total=counts.total,
            present=counts.present,
            mounted=moved.count("mounted"),
            uploaded=moved.count("uploaded"),
        )
        probe = await self.client.probe(target)
        if probe.digest != tree.top.digest:
            served = probe.digest or probe.status.value
            detail = f"verification failed: the mirror serves {served}"
            return job.result(Action.FAILED, bytes=size, blobs=counts, detail=detail, **common)
        try:
            absent = await self._absent(target, lacking, manifests)
        except RegistryError as error:
            absent = [f"cannot check ({error.detail})"]
        if absent:
            detail = "verification failed: still missing " + ", ".join(absent)
            return job.result(Action.FAILED, bytes=size, blobs=counts, detail=detail, **common)
        moves = [(counts.uploaded, "uploaded"), (counts.mounted, "mounted")]
        moves.append((counts.present, "already there"))
        blobs = ", ".join(f"{n} {what}" for n, what in moves if n) or "no blobs"
        detail = f"blobs: {blobs}; {puts} manifest PUT(s); verified"
        return job.result(Action.COPIED, bytes=size, blobs=counts, detail=detail, **common)

    async def _absent(
        self, target: Reference, blobs: Sequence[push.Blob], manifests: Sequence[Manifest]
    ) -> list[str]:
        """What was copied but is still not there (read back with HEADs)."""
        there = await gather_all(
            *[
                *(push.blob_exists(self.client, target, b.digest) for b in blobs),
                *(push.manifest_exists(self.client, target, m.digest) for m in manifests),
            ]
        )
        names = [f"blob {b.digest}" for b in blobs] + [f"manifest {m.digest}" for m in manifests]
        return [name for name, ok in zip(names, there, strict=True) if not ok]

    async def _blob(self, source: Reference, target: Reference, blob: push.Blob, task: Task) -> str:
        async with self.slots:
            how = await push.copy_blob(self.client, source, target, blob, task.advance)
            if how != "mounted" or await push.blob_exists(self.client, target, blob.digest):
                return how
            # A 201 that linked nothing (distribution does this for a sha512 mount):
            # upload the blob instead.
            location = await push.start_upload(self.client, target)
            assert location is not None  # no mount asked: 202 with a Location, or an error
            try:
                await push.stream_blob(self.client, source, target, blob, location, task.advance)
            except Exception:
                await push.cancel_upload(self.client, target, location)
                raise
            return "uploaded"


def _repair(mirror: Evaluated) -> str:
    """What a broken mirror lacks, for the plan: "repair: child sha256:… missing; "."""
    if not mirror.problems:
        return ""
    shown = "; ".join(str(p) for p in mirror.problems[:3])
    more = f" (+{len(mirror.problems) - 3} more)" if len(mirror.problems) > 3 else ""
    return f"repair: {shown}{more}; "


# -- the whole run -----------------------------------------------------------------------------


def _jobs(report: MirrorsReport, only: Sequence[str]) -> list[_Job]:
    jobs: list[_Job] = []
    for group in report.run_images:
        seen: set[str] = set()
        for mirror in group.mirrors:
            candidate = mirror.candidate
            if only and not any(
                matches(v, candidate.reference, candidate.normalized) for v in only
            ):
                continue
            key = candidate.normalized or candidate.reference
            if key in seen:
                continue  # listed twice (e.g. a user mirror the builder also lists)
            seen.add(key)
            jobs.append(_Job(group.image, mirror, _state(mirror)))
    return jobs


def _precheck(job: _Job) -> MirrorSync | None:
    """The outcome when no copy is needed or possible; ``None`` when a copy should run."""
    image, mirror = job.run_image, job.mirror
    if job.state is State.IN_SYNC:
        return job.result(
            Action.UP_TO_DATE, digest=image.probe.digest, detail="already serves the digest"
        )
    if job.state is State.INVALID:
        return job.result(Action.FAILED, detail=mirror.candidate.error or "invalid reference")
    if job.state is State.UNREACHABLE:
        return job.result(Action.FAILED, detail=f"unreachable: {mirror.probe.detail}")
    if image.probe.status is not Status.AVAILABLE or image.probe.digest is None:
        detail = f"run image is {image.probe.status.value}"
        if image.probe.detail and image.probe.status is not Status.MISSING:
            detail += f": {image.probe.detail}"
        return job.result(Action.FAILED, detail=detail)
    pinned = mirror.candidate.ref.digest if mirror.candidate.ref else None
    if pinned and pinned != image.probe.digest:
        return job.result(
            Action.FAILED,
            digest=image.probe.digest,
            detail=f"the mirror is pinned to {pinned[:19]}; a copy cannot change that",
        )
    return None


async def sync(
    client: RegistryClient,
    report: MirrorsReport,
    *,
    only: Sequence[str] = (),
    dry_run: bool = False,
    progress: Progress | None = None,
    transfers: int = 4,
) -> SyncReport:
    """Copy the run image to each selected mirror that is not in sync (or plan it).

    ``transfers`` bounds blob copies in flight; each holds two connections."""
    copier = _Copier(client, progress or _Silent(), max(1, transfers), dry_run)
    trees: dict[str, ImageTree | RegistryError] = {}
    results: list[MirrorSync] = []
    for job in _jobs(report, only):
        outcome = _precheck(job)
        if outcome is None:
            source = job.run_image.candidate.ref
            digest = job.run_image.probe.digest
            assert source is not None and digest is not None
            key = f"{source.name}@{digest}"
            if key not in trees:
                try:
                    trees[key] = await load_tree(client, source, digest)
                except RegistryError as error:
                    trees[key] = error
            tree = trees[key]
            if isinstance(tree, RegistryError):
                detail = f"reading the run image: {tree.detail}"
                outcome = job.result(Action.FAILED, digest=digest, detail=detail)
            else:
                outcome = await copier.run(job, source, tree)
        results.append(outcome)
    return SyncReport(tuple(results), dry_run)
