"""Listing what hangs off a digest: the tag list and the OCI 1.1 referrers API.

Two registry calls the image checks never need, kept apart from the client:

* ``GET /v2/<name>/tags/list`` (paginated with ``n`` and the ``Link`` header, distribution's
  and the OCI spec's scheme): where cosign's ``sha256-<hex>.sig``/``.att``/``.sbom`` tags and
  the referrers fallback tag ``sha256-<hex>`` are found in one request;
* ``GET /v2/<name>/referrers/<digest>`` (OCI distribution 1.1): an index of the manifests
  whose ``subject`` is ``digest``. A registry that has the API never answers 404 there
  (the spec says so), so a 404 means "no API: look at the fallback tag"; like
  go-containerregistry, 400, 406 and a 200 that is not an OCI index mean the same.

Every body is read capped, every answer's shape checked; nothing is trusted further.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from inspector.reference import Reference
from inspector.registry.client import (
    OCI_INDEX,
    RegistryClient,
    RegistryError,
    read_capped,
)
from inspector.registry.model import Status

MAX_LIST_BYTES = 4 * 1024 * 1024  # per page
MAX_PAGES = 50  # 50 pages of 1,000 tags: a repository larger than that is not read whole
TAGS_PAGE = 1000
FILTERS_HEADER = "oci-filters-applied"
NO_API = frozenset({400, 404, 406})
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
# Digests from a registry's answers end up in request paths: only well-formed ones.
DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")


def valid_digest(value: object) -> bool:
    return isinstance(value, str) and DIGEST.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Descriptor:
    """A referrer as the referrers index lists it."""

    digest: str
    media_type: str
    size: int
    artifact_type: str | None = None
    annotations: tuple[tuple[str, str], ...] = ()

    def document(self) -> dict[str, Any]:
        """The descriptor as JSON (for writing a fallback index)."""
        value: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.artifact_type:
            value["artifactType"] = self.artifact_type
        if self.annotations:
            value["annotations"] = dict(self.annotations)
        return value


@dataclass(frozen=True, slots=True)
class Referrers:
    """The answer of the referrers API: ``supported`` is False when it answered 404."""

    supported: bool
    descriptors: tuple[Descriptor, ...] = ()


def _next_page(response: httpx.Response) -> str | None:
    match = _NEXT.search(response.headers.get("link", ""))
    return match[1] if match else None


async def _read_json(response: httpx.Response, what: str) -> Any:
    try:
        body = await read_capped(response, MAX_LIST_BYTES, what)
    finally:
        await response.aclose()
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise RegistryError(Status.ERROR, f"{what} is not valid JSON", 200) from None


def _http_error(response: httpx.Response, what: str) -> RegistryError:
    """The one status mapping (``registry/errors.py``); the body is not read here."""
    return RegistryError.from_status(response.status_code, what)


async def list_tags(client: RegistryClient, ref: Reference) -> list[str]:
    """Every tag of ``ref``'s repository (an unknown repository has none). Raises
    :class:`RegistryError` when the registry will not list them."""
    path: str | None = f"/v2/{ref.repository}/tags/list"
    params: dict[str, str] | None = {"n": str(TAGS_PAGE)}
    tags: list[str] = []
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        if path is None or path in seen:
            break  # the end, or a Link back to a page already read
        seen.add(path)
        response = await client.request(
            ref.registry,
            "GET",
            path,
            params=params,
            stream=True,
            kind="tags list",
            repository=ref.repository,  # the token's scope, as data
        )
        if response.status_code == 404:
            await response.aclose()
            return tags  # NAME_UNKNOWN: a repository nobody pushed to has no tags
        if response.status_code != 200:
            await response.aclose()
            raise _http_error(response, "tag list")
        document = await _read_json(response, "tag list")
        page = document.get("tags") if isinstance(document, dict) else None
        tags.extend(t for t in page or [] if isinstance(t, str))
        # The Link URL carries its own n and last; it may be relative or absolute.
        path, params = _next_page(response), None
    if path is not None and path not in seen:
        # Not read whole: the caller must not take a tag's absence from this list.
        raise RegistryError(Status.ERROR, f"tag list longer than {MAX_PAGES} pages")
    return tags


def _descriptor(value: Any) -> Descriptor | None:
    if not isinstance(value, dict):
        return None
    digest, media_type, size = value.get("digest"), value.get("mediaType"), value.get("size")
    if not (valid_digest(digest) and isinstance(media_type, str) and isinstance(size, int)):
        return None
    assert isinstance(digest, str)
    artifact_type = value.get("artifactType")
    raw = value.get("annotations")
    annotations = tuple(
        sorted((k, v) for k, v in raw.items() if isinstance(k, str) and isinstance(v, str))
        if isinstance(raw, dict)
        else ()
    )
    return Descriptor(
        digest,
        media_type,
        size,
        artifact_type if isinstance(artifact_type, str) else None,
        annotations,
    )


def index_descriptors(document: Any) -> tuple[Descriptor, ...]:
    """The well-formed entries of an index's ``manifests`` (a referrers answer or a fallback
    tag's index); malformed ones are dropped."""
    entries = document.get("manifests") if isinstance(document, dict) else None
    found = (_descriptor(entry) for entry in (entries if isinstance(entries, list) else []))
    return tuple(d for d in found if d is not None)


