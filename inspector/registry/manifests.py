"""The manifest API: HEAD/GET a manifest, bodies capped, digests verified, and what a
"missing" answer means.

``probe`` answers "is this reference there, and which digest does it serve?" with a HEAD
(free on Docker Hub's pull limit), a GET only when the registry gives no usable digest
header or refuses HEAD. A missing reference costs one more request: distribution answers
``MANIFEST_UNKNOWN`` on the manifest endpoint both for a missing repository and for a
missing tag (and a HEAD has no body at all), while ``GET /v2/<name>/tags/list`` answers
``NAME_UNKNOWN`` for a missing repository only — so the probe can say *repository not
found* or *tag not found*, which is what a user needs to fix it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from inspector.reference import Reference
from inspector.registry.defaults import CEILING_FACTOR
from inspector.registry.errors import Missing, RegistryError
from inspector.registry.model import Platform, Probe, Status

if TYPE_CHECKING:
    from inspector.registry.client import RegistryClient

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
# Index types first: without them a registry may answer with one platform's manifest,
# and without the OCI types distribution answers 404 for an OCI image.
MANIFEST_ACCEPT = ", ".join(
    [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST, DOCKER_SCHEMA1_SIGNED, DOCKER_SCHEMA1]
)
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # distribution's own limit
_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Manifest:
    digest: str
    media_type: str
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise RegistryError(Status.ERROR, "manifest is not valid JSON", 200) from None

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    def platforms(self) -> dict[str, str]:
        """Platform → child digest, for an index."""
        document = self.json()
        children = document.get("manifests") if isinstance(document, dict) else None
        found: dict[str, str] = {}
        for child in children if isinstance(children, list) else []:
            platform = child.get("platform") if isinstance(child, dict) else None
            digest = child.get("digest") if isinstance(child, dict) else None
            if isinstance(platform, dict) and isinstance(digest, str):
                key = str(
                    Platform(
                        str(platform.get("os", "")),
                        str(platform.get("architecture", "")),
                        str(platform.get("variant", "")),
                    )
                )
                found.setdefault(key, digest)
        return found


def verified(body: bytes, wanted: str, header: str | None, content_type: str) -> Manifest:
    """``body`` as the manifest asked for by ``wanted`` (a tag or digest): it must hash
    to a wanted digest and to the ``Docker-Content-Digest`` the registry sent."""
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if wanted.startswith("sha256:") and digest != wanted:
        raise RegistryError(
            Status.ERROR, "digest mismatch: body does not hash to the digest asked for", 200
        )
    if header and header.startswith("sha256:") and header != digest:
        raise RegistryError(
            Status.ERROR, "digest mismatch: Docker-Content-Digest differs from the body", 200
        )
    return Manifest(digest, _media_type(content_type, _parse_json(body)), body)


async def get_manifest(
    client: RegistryClient, ref: Reference, identifier: str | None = None
) -> Manifest:
    """GET a manifest, capped at 4 MiB, its digest checked (:func:`verified`)."""
    response = await client.manifest_request(ref, "GET", identifier=identifier)
    ceiling = client.timeout * CEILING_FACTOR
    try:
        if response.status_code != 200:
            raise await RegistryError.from_response(response)
        async with asyncio.timeout(ceiling):
            body = await read_capped(response, MAX_MANIFEST_BYTES)
    except TimeoutError:
        raise RegistryError(
            Status.UNREACHABLE, f"timed out: manifest body not complete in {ceiling:g} s"
        ) from None
    finally:
        await response.aclose()
    return verified(
        body,
        identifier or ref.identifier,
        response.headers.get("docker-content-digest"),
        response.headers.get("content-type", ""),
    )


async def probe(client: RegistryClient, ref: Reference) -> Probe:
    """Exists? Which digest? (See the module's docstring.)"""
    try:
        response = await client.manifest_request(ref, "HEAD")
        status = response.status_code
        digest = response.headers.get("docker-content-digest")
        media_type = response.headers.get("content-type", "").split(";")[0].strip() or None
        if status == 200 and not valid_digest(digest):
            manifest = await get_manifest(client, ref)
            digest, media_type = manifest.digest, manifest.media_type
        elif status == 405:
            manifest = await get_manifest(client, ref)
            digest, media_type, status = manifest.digest, manifest.media_type, 200
        elif status != 200:
            raise await RegistryError.from_response(response)
        if ref.digest is not None and digest != ref.digest:
            raise RegistryError(
                Status.ERROR, "digest mismatch: registry served another digest", 200
            )
        return Probe(ref.original, Status.AVAILABLE, digest, media_type, http_status=status)
    except RegistryError as error:
        detail = error.detail
        if error.status is Status.MISSING:
            detail = await what_is_missing(client, ref, error)
        return Probe(ref.original, error.status, detail=detail, http_status=error.http_status)


async def what_is_missing(client: RegistryClient, ref: Reference, error: RegistryError) -> str:
    """ "repository not found", "tag not found" or "digest not found" for a manifest 404,
    asking ``tags/list`` when the answer's code did not say (one request); ``error``'s
    own detail when the registry will not tell."""
    if error.missing is Missing.REPOSITORY:
        return "repository not found"
    try:
        response = await client.request(
            ref.registry,
            "GET",
            f"/v2/{ref.repository}/tags/list",
            params={"n": "1"},
            stream=True,
            kind="tags list",
            repository=ref.repository,
        )
    except RegistryError:
        return error.detail
    try:
        if response.status_code == 200:
            return "digest not found" if ref.digest is not None else "tag not found"
        if response.status_code == 404:
            listed = await RegistryError.from_response(response)
            if listed.missing is Missing.REPOSITORY:
                return "repository not found"
    finally:
        await response.aclose()
    return error.detail


def valid_digest(digest: str | None) -> bool:
    return digest is not None and _SHA256.fullmatch(digest) is not None


async def read_capped(response: httpx.Response, limit: int, what: str = "manifest") -> bytes:
    """Read a streamed body of at most ``limit`` bytes; a short, undecodable or too long
    body, or a timeout, is a :class:`RegistryError` naming ``what``."""
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RegistryError(Status.ERROR, f"{what} larger than {limit} bytes", 200)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise RegistryError(Status.ERROR, f"{what} larger than {limit} bytes", 200)
            chunks.append(chunk)
    except httpx.TimeoutException as error:
        raise RegistryError(Status.UNREACHABLE, f"timed out ({type(error).__name__})") from None
    except (httpx.TransportError, httpx.DecodingError) as error:
        raise RegistryError(
            Status.ERROR, f"truncated {what} body ({type(error).__name__})", 200
        ) from None
    body = b"".join(chunks)
    if declared and declared.isdigit() and int(declared) != len(body):
        raise RegistryError(Status.ERROR, f"truncated {what} body", 200)
    return body


def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise RegistryError(Status.ERROR, "manifest is not valid JSON", 200) from None
    if not isinstance(document, dict):
        raise RegistryError(Status.ERROR, "manifest is not a JSON object", 200)
    return document


def _media_type(content_type: str, document: dict[str, Any]) -> str:
    header = content_type.split(";")[0].strip()
    if header and header != "application/json":
        return header
    if isinstance(document.get("mediaType"), str):
        return str(document["mediaType"])
    return header or "application/json"


class ByDigest:
    """Manifests read by digest in one run, each GET made once per registry, repository
    and digest: a digest names immutable bytes, so the verdicts, the copy and the pull
    check can share one read (Docker Hub counts manifest GETs against its pull limit).
    A failure is remembered too, so a child listed a thousand times is asked for once.
    Bounded: bodies are kept up to ``BUDGET`` bytes in all; past that a read is not kept."""

    BUDGET = 64 * 1024 * 1024

    def __init__(self) -> None:
        self._reads: dict[tuple[str, str, str], asyncio.Task[Manifest]] = {}
        self._kept = 0

    async def get(
        self, key: tuple[str, str, str], read: Callable[[], Awaitable[Manifest]]
    ) -> Manifest:
        task = self._reads.get(key)
        if task is None:
            task = asyncio.ensure_future(read())
            if self._kept < self.BUDGET:
                self._reads[key] = task
                task.add_done_callback(lambda done: self._account(key, done))
        return await asyncio.shield(task)

    def forget(self, key: tuple[str, str, str]) -> None:
        """After a write: the next read asks the registry again."""
        task = self._reads.pop(key, None)
        if task is not None and task.done() and not task.cancelled() and not task.exception():
            self._kept -= len(task.result().body)

    def _account(self, key: tuple[str, str, str], done: asyncio.Task[Manifest]) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        if self._reads.get(key) is not done:
            return  # forgotten while in flight (a write came first): not kept, not counted
        self._kept += len(done.result().body)
        if self._kept > self.BUDGET:
            self._reads.pop(key, None)
            self._kept -= len(done.result().body)
