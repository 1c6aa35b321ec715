"""``sync --referrers``: copy what is attached to the run image onto each mirror.

Runs after the image copies. Each mirror's attachments are compared first
(:func:`inspector.checks.referrers.compare`), so a mirror that has them all costs only reads.
What it lacks is copied like the image itself, with the push helpers and the image tree
reader of ``sync``: blobs (mounted on one registry, streamed across), manifests byte for
byte by digest, then the cosign tag. Digests are therefore the source's.

Referrers are pushed by digest; a registry with the referrers API indexes them on that
PUT. Where the mirror has no API (404), the fallback tag ``sha256-<hex>`` is merged: the
mirror's index keeps every entry it has and gains the source's missing ones. When the
mirror has no fallback index yet and the source's lists exactly these referrers, the
source's index bytes are copied unchanged (same digest). A fallback tag that is not an index
is never overwritten. Finally the mirror is compared again: what is still not there fails.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from inspector.checks import referrers as found
from inspector.checks.image_tree import load_tree
from inspector.checks.mirrors import MirrorsReport
from inspector.checks.sync import Action, SyncReport
from inspector.checks.tasks import gather_all
from inspector.reference import Reference
from inspector.registry import push
from inspector.registry.client import OCI_INDEX, RegistryClient, RegistryError
from inspector.registry.model import Status
from inspector.registry.referrers import head, index_descriptors

WORK = frozenset({found.State.MISSING, found.State.DIFFERENT, found.State.UNLISTED})
# Right on a mirror whose image sync succeeded (then it serves the run image's digest).
FINE = frozenset({found.State.PRESENT, found.State.OTHER_SUBJECT})


@dataclass(frozen=True, slots=True)
class AttachmentAction:
    run_image: str
    mirror: str
    key: str  # the mirror's normalized reference (or as written)
    check: found.AttachmentCheck  # the state before the sync
    source_name: str
    action: str  # copied | up-to-date | planned | failed | skipped
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AttachmentsSync:
    items: tuple[AttachmentAction, ...]
    dry_run: bool
    errors: tuple[str, ...] = ()  # run images whose attachments could not be listed

    @property
    def ok(self) -> bool:
        return not self.errors and all(i.action != Action.FAILED.value for i in self.items)

    def for_mirror(self, run_image: str, key: str) -> list[AttachmentAction] | None:
        mine = [i for i in self.items if i.run_image == run_image and i.key == key]
        return mine or None

    def count(self, action: str) -> int:
        return sum(1 for i in self.items if i.action == action)

    def verdict(self) -> str:
        failed = self.count("failed") + len(self.errors)
        current = self.count("up-to-date")
        if self.dry_run:
            text = f"Attachments: {self.count('planned')} to copy, {current} already there"
            return text + "".join(f"; {error}" for error in self.errors)
        text = f"attachments: {self.count('copied')} copied, {current} already there"
        skipped = self.count("skipped")
        if skipped:
            text += f", {skipped} skipped (the image copy failed)"
        if self.errors:
            text += "; " + "; ".join(self.errors)
        return f"FAIL: {failed} failed; {text}" if failed else f"OK: {text}"


async def copy_manifest(
    client: RegistryClient,
    source: Reference,
    target: Reference,
    digest: str,
    tag: str | None,
    slots: asyncio.Semaphore,
    was: str | None = None,
) -> None:
    """Copy one manifest (and what it references) from ``source`` to ``target`` unchanged,
    then point ``tag`` at it, unless the tag no longer serves ``was`` (what it served when
    compared; ``None``: absent): someone pushed meanwhile, and their tag is left alone."""
    tree = await load_tree(client, source, digest)
    present = await gather_all(*(push.blob_exists(client, target, b.digest) for b in tree.blobs))

    async def one(blob: push.Blob) -> None:
        async with slots:
            await push.copy_blob(client, source, target, blob, lambda _: None)

    await gather_all(*(one(b) for b, there in zip(tree.blobs, present, strict=True) if not there))
    for manifest in (*tree.children, tree.top):
        if not await push.manifest_exists(client, target, manifest.digest):
            await push.put_manifest(
                client, target, manifest.digest, manifest.body, manifest.media_type
            )
    if tag:
        status, now = await head(client, found.with_tag(target, tag), tag)
        if status not in (200, 404):
            raise RegistryError(Status.ERROR, f"HEAD {tag[:30]}: HTTP {status}", status)
        if now not in (was, digest):
            raise RegistryError(
                Status.ERROR,
                f"{tag[:30]} moved meanwhile (now {now or 'absent'}, was {was or 'absent'}): "
                "left alone",
            )
        await push.put_manifest(client, target, tag, tree.top.body, tree.top.media_type)


def _entries(source: found.SourceAttachments, subject: str) -> list[dict[str, object]]:
    """The source's listing entries for ``subject`` (those discovered: an artifact-type
    filter may have left some out), as written there when possible."""
    kept = {a.digest for a in source.attachments if a.subject == subject and a.tag is None}
    index = source.fallback.get(subject)
    if index is not None:
        document = index.json()
        raw = document.get("manifests") if isinstance(document, dict) else None
        if isinstance(raw, list):
            return [e for e in raw if isinstance(e, dict) and e.get("digest") in kept]
    return [
        a.descriptor.document()
        for a in source.attachments
        if a.subject == subject and a.descriptor is not None
    ]


async def merge_fallback(
    client: RegistryClient,
    source: found.SourceAttachments,
    target: Reference,
    subject: str,
    skip: frozenset[str] = frozenset(),
) -> None:
    """Add the source's referrers of ``subject`` (but those in ``skip``: not copied) to the
    mirror's fallback index, keeping every entry the mirror already lists."""
    tag = found.tag_for(subject)
    wanted = [e for e in _entries(source, subject) if e["digest"] not in skip]
    if not wanted:
        return
    existing = await found.read_tag(client, target, tag)
    if existing is None:
        index = source.fallback.get(subject)
        digests = {str(e["digest"]) for e in wanted}
        if index is not None and digests == {d.digest for d in index_descriptors(index.json())}:
            body, media_type = index.body, index.media_type  # the source's bytes: same digest
        else:
            document = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": wanted}
            body, media_type = json.dumps(document, separators=(",", ":")).encode(), OCI_INDEX
    else:
        document = existing.json()
        entries = document.get("manifests") if isinstance(document, dict) else None
        if not existing.is_index or not isinstance(entries, list):
            raise RegistryError(
                Status.ERROR, f"{target.name}:{tag} is not an index: not overwriting it"
            )
        listed = {e.get("digest") for e in entries if isinstance(e, dict)}
        added = [e for e in wanted if e["digest"] not in listed]
        if not added:
            return
        document["manifests"] = [*entries, *added]
        body, media_type = json.dumps(document, separators=(",", ":")).encode(), OCI_INDEX
    # Right before the write, the tag must still be what was merged into (another pusher
    # may have added an entry meanwhile): refuse rather than drop it. The registry API has
    # no conditional PUT, so this narrows the race to one round trip.
    status, now = await head(client, found.with_tag(target, tag), tag)
    was = existing.digest if existing is not None else None
    if (now if status == 200 else None) != was:
        raise RegistryError(
            Status.ERROR,
            f"{tag[:30]} changed meanwhile (now {now or 'absent'}, was {was or 'absent'}): "
            "not overwriting it; run sync again to merge",
        )
    await push.put_manifest(client, target, tag, body, media_type)


