"""The run image as a faithful copy needs it: every manifest (children before the index
that lists them, each once) and every distinct blob, read from the source by digest."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from inspector.checks.verdict import MAX_DEPTH, image_blobs
from inspector.reference import Reference
from inspector.registry import push
from inspector.registry.client import Manifest, RegistryClient, RegistryError
from inspector.registry.model import Status

MAX_INDEX_DEPTH = MAX_DEPTH  # the depth the verdicts follow, documented in the README


@dataclass(frozen=True, slots=True)
class ImageTree:
    """Everything a faithful copy needs: the top manifest, the manifests it references
    (children before the index that lists them), and the distinct blobs."""

    top: Manifest
    children: tuple[Manifest, ...]
    blobs: tuple[push.Blob, ...]


def _descriptors(document: Any, key: str) -> list[dict[str, Any]]:
    value = document.get(key) if isinstance(document, dict) else None
    if isinstance(value, dict):
        value = [value]
    return [d for d in value if isinstance(d, dict)] if isinstance(value, list) else []


def _blob(descriptor: dict[str, Any]) -> push.Blob:
    digest, size = descriptor.get("digest"), descriptor.get("size")
    if not isinstance(digest, str) or not isinstance(size, int) or size < 0:
        raise RegistryError(Status.ERROR, "manifest has a descriptor without digest or size")
    return push.Blob(digest, size, str(descriptor.get("mediaType", "")))


async def load_tree(client: RegistryClient, ref: Reference, digest: str) -> ImageTree:
    top = await client.get_manifest(ref, digest)
    children: list[Manifest] = []
    blobs: dict[str, push.Blob] = {}
    fanout = push.Fanout()  # each child once, and a bounded number in all

    async def walk(manifest: Manifest, depth: int) -> None:
        document = manifest.json()
        if manifest.is_index:
            if depth >= MAX_INDEX_DEPTH:
                raise RegistryError(Status.ERROR, "indexes nested too deeply")
            # A child listed twice (e.g. under two platforms) is fetched and copied once.
            listed = fanout.take([_blob(d).digest for d in _descriptors(document, "manifests")])
            digests = [d for d in listed if d != digest]  # an index listing itself
            fetched = await asyncio.gather(*(client.get_manifest(ref, d) for d in digests))
            for child in fetched:
                await walk(child, depth + 1)
                children.append(child)
            return
        if isinstance(document, dict) and "fsLayers" in document:
            raise RegistryError(Status.ERROR, "Docker schema 1 manifests are not supported")
        for _, descriptor in image_blobs(document):
            blob = _blob(descriptor)
            blobs.setdefault(blob.digest, blob)

    await walk(top, 0)
    return ImageTree(top, tuple(children), tuple(blobs.values()))
