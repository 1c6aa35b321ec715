"""``--referrers``: what is attached to the run image's digest at its source, and whether each
mirror holds the same attachments.

Discovery at the source, per run image (``discover``):

* one tag list of the repository (``GET /v2/<name>/tags/list``, paginated) finds cosign's
  ``sha256-<hex>.sig`` / ``.att`` / ``.sbom`` tags and the referrers fallback tag
  ``sha256-<hex>``; each attachment tag found is read once (GET: its digest and what it is);
* one ``GET /v2/<name>/referrers/<digest>`` (OCI 1.1); where it answers 404 (no API, e.g.
  distribution 2.8.2) the fallback tag's index is read instead (one GET, only if tagged);
* for an index, its children are subjects too: the index is read (one GET) when the API
  exists or a tag names another digest, then one referrers request per child (API only).

If the registry refuses the tag list, every candidate tag is asked for directly instead.

Comparison on each mirror (``compare``): one HEAD per cosign tag (same digest?), and per
subject with referrers one referrers request (404: one GET of the fallback tag) plus one HEAD
per referrer by digest. A referrer present by digest but listed neither by the API nor by the
fallback index is ``unlisted``: verifiers (cosign, notation) would not find it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from inspector.checks.evaluate import Evaluated
from inspector.checks.tasks import gather_all
from inspector.reference import Reference
from inspector.registry import referrers as api
from inspector.registry.client import INDEX_TYPES, Manifest, RegistryClient, RegistryError
from inspector.registry.model import Platform, Status

SUFFIXES = ("sig", "att", "sbom")


class Kind(StrEnum):
    SIGNATURE = "signature"
    ATTESTATION = "attestation"
    SBOM = "sbom"
    REFERRER = "referrer"


_KIND_OF_SUFFIX = {"sig": Kind.SIGNATURE, "att": Kind.ATTESTATION, "sbom": Kind.SBOM}


class State(StrEnum):
    PRESENT = "present"
    MISSING = "missing"
    DIFFERENT = "different"  # the cosign tag serves another digest
    UNLISTED = "unlisted"  # the referrer is there by digest, but not discoverable
    UNKNOWN = "unknown"  # the mirror did not answer usably
    # There, but attached to the run image's digest, which the mirror does not serve (an
    # equivalent index): a verifier looks for the mirror's own digest and finds nothing.
    OTHER_SUBJECT = "other-subject"


def tag_for(digest: str, suffix: str = "") -> str:
    """``sha256:abc`` -> ``sha256-abc.sig`` (cosign) or ``sha256-abc`` (referrers fallback)."""
    algorithm, _, hexdigest = digest.partition(":")
    return f"{algorithm}-{hexdigest}" + (f".{suffix}" if suffix else "")


def with_tag(ref: Reference, tag: str) -> Reference:
    return replace(ref, original=f"{ref.name}:{tag}", tag=tag, digest=None)


@dataclass(frozen=True, slots=True)
class Attachment:
    """One manifest attached to ``subject`` (the run image's digest or one of its children)."""

    kind: Kind
    subject: str
    digest: str
    media_type: str
    artifact_type: str | None
    tag: str | None = None  # the cosign tag; None for a referrer (addressed by digest)
    platform: str | None = None  # the child's platform when the subject is a child
    descriptor: api.Descriptor | None = None  # a referrer's entry in the source's listing

    def reference(self, name: str) -> str:
        """Where it lives in repository ``name`` (``registry/repo``)."""
        return f"{name}:{self.tag}" if self.tag else f"{name}@{self.digest}"


@dataclass(frozen=True, slots=True)
class SourceAttachments:
    """What the run image carries at its source."""

    image: Evaluated
    attachments: tuple[Attachment, ...] = ()
    api: bool | None = None  # the source has the referrers API
    fallback: dict[str, Manifest] = field(default_factory=dict)  # subject -> fallback index
    error: str | None = None


@dataclass(frozen=True, slots=True)
class AttachmentCheck:
    attachment: Attachment
    reference: str  # where it should be on the mirror
    state: State
    mirror_digest: str | None = None
    detail: str = ""

    @property
    def on_mirror(self) -> bool | None:
        return None if self.state is State.UNKNOWN else self.state is State.PRESENT


@dataclass(frozen=True, slots=True)
class MirrorAttachments:
    mirror: Evaluated
    checks: tuple[AttachmentCheck, ...] = ()
    api: bool | None = None  # the mirror has the referrers API
    error: str | None = None  # why it was not compared

    @property
    def ok(self) -> bool:
        return self.error is None and all(c.state is State.PRESENT for c in self.checks)

    @property
    def lacking(self) -> tuple[AttachmentCheck, ...]:
        return tuple(c for c in self.checks if c.state is not State.PRESENT)


@dataclass(frozen=True, slots=True)
class GroupAttachments:
    source: SourceAttachments
    mirrors: tuple[MirrorAttachments, ...]

    def for_mirror(self, mirror: Evaluated) -> MirrorAttachments | None:
        key = _key(mirror)
        return next((m for m in self.mirrors if _key(m.mirror) == key), None)


@dataclass(frozen=True, slots=True)
class AttachmentsReport:
    groups: tuple[GroupAttachments, ...]

    @property
    def ok(self) -> bool:
        return all(g.source.error is None and all(m.ok for m in g.mirrors) for g in self.groups)

    def lacking(self) -> int:
        return sum(len(m.lacking) for g in self.groups for m in g.mirrors)

    def verdict(self) -> str:
        total = sum(len(g.source.attachments) for g in self.groups)
        mirrors = [m for g in self.groups for m in g.mirrors]
        bad = [m for m in mirrors if not m.ok]
        errors = [g for g in self.groups if g.source.error]
        if not bad and not errors:
            return (
                f"OK: all {total} attachment(s) of the run image(s) present on "
                f"{len(mirrors)} mirror(s)"
            )
        parts = []
        if errors:
            parts.append(f"attachments of {len(errors)} run image(s) could not be listed")
        if bad:
            parts.append(
                f"{self.lacking()} attachment(s) missing or different on {len(bad)} of "
                f"{len(mirrors)} mirror(s)"
            )
        return "FAIL: " + ", ".join(parts)


def _key(e: Evaluated) -> str:
    return e.candidate.normalized or e.candidate.reference


# -- discovery at the source -------------------------------------------------------------------


def _artifact_type(manifest: Manifest) -> str | None:
    """OCI 1.1's ``artifactType``, else what cosign's layers are (simplesigning, DSSE…)."""
    document = manifest.json()
    if not isinstance(document, dict):
        return None
    if isinstance(document.get("artifactType"), str):
        return str(document["artifactType"])
    layers = document.get("layers")
    first = layers[0] if isinstance(layers, list) and layers else None
    media_type = first.get("mediaType") if isinstance(first, dict) else None
    return media_type if isinstance(media_type, str) else None


async def read_tag(client: RegistryClient, ref: Reference, tag: str) -> Manifest | None:
    try:
        return await client.get_manifest(with_tag(ref, tag), tag)
    except RegistryError as error:
        if error.status is Status.MISSING:
            return None
        raise


def _children(index: Manifest) -> dict[str, str]:
    """child digest -> platform of an index."""
    document = index.json()
    entries = document.get("manifests") if isinstance(document, dict) else None
    found: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else []:
        digest = entry.get("digest") if isinstance(entry, dict) else None
        if not api.valid_digest(digest):
            continue
        assert isinstance(digest, str)
        raw = entry.get("platform")
        platform = raw if isinstance(raw, dict) else {}
        text = Platform(
            str(platform.get("os", "")),
            str(platform.get("architecture", "")),
            str(platform.get("variant", "")),
        )
        found.setdefault(digest, str(text))
    return found


async def discover(
    client: RegistryClient, image: Evaluated, artifact_types: Sequence[str] = ()
) -> SourceAttachments:
    """Everything attached to the run image's digest (and its children's) at the source;
    with ``artifact_types``, only attachments of those types."""
    ref, digest = image.candidate.ref, image.probe.digest
    if ref is None or digest is None or image.probe.status is not Status.AVAILABLE:
        return SourceAttachments(image, error="the run image is not available")
    try:
        found = await _discover(client, image, ref, digest, artifact_types)
    except RegistryError as error:
        return SourceAttachments(image, error=error.detail)
    if artifact_types:
        kept = tuple(a for a in found.attachments if a.artifact_type in artifact_types)
        found = replace(found, attachments=kept)
    return found


async def _discover(
    client: RegistryClient,
    image: Evaluated,
    ref: Reference,
    digest: str,
    artifact_types: Sequence[str],
) -> SourceAttachments:
    # One type can be left to the registry (the API's artifactType filter); several are
    # filtered here, as are cosign tags and fallback indexes.
    only = artifact_types[0] if len(artifact_types) == 1 else None

    async def tags_or_none() -> set[str] | None:
        try:
            return set(await api.list_tags(client, ref))
        except RegistryError as error:
            if error.status is Status.UNREACHABLE:
                raise
            return None  # not allowed to list: ask for each candidate tag instead

    tags, top = await asyncio.gather(tags_or_none(), api.referrers(client, ref, digest, only))
    subjects: dict[str, str | None] = {digest: None}
    named = {t.split(".")[0] for t in tags} if tags is not None else set()
    others = any(t.startswith("sha256-") and t != tag_for(digest) for t in named)
    if image.probe.media_type in INDEX_TYPES and (top.supported or others or tags is None):
        subjects.update(_children(await client.get_manifest(ref, digest)))

    listings: dict[str, tuple[api.Descriptor, ...]] = {digest: top.descriptors}
    fallback: dict[str, Manifest] = {}

    async def list_children() -> None:
        """With the API: one request per child. Without: the fallback tags there are."""
        if top.supported:
            children = [s for s in subjects if s != digest]
            answers = await gather_all(*(api.referrers(client, ref, s, only) for s in children))
            listings.update({s: a.descriptors for s, a in zip(children, answers, strict=True)})
            return
        wanted = [s for s in subjects if tags is None or tag_for(s) in tags]
        indexes = await gather_all(*(read_tag(client, ref, tag_for(s)) for s in wanted))
        for subject, index in zip(wanted, indexes, strict=True):
            if index is not None:
                fallback[subject] = index
                listings[subject] = api.index_descriptors(index.json())

    cosign = [
        (subject, suffix)
        for subject in subjects
        for suffix in SUFFIXES
        if tags is None or tag_for(subject, suffix) in tags
    ]
    # The listings and the cosign tags in one round trip.
    _, read = await gather_all(
        list_children(),
        gather_all(*(read_tag(client, ref, tag_for(s, x)) for s, x in cosign)),
    )
    attachments: list[Attachment] = []
    for (subject, suffix), manifest in zip(cosign, read, strict=True):
        if manifest is not None:
            attachments.append(
                Attachment(
                    _KIND_OF_SUFFIX[suffix],
                    subject,
                    manifest.digest,
                    manifest.media_type,
                    _artifact_type(manifest),
                    tag=tag_for(subject, suffix),
                    platform=subjects[subject],
                )
            )
    for subject, descriptors in listings.items():
        seen: set[str] = set()
        for d in descriptors:
            if d.digest in seen:
                continue
            seen.add(d.digest)
            attachments.append(
                Attachment(
                    Kind.REFERRER,
                    subject,
                    d.digest,
                    d.media_type,
                    d.artifact_type,
                    platform=subjects.get(subject),
                    descriptor=d,
                )
            )
    return SourceAttachments(image, tuple(attachments), top.supported, fallback)


# -- comparison on a mirror --------------------------------------------------------------------


async def listed_on(
    client: RegistryClient, target: Reference, subject: str
) -> tuple[bool, set[str]]:
    """(has the API, digests it lists for ``subject``): the API, else the fallback tag."""
    answer = await api.referrers(client, target, subject)
    if answer.supported:
        return True, {d.digest for d in answer.descriptors}
    index = await read_tag(client, target, tag_for(subject))
    if index is None:
        return False, set()
    return False, {d.digest for d in api.index_descriptors(index.json())}


async def _check(
    client: RegistryClient, target: Reference, attachment: Attachment
) -> AttachmentCheck:
    """HEAD where the attachment belongs on the mirror: its cosign tag, or its digest."""
    where = attachment.reference(target.name)
    identifier = attachment.tag or attachment.digest
    ref = with_tag(target, attachment.tag) if attachment.tag else target
    try:
        status, served = await api.head(client, ref, identifier)
    except RegistryError as error:
        return AttachmentCheck(attachment, where, State.UNKNOWN, detail=error.detail)
    if status == 404:
        return AttachmentCheck(attachment, where, State.MISSING)
    if status != 200:
        return AttachmentCheck(attachment, where, State.UNKNOWN, detail=f"HTTP {status}")
    state = State.PRESENT if served == attachment.digest else State.DIFFERENT
    return AttachmentCheck(attachment, where, state, served)


def _listed(check: AttachmentCheck, listing: tuple[bool, set[str]] | str) -> AttachmentCheck:
    """A referrer there by digest counts only if the mirror lists it for its subject."""
    if check.state is not State.PRESENT or check.attachment.tag:
        return check
    if isinstance(listing, str):
        return replace(check, state=State.UNKNOWN, detail=listing)
    if check.attachment.digest not in listing[1]:
        detail = f"not listed for {check.attachment.subject[:19]}"
        return replace(check, state=State.UNLISTED, detail=detail)
    return check


async def compare(
    client: RegistryClient, source: SourceAttachments, mirror: Evaluated
) -> MirrorAttachments:
    """Is each of the source's attachments on ``mirror`` (same repository, same digest)?
    The HEADs and the mirror's listings go out together: about two round trips."""
    target = mirror.candidate.ref
    if target is None:
        return MirrorAttachments(mirror, error=mirror.candidate.error or "invalid reference")
    if mirror.probe.status is Status.UNREACHABLE:
        return MirrorAttachments(mirror, error=f"unreachable: {mirror.probe.detail}")
    if source.error is not None:
        return MirrorAttachments(mirror, error="the run image's attachments are unknown")
    subjects = list(dict.fromkeys(a.subject for a in source.attachments if not a.tag))

    async def listing(subject: str) -> tuple[bool, set[str]] | str:
        try:
            return await listed_on(client, target, subject)
        except RegistryError as error:
            return error.detail

    listings, checks = await asyncio.gather(
        asyncio.gather(*(listing(s) for s in subjects)),
        asyncio.gather(*(_check(client, target, a) for a in source.attachments)),
    )
    by_subject = dict(zip(subjects, listings, strict=True))
    results = tuple(_listed(c, by_subject.get(c.attachment.subject, "")) for c in checks)
    top = source.image.probe.digest
    if mirror.probe.digest and top and mirror.probe.digest != top:
        served = mirror.probe.digest
        results = tuple(
            replace(
                c,
                state=State.OTHER_SUBJECT,
                detail=f"attached to {top[:19]}; the mirror serves {served[:19]}",
            )
            if c.attachment.subject == top and c.state is State.PRESENT
            else c
            for c in results
        )
    answered = [answer for answer in listings if not isinstance(answer, str)]
    return MirrorAttachments(mirror, results, answered[0][0] if answered else None)


async def check_groups(
    client: RegistryClient,
    groups: Sequence[tuple[Evaluated, Sequence[Evaluated]]],
    artifact_types: Sequence[str] = (),
) -> AttachmentsReport:
    """Discover each run image's attachments (only ``artifact_types``, if given) and compare
    every mirror of it; mirrors that name one repository twice (two tags) are compared once."""
    sources = await asyncio.gather(
        *(discover(client, image, artifact_types) for image, _ in groups)
    )
    done: dict[tuple[str, str], asyncio.Task[MirrorAttachments]] = {}
    pending: list[list[tuple[Evaluated, asyncio.Task[MirrorAttachments]]]] = []
    for source, (_, mirrors) in zip(sources, groups, strict=True):
        mine = []
        for mirror in mirrors:
            ref = mirror.candidate.ref
            key = (source.image.probe.digest or "", ref.name if ref else _key(mirror))
            if key not in done:
                done[key] = asyncio.ensure_future(compare(client, source, mirror))
            mine.append((mirror, done[key]))
        pending.append(mine)
    await asyncio.gather(*done.values())
    return AttachmentsReport(
        tuple(
            GroupAttachments(
                source,
                tuple(replace(task.result(), mirror=mirror) for mirror, task in mine),
            )
            for source, mine in zip(sources, pending, strict=True)
        )
    )


def groups_of(
    results: Sequence[Evaluated],
) -> list[tuple[Evaluated, Sequence[Evaluated]]]:
    """(run image, its mirrors) from any list of evaluated candidates (``check``'s, or the
    ``mirrors`` report's flattened): user mirrors and mirrors alike."""
    from inspector.resolver import Source

    images = [r for r in results if r.candidate.source is Source.IMAGE]
    return [
        (
            image,
            [
                r
                for r in results
                if r.candidate.run_image_index == image.candidate.run_image_index
                and r.candidate.source is not Source.IMAGE
            ],
        )
        for image in images
    ]