async def _repair(
    client: RegistryClient,
    source: found.SourceAttachments,
    mirror: found.MirrorAttachments,
    slots: asyncio.Semaphore,
) -> dict[found.Attachment, str]:
    """Copy what the mirror lacks; returns why each attachment that could not be fixed
    failed (one refusal does not stop the others)."""
    origin, target = source.image.candidate.ref, mirror.mirror.candidate.ref
    assert origin is not None and target is not None
    todo = [c for c in mirror.checks if c.state in WORK or c.state is found.State.UNKNOWN]
    failed: dict[found.Attachment, str] = {}

    async def attempt(check: found.AttachmentCheck) -> None:
        a = check.attachment
        try:
            if check.state is not found.State.UNLISTED:
                await copy_manifest(
                    client, origin, target, a.digest, a.tag, slots, check.mirror_digest
                )
            elif mirror.api:
                # The API indexes a referrer when it is PUT: PUT the unlisted one again.
                manifest = await client.get_manifest(origin, a.digest)
                await push.put_manifest(
                    client, target, manifest.digest, manifest.body, manifest.media_type
                )
        except RegistryError as error:
            failed[a] = error.detail

    await asyncio.gather(*(attempt(c) for c in todo))
    if not mirror.api:
        for subject in sorted({c.attachment.subject for c in todo if c.attachment.tag is None}):
            try:
                skip = frozenset(a.digest for a in failed)
                await merge_fallback(client, source, target, subject, skip)
            except RegistryError as error:
                for c in todo:
                    if c.attachment.subject == subject and c.attachment.tag is None:
                        failed.setdefault(c.attachment, error.detail)
    return failed


