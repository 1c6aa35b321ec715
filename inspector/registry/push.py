"""Writing to a registry: blob presence, blob copies (cross-repository mount or a streamed
monolithic upload) and manifest PUTs, each built on :meth:`RegistryClient.request`.

The client authenticates every call for the repository in its path (pull for HEAD/GET,
pull+push otherwise), so push-scope tokens come from the same flow as reads; a mount's
challenge names the source repository too and the auth flow asks for both scopes.

A blob crossing registries is never held in memory: the source ``GET`` is streamed straight
into the target's ``PUT`` body, hashed on the way, so a corrupt or short source aborts the
upload before the registry could accept it. Each such copy keeps two connections open (the
download and the upload), which is why callers bound copies to half the client's limit.

Every answer is streamed; a failure's body is read (capped) only by the one error mapping,
``RegistryError.from_response``, and a success's body is never read at all. An upload
``Location`` on another origin than the registry's gets the blob without any
``Authorization`` (see :meth:`RegistryClient.request`). The tag moves only through
:func:`move_tag`, which re-reads it first and refuses to clobber a tag that changed since
the plan.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from inspector.reference import Reference
from inspector.registry.client import RegistryClient
from inspector.registry.errors import RegistryError
from inspector.registry.hosts import canonical
from inspector.registry.manifests import MANIFEST_ACCEPT, Manifest
from inspector.registry.model import Status

OCTET_STREAM = "application/octet-stream"
ProgressCallback = Callable[[int], None]
MAX_INDEX_CHILDREN = 1024  # distinct manifests one index may list (real ones: a few dozen)


@dataclass(frozen=True, slots=True)
class Blob:
    """A config or layer blob as a manifest describes it."""

    digest: str
    size: int
    media_type: str = ""


def same_registry_of(source: Reference, target: Reference) -> bool:
    """One registry (Docker Hub's aliases count as one), so a blob can be mounted."""
    return canonical(source.registry) == canonical(target.registry)


def _path(ref: Reference, kind: str, identifier: str) -> str:
    return f"/v2/{ref.repository}/{kind}/{identifier}"


async def _fail(response: httpx.Response, what: str) -> RegistryError:
    """``what: HTTP 401 UNAUTHORIZED: authentication required``: the one mapping."""
    return await RegistryError.from_response(response, what)


async def _exists(client: RegistryClient, ref: Reference, kind: str, digest: str) -> bool:
    headers = {"Accept": MANIFEST_ACCEPT} if kind == "manifests" else None
    response = await client.request(
        ref.registry,
        "HEAD",
        _path(ref, kind, digest),
        headers=headers,
        kind=f"{kind[:-1]} HEAD",
        repository=ref.repository,
        stream=True,
    )
    try:
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        raise await _fail(response, f"HEAD {kind[:-1]} {digest[:19]}")
    finally:
        await response.aclose()


async def blob_exists(client: RegistryClient, ref: Reference, digest: str) -> bool:
    """Does ``ref``'s repository hold the blob? (HEAD: 200 yes, 404 no, else an error.)"""
    return await _exists(client, ref, "blobs", digest)


async def manifest_exists(client: RegistryClient, ref: Reference, digest: str) -> bool:
    return await _exists(client, ref, "manifests", digest)


async def start_upload(
    client: RegistryClient, target: Reference, *, mount: tuple[str, Reference] | None = None
) -> str | None:
    """Open an upload session and return its ``Location``; with ``mount=(digest, source)``
    ask for a cross-repository mount first: ``None`` means it was mounted (201), a
    ``Location`` means the registry declined and opened an upload instead (202)."""
    params = {"mount": mount[0], "from": mount[1].repository} if mount else None
    response = await client.request(
        target.registry,
        "POST",
        f"/v2/{target.repository}/blobs/uploads/",
        params=params,
        kind="blob mount" if mount else "blob upload",
        repository=target.repository,
        mount_from=mount[1].repository if mount else None,
        stream=True,
    )
    try:
        if mount and response.status_code == 201:
            return None
        location: str | None = response.headers.get("location")
        if response.status_code == 202 and location:
            return location
        raise await _fail(response, "POST blob upload")
    finally:
        await response.aclose()


async def cancel_upload(client: RegistryClient, target: Reference, location: str) -> None:
    """Best effort: a dead session would be purged by the registry anyway."""
    try:
        response = await client.request(
            target.registry,
            "DELETE",
            location,
            kind="blob cancel",
            repository=target.repository,
            stream=True,
        )
        await response.aclose()
    except RegistryError:
        pass


class _SourceMismatch(Exception):
    """The source served other bytes than its descriptor promised."""


async def _verified(
    chunks: AsyncIterator[bytes], blob: Blob, on_bytes: ProgressCallback
) -> AsyncIterator[bytes]:
    """Pass chunks through, checking size and digest; raising aborts the upload."""
    algorithm, _, expected = blob.digest.partition(":")
    hasher = hashlib.new(algorithm) if algorithm in hashlib.algorithms_available else None
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > blob.size:
            raise _SourceMismatch(f"source blob {blob.digest[:19]} is larger than {blob.size}")
        if hasher is not None:
            hasher.update(chunk)
        on_bytes(len(chunk))
        yield chunk
    if seen != blob.size:
        raise _SourceMismatch(f"source blob {blob.digest[:19]}: {seen} of {blob.size} bytes")
    if hasher is not None and hasher.hexdigest() != expected:
        raise _SourceMismatch(f"source blob {blob.digest[:19]}: content does not match digest")


async def stream_blob(
    client: RegistryClient,
    source: Reference,
    target: Reference,
    blob: Blob,
    location: str,
    on_bytes: ProgressCallback,
) -> None:
    """GET the blob from ``source`` as a stream and PUT it to the upload ``location`` in
    one request (a monolithic upload whose body is the download)."""
    download = await client.request(
        source.registry,
        "GET",
        _path(source, "blobs", blob.digest),
        stream=True,
        kind="blob GET",
        repository=source.repository,
    )
    try:
        if download.status_code != 200:
            raise await _fail(download, f"GET source blob {blob.digest[:19]}")
        body = _verified(download.aiter_bytes(), blob, on_bytes)
        try:
            upload = await client.request(
                target.registry,
                "PUT",
                location,
                params={"digest": blob.digest},
                headers={"Content-Type": OCTET_STREAM, "Content-Length": str(blob.size)},
                content=body,
                kind="blob PUT",
                repository=target.repository,
                stream=True,
            )
        except _SourceMismatch as error:
            raise RegistryError(Status.ERROR, str(error)) from None
        except httpx.StreamError as error:
            # e.g. a 401 mid-upload: a streamed body cannot be sent twice.
            raise RegistryError(Status.ERROR, f"upload of {blob.digest[:19]}: {error}") from None
        try:
            if upload.status_code != 201:
                raise await _fail(upload, f"PUT blob {blob.digest[:19]}")
        finally:
            await upload.aclose()
    finally:
        await download.aclose()


async def copy_blob(
    client: RegistryClient,
    source: Reference,
    target: Reference,
    blob: Blob,
    on_bytes: ProgressCallback,
) -> Literal["mounted", "uploaded"]:
    """Copy one blob: mount within a registry (falling back to an upload when the registry
    declines), stream across registries. A failed upload's session is cancelled."""
    same_registry = same_registry_of(source, target)
    location = await start_upload(
        client, target, mount=(blob.digest, source) if same_registry else None
    )
    if location is None:
        on_bytes(blob.size)
        return "mounted"
    try:
        await stream_blob(client, source, target, blob, location, on_bytes)
    except Exception:
        await cancel_upload(client, target, location)
        raise
    return "uploaded"


async def put_manifest(
    client: RegistryClient, target: Reference, identifier: str, body: bytes, media_type: str
) -> str:
    """PUT manifest bytes unchanged under a digest or tag; returns the digest the registry
    reports, which must be the digest of ``body``."""
    response = await client.request(
        target.registry,
        "PUT",
        _path(target, "manifests", identifier),
        headers={"Content-Type": media_type},
        content=body,
        kind="manifest PUT",
        repository=target.repository,
        stream=True,
    )
    try:
        if response.status_code != 201:
            raise await _fail(response, f"PUT manifest {identifier[:19]}")
    finally:
        await response.aclose()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    served = response.headers.get("docker-content-digest")
    if served and served.startswith("sha256:") and served != digest:
        raise RegistryError(
            Status.ERROR, f"PUT manifest {identifier[:19]}: registry stored {served[:19]}", 201
        )
    return digest


async def move_tag(
    client: RegistryClient, target: Reference, manifest: Manifest, planned: str | None
) -> str:
    """PUT ``manifest`` under ``target``'s tag, unless the tag changed since the plan.

    ``planned`` is the digest the tag served when the plan was made (``None``: it did not
    exist). The tag is re-read (HEAD) right before the PUT: if someone pushed another
    image there meanwhile, it is not clobbered; the refusal names both digests. (The
    registry API has no conditional PUT, so the window shrinks to one round trip.)"""
    tag = target.tag
    assert tag is not None
    probe = await client.probe(target)
    if probe.status is Status.MISSING:
        current = None
    elif probe.status is Status.AVAILABLE:
        current = probe.digest
    else:
        detail = f": {probe.detail}" if probe.detail else ""
        raise RegistryError(
            probe.status,
            f"cannot re-check tag {tag} before moving it ({probe.status.value}{detail})",
        )
    if current not in (planned, manifest.digest):
        raise RegistryError(
            Status.ERROR,
            f"tag {tag} changed since the plan: it served {planned or 'nothing'}, now "
            f"{current or 'nothing'}; not overwritten (sync again to copy over it)",
        )
    return await put_manifest(client, target, tag, manifest.body, manifest.media_type)


class Fanout:
    """The manifests one image tree lists, each fetched once: an index (or an index of
    indexes) naming a child again costs nothing, and more than ``MAX_INDEX_CHILDREN``
    distinct manifests in the whole tree is an error, not a fan-out of thousands of
    requests."""

    def __init__(self, limit: int = MAX_INDEX_CHILDREN) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def take(self, digests: list[str]) -> list[str]:
        """The digests not taken before, in order."""
        new = [d for d in dict.fromkeys(digests) if d not in self.seen]
        if len(self.seen) + len(new) > self.limit:
            raise RegistryError(
                Status.ERROR,
                f"index lists {len(self.seen) + len(new)} distinct manifests; more than "
                f"{self.limit} is refused",
            )
        self.seen.update(new)
        return new
