"""Reads by digest are shared within a run, failures included, and bounded in bytes."""

from __future__ import annotations

import asyncio

import pytest

from inspector.registry.errors import RegistryError
from inspector.registry.manifests import ByDigest, Manifest
from inspector.registry.model import Status

KEY = ("registry.example.com", "example/run", "sha256:" + "a" * 64)


def test_concurrent_and_later_reads_of_one_digest_make_one_request() -> None:
    calls: list[int] = []

    async def read() -> Manifest:
        calls.append(1)
        await asyncio.sleep(0)
        return Manifest(KEY[2], "application/vnd.oci.image.manifest.v1+json", b"{}")

    async def main() -> list[Manifest]:
        cache = ByDigest()
        first = await asyncio.gather(*(cache.get(KEY, read) for _ in range(50)))
        return [*first, await cache.get(KEY, read)]

    got = asyncio.run(main())
    assert len(calls) == 1
    assert {m.body for m in got} == {b"{}"}


def test_a_failed_read_is_remembered() -> None:
    calls: list[int] = []

    async def read() -> Manifest:
        calls.append(1)
        raise RegistryError(Status.MISSING, "HTTP 404")

    async def main() -> None:
        cache = ByDigest()
        for _ in range(3):
            with pytest.raises(RegistryError):
                await cache.get(KEY, read)

    asyncio.run(main())
    assert len(calls) == 1


def test_bodies_past_the_budget_are_not_kept() -> None:
    calls: list[str] = []

    def reader(digest: str, size: int):  # type: ignore[no-untyped-def]
        async def read() -> Manifest:
            calls.append(digest)
            return Manifest(digest, "application/octet-stream", b"x" * size)

        return read

    async def main() -> None:
        cache = ByDigest()
        cache.BUDGET = 100
        small = (*KEY[:2], "sha256:" + "1" * 64)
        large = (*KEY[:2], "sha256:" + "2" * 64)
        for _ in range(2):
            await cache.get(small, reader(small[2], 60))
            await cache.get(large, reader(large[2], 60))  # 120 > 100: not kept

    asyncio.run(main())
    assert calls.count("sha256:" + "1" * 64) == 1
    assert calls.count("sha256:" + "2" * 64) == 2


def test_a_write_makes_the_next_read_ask_again() -> None:
    calls: list[int] = []

    async def read() -> Manifest:
        calls.append(1)
        if len(calls) == 1:
            raise RegistryError(Status.MISSING, "HTTP 404")
        return Manifest(KEY[2], "application/vnd.oci.image.manifest.v1+json", b"{}")

    async def main() -> Manifest:
        cache = ByDigest()
        with pytest.raises(RegistryError):
            await cache.get(KEY, read)
        cache.forget(KEY)  # what put_manifest does after writing it
        return await cache.get(KEY, read)

    assert asyncio.run(main()).body == b"{}"
    assert len(calls) == 2


def test_a_read_forgotten_while_in_flight_is_not_counted() -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> Manifest:
        started.set()
        await release.wait()
        return Manifest(KEY[2], "application/octet-stream", b"x" * 60)

    async def main() -> ByDigest:
        cache = ByDigest()
        cache.BUDGET = 100
        pending = asyncio.ensure_future(cache.get(KEY, slow))
        await started.wait()
        cache.forget(KEY)  # a write of this manifest came first
        release.set()
        await pending
        return cache

    cache = asyncio.run(main())
    assert cache._kept == 0
