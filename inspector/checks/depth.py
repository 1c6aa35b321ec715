"""What a mirror really holds: its tree of manifests, and whether each child and blob is there.

Every request is made once per run: a manifest body once per digest (content addressed,
so the run image's copy serves every mirror with that digest), a presence HEAD once per
registry + repository + digest. All of them run concurrently, bounded by the client's
``--concurrency``.

Cost (R registries, M mirrors of a run image that is an index of C entries, nested
indexes included): a top-level check is R pings + M + 1 HEADs. The default depth adds one
GET of the run image's index (plus one per nested index) and C HEADs per repository that
serves it, the run image's own included. ``--deep`` adds one GET per image manifest and
one HEAD per distinct config/layer blob per repository. A mirror with another digest
costs one GET of its index (and of its own nested indexes and, with ``--deep``, of the
image manifests the run image does not have).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from inspector.checks.verdict import (
    INDEX_MEDIA_TYPES,
    MAX_DEPTH,
    Leaf,
    Problem,
    Tree,
    descriptors,
    flatten,
    image_blobs,
    missing_blob,
    missing_manifest,
    pick_leaf,
    single,
)

__all__ = ["Depth", "Unverifiable", "blobs_of", "pick_leaf"]
from inspector.reference import Reference
from inspector.registry import push
from inspector.registry.client import Manifest, RegistryClient, RegistryError
from inspector.registry.hosts import canonical
from inspector.registry.model import Status


class Unverifiable(Exception):
    """A presence check or a manifest read got no usable answer; ``missing`` when the
    registry said the manifest is not there (a 404), which callers may treat as absent."""

    def __init__(self, detail: str, *, missing: bool = False) -> None:
        super().__init__(detail)
        self.missing = missing


@dataclass(frozen=True, slots=True)
class Blob:
    digest: str
    role: str  # "config" or "layer"


def blobs_of(document: Any) -> list[Blob]:
    """Config and layers of an image manifest (foreign layers live elsewhere)."""
    return [
        Blob(d["digest"], role)
        for role, d in image_blobs(document)
        if isinstance(d.get("digest"), str)
    ]


def _once(cache: dict[Any, asyncio.Task[Any]], key: Any, make: Callable[[], Awaitable[Any]]) -> Any:
    task = cache.get(key)
    if task is None:
        task = asyncio.ensure_future(make())
        cache[key] = task
    return asyncio.shield(task)


class Depth:
    """Trees and presence checks for one run, each request made once."""

    def __init__(self, client: RegistryClient, *, deep: bool = False) -> None:
        self.client = client
        self.deep = deep
        # Manifest bodies are not kept here: the client shares reads by digest within its
        # byte budget (``registry.manifests.ByDigest``), failures included.
        self._present: dict[tuple[str, str, str, str], asyncio.Task[bool]] = {}

    # -- bodies ----------------------------------------------------------------------

    async def manifest(self, ref: Reference, digest: str) -> Manifest:
        """GET by digest (the client asks once per repository and digest in a run)."""
        try:
            return await self.client.get_manifest(ref, digest)
        except RegistryError as error:
            missing = error.status is Status.MISSING
            raise Unverifiable(f"reading {digest}: {error.detail}", missing=missing) from None

    async def tree(self, ref: Reference, digest: str, media_type: str | None) -> Tree:
        """The tree behind ``digest``: no request for a single manifest; the index and its
        nested indexes (to ``MAX_DEPTH``) otherwise."""
        if media_type not in INDEX_MEDIA_TYPES:
            return single(digest)
        top = (await self.manifest(ref, digest)).json()
        nested: dict[str, Any] = {}
        # A bounded number of distinct manifests in the whole tree (as sync's copy has):
        # a hostile index of thousands of children is refused before one is asked for.
        fanout = push.Fanout()
        level, depth = [top], 0
        while level and depth + 1 < MAX_DEPTH:
            listed = [d for doc in level for d in descriptors(doc)]
            try:
                fanout.take([d.digest for d in listed])
            except RegistryError as error:
                raise Unverifiable(error.detail) from None
            wanted = [d.digest for d in listed if d.is_index and d.digest not in nested]
            wanted = list(dict.fromkeys(wanted))
            documents = await asyncio.gather(
                *(self._maybe(ref, d) for d in wanted), return_exceptions=False
            )
            level = []
            for child, document in zip(wanted, documents, strict=True):
                if document is not None:
                    nested[child] = document
                    level.append(document)
            depth += 1
        return flatten(digest, top, nested)

    async def _maybe(self, ref: Reference, digest: str) -> Any:
        """A nested index's document, or ``None`` when it is missing (a presence
        problem reported by :meth:`verify`). Any other failure leaves the tree unknown:
        a subtree that could not be read must never look like an empty one."""
        try:
            return (await self.manifest(ref, digest)).json()
        except Unverifiable as error:
            if error.missing:
                return None
            raise

    # -- presence ---------------------------------------------------------------------

    async def present(self, ref: Reference, kind: str, digest: str) -> bool:
        key = (canonical(ref.registry), ref.repository, kind, digest)
        try:
            # push's presence check: HEAD, and a GET where a registry refuses HEAD (405).
            exists = push.manifest_exists if kind == "manifests" else push.blob_exists
            result: bool = await _once(self._present, key, lambda: exists(self.client, ref, digest))
        except RegistryError as error:
            raise Unverifiable(error.detail) from None  # "HEAD blob sha256:…: HTTP 500"
        return result

    async def verify(
        self,
        ref: Reference,
        tree: Tree,
        *,
        source: Reference | None = None,
        deep: bool | None = None,
        leaves: Iterable[Leaf] | None = None,
    ) -> tuple[list[Problem], list[str]]:
        """What ``tree`` references that ``ref``'s repository lacks: every nested index
        and child manifest (HEAD), and with ``deep`` every config and layer blob of
        ``leaves`` (default: all). ``source`` is where manifest bodies are read first
        (the run image). Returns (problems, what could not be checked)."""
        deep = self.deep if deep is None else deep
        problems: list[Problem] = []
        unchecked: list[str] = []

        async def check_manifest(digest: str, label: str, index: bool) -> bool:
            try:
                there = await self.present(ref, "manifests", digest)
            except Unverifiable as error:
                unchecked.append(str(error))
                return False
            if not there:
                problems.append(missing_manifest(digest, label, index=index))
            return there

        jobs: list[Awaitable[bool]] = [check_manifest(d, label, True) for d, label in tree.indexes]
        if tree.is_index:
            for leaf in dict.fromkeys(tree.leaves):
                jobs.append(check_manifest(leaf.digest, leaf.label, False))
        await asyncio.gather(*jobs)
        if deep:
            chosen = dict.fromkeys(tree.leaves if leaves is None else leaves)  # each once
            await asyncio.gather(
                *(self._leaf_blobs(ref, source, leaf, problems, unchecked) for leaf in chosen)
            )
        return problems, unchecked

    async def _leaf_blobs(
        self,
        ref: Reference,
        source: Reference | None,
        leaf: Leaf,
        problems: list[Problem],
        unchecked: list[str],
    ) -> None:
        manifest: Manifest | None = None
        failure = f"{leaf.digest}: not readable"
        for where in (source, ref):
            if where is None:
                continue
            try:
                manifest = await self.manifest(where, leaf.digest)
                break
            except Unverifiable as error:
                failure = str(error)
        if manifest is None:
            if not any(p.text.startswith(f"child {leaf.digest}") for p in problems):
                unchecked.append(failure)
            return
        try:
            blobs = blobs_of(manifest.json())
        except RegistryError as error:
            unchecked.append(f"{leaf.digest}: {error.detail}")
            return

        async def one(blob: Blob) -> None:
            try:
                if not await self.present(ref, "blobs", blob.digest):
                    problems.append(missing_blob(blob.digest, blob.role, leaf.label))
            except Unverifiable as error:
                unchecked.append(str(error))

        await asyncio.gather(*(one(b) for b in blobs))