async def sync_attachments(
    client: RegistryClient,
    report: MirrorsReport,
    images: SyncReport,
    *,
    dry_run: bool = False,
    transfers: int = 4,
    artifact_types: Sequence[str] = (),
) -> AttachmentsSync:
    """Compare every selected mirror's attachments with the source's and copy what lacks.
    Mirrors whose image copy failed are skipped (their attachments would name a digest the
    mirror does not serve)."""
    selected = {(r.run_image, r.normalized or r.mirror): r for r in images.results}
    groups = [
        (
            group.image,
            [
                m
                for m in group.mirrors
                if (
                    group.image.candidate.reference,
                    m.candidate.normalized or m.candidate.reference,
                )
                in selected
            ],
        )
        for group in report.run_images
    ]
    compared = await found.check_groups(client, groups, artifact_types)
    slots = asyncio.Semaphore(max(1, transfers))
    items: list[AttachmentAction] = []
    errors: list[str] = []
    for group in compared.groups:
        source = group.source
        run_image = source.image.candidate.reference
        if source.error is not None:
            errors.append(f"attachments of {run_image}: {source.error}")
            continue
        name = source.image.candidate.ref.name if source.image.candidate.ref else run_image
        done: dict[str, bool] = {}  # repository -> repaired: two mirror tags, one repository
        for mirror in group.mirrors:
            candidate = mirror.mirror.candidate
            key = candidate.normalized or candidate.reference
            ref = candidate.ref

            item = partial(AttachmentAction, run_image, candidate.reference, key)
            if mirror.error is not None:
                errors.append(f"{candidate.reference}: {mirror.error}")
                continue
            if selected[(run_image, key)].action is Action.FAILED:
                items += [item(c, name, "skipped", "the image copy failed") for c in mirror.checks]
                continue
            # The image copy did not fail, so the mirror now serves the run image's digest:
            # an attachment that was only "other-subject" (the mirror served another
            # digest when compared) is right where it is.
            todo = [c for c in mirror.checks if c.state not in FINE]
            items += [
                item(c, name, "up-to-date", "same digest") for c in mirror.checks if c not in todo
            ]
            if not todo or ref is None:
                continue
            if dry_run:
                items += [item(c, name, "planned", c.state.value) for c in todo]
                continue
            if ref.name in done:
                action, detail = ("copied", "same repository") if done[ref.name] else ("failed", "")
                items += [item(c, name, action, detail or "same repository: failed") for c in todo]
                continue
            failures = await _repair(client, source, mirror, slots)
            after = await found.compare(client, source, mirror.mirror)
            states = {c.attachment: c for c in after.checks}
            done[ref.name] = all(c.state in FINE for c in after.checks) and not failures
            for c in todo:
                now = states.get(c.attachment)
                if c.attachment in failures:
                    items.append(item(c, name, "failed", failures[c.attachment]))
                elif now is not None and now.state in FINE:
                    items.append(item(c, name, "copied", f"was {c.state.value}; verified"))
                else:
                    still = now.state.value if now else "unknown"
                    items.append(item(c, name, "failed", f"verification failed: still {still}"))
    return AttachmentsSync(tuple(items), dry_run, tuple(errors))