async def referrers(
    client: RegistryClient, ref: Reference, digest: str, artifact_type: str | None = None
) -> Referrers:
    """The manifests whose ``subject`` is ``digest`` in ``ref``'s repository, optionally
    only those of ``artifact_type`` (the registry filters when it says so in
    ``OCI-Filters-Applied``, else we do)."""
    path: str | None = f"/v2/{ref.repository}/referrers/{digest}"
    params = {"artifactType": artifact_type} if artifact_type else None
    found: list[Descriptor] = []
    for page in range(MAX_PAGES):
        if path is None:
            break
        response = await client.request(
            ref.registry,
            "GET",
            path,
            params=params,
            headers={"Accept": OCI_INDEX},
            stream=True,
            kind="referrers",
            repository=ref.repository,  # the token's scope, as data
        )
        content_type = response.headers.get("content-type", "").split(";")[0].strip()
        status = response.status_code
        if page == 0 and (status in NO_API or (status == 200 and content_type != OCI_INDEX)):
            # go-containerregistry's rule: the API only when it answers 200 with an OCI
            # index; 404 (the spec's answer), 400 and 406 mean "use the fallback tag".
            await response.aclose()
            return Referrers(supported=False)
        if response.status_code != 200:
            await response.aclose()
            raise _http_error(response, "referrers")
        applied = response.headers.get(FILTERS_HEADER, "").split(",")
        filtered = "artifactType" in (name.strip() for name in applied)
        descriptors = index_descriptors(await _read_json(response, "referrers index"))
        if artifact_type and not filtered:
            descriptors = tuple(d for d in descriptors if d.artifact_type == artifact_type)
        found.extend(descriptors)
        path, params = _next_page(response), None
    return Referrers(True, tuple(found))


async def head(client: RegistryClient, ref: Reference, identifier: str) -> tuple[int, str | None]:
    """HEAD a manifest by tag or digest: (HTTP status, digest served). A 200 without a
    usable digest header is read with a GET (the digest is then the body's)."""
    response = await client.manifest_request(ref, "HEAD", identifier=identifier)
    await response.aclose()
    digest = response.headers.get("docker-content-digest")
    if response.status_code == 200 and not (digest and digest.startswith("sha256:")):
        return 200, (await client.get_manifest(ref, identifier)).digest
    if response.status_code == 405:
        # A registry that refuses HEAD on manifests (as probe() and the verdicts allow for).
        try:
            return 200, (await client.get_manifest(ref, identifier)).digest
        except RegistryError as error:
            if error.status is Status.MISSING:
                return 404, None
            raise
    if response.status_code in (401, 403):
        raise _http_error(response, f"HEAD {identifier[:30]}")
    return response.status_code, digest if response.status_code == 200 else None
