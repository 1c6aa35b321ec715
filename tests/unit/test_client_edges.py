"""RegistryClient.probe on answers a real distribution registry can't be made to give:
429 with Retry-After, HEAD without Docker-Content-Digest, a digest that does not match
the body, 5xx. respx routes stand in for the registry; retry waits are recorded and
shortened so the tests stay fast."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
import respx

from inspector.checks.evaluate import probe_all
from inspector.reference import Reference, parse
from inspector.registry import retry as retry_module
from inspector.registry.client import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    MANIFEST_ACCEPT,
    OCI_INDEX,
    OCI_MANIFEST,
    RETRY_ATTEMPTS,
    RegistryClient,
)
from inspector.registry.credentials import Keychain
from inspector.registry.hosts import RegistryHosts
from inspector.registry.model import Probe, Status

BASE = "https://registry.example.com"
REF = parse("registry.example.com/example/run:1.0")
MANIFEST_PATH = "/v2/example/run/manifests/1.0"
BODY = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": "x", "digest": "sha256:" + "0" * 64, "size": 1},
        "layers": [],
    }
).encode()
DIGEST = "sha256:" + hashlib.sha256(BODY).hexdigest()
OTHER_DIGEST = "sha256:" + hashlib.sha256(b"something else").hexdigest()


@pytest.fixture
def router() -> respx.Router:
    router = respx.Router(base_url=BASE, assert_all_called=False)
    router.get("/v2/").respond(200)
    return router


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every retry sleep, recorded and cut to nothing (the retry loop sleeps via asyncio.sleep)."""
    recorded: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float, result: Any = None) -> Any:
        recorded.append(seconds)
        await real_sleep(0)
        return result

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return recorded


def run_probes(router: respx.Router, refs: Sequence[Reference] = (REF,)) -> list[Probe]:
    async def go() -> list[Probe]:
        transport = httpx.MockTransport(router.async_handler)
        async with RegistryClient(RegistryHosts({}), Keychain({}), transport=transport) as client:
            return [await client.probe(ref) for ref in refs]

    return asyncio.run(go())


def probe(router: respx.Router, ref: Reference = REF) -> Probe:
    [result] = run_probes(router, [ref])
    return result


def ok_head(digest: str = DIGEST, media_type: str = DOCKER_MANIFEST) -> httpx.Response:
    return httpx.Response(
        200,
        headers={
            "Docker-Content-Digest": digest,
            "Content-Type": media_type,
            "Content-Length": str(len(BODY)),
        },
    )


# --- 429 and Retry-After ------------------------------------------------------------------------


def test_429_with_retry_after_waits_as_asked_then_succeeds(
    router: respx.Router, waits: list[float]
) -> None:
    head = router.head(MANIFEST_PATH)
    head.side_effect = [httpx.Response(429, headers={"Retry-After": "3"}), ok_head()]

    result = probe(router)

    assert (result.status, result.digest, result.http_status) == (Status.AVAILABLE, DIGEST, 200)
    assert head.call_count == 2
    assert waits == [3.0]


def test_retry_after_is_capped(
    router: respx.Router, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retry_module, "RETRY_AFTER_CAP", 1.5)
    head = router.head(MANIFEST_PATH)
    head.side_effect = [httpx.Response(429, headers={"Retry-After": "3600"}), ok_head()]

    result = probe(router)

    assert result.status is Status.AVAILABLE
    assert waits == [1.5]


def test_429_until_attempts_run_out_is_an_error_with_detail(
    router: respx.Router, waits: list[float]
) -> None:
    head = router.head(MANIFEST_PATH).respond(429, headers={"Retry-After": "0"})

    result = probe(router)

    assert result.status is Status.ERROR
    assert result.detail is not None and "429" in result.detail and "rate limited" in result.detail
    assert result.http_status == 429
    assert result.digest is None
    assert head.call_count == RETRY_ATTEMPTS
    assert waits == [0.0] * (RETRY_ATTEMPTS - 1)
    # pack's access check only drops 401/403 and network errors: a 429 counts as readable.
    assert result.readable_by_pack


# --- HEAD without a digest header ---------------------------------------------------------------


def test_head_without_digest_header_falls_back_to_get_and_hashes_the_body(
    router: respx.Router,
) -> None:
    head = router.head(MANIFEST_PATH).respond(200, headers={"Content-Type": DOCKER_MANIFEST})
    get = router.get(MANIFEST_PATH).respond(
        200, content=BODY, headers={"Content-Type": DOCKER_MANIFEST}
    )

    result = probe(router)

    assert (result.status, result.digest, result.media_type) == (
        Status.AVAILABLE,
        DIGEST,
        DOCKER_MANIFEST,
    )
    assert (head.call_count, get.call_count) == (1, 1)
    # Both requests ask for every manifest type, indexes first.
    for route in (head, get):
        accept = route.calls.last.request.headers["accept"]
        assert accept == MANIFEST_ACCEPT
        types = [t.strip() for t in accept.split(",")]
        assert types[:4] == [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST]


def test_head_refused_with_405_falls_back_to_get(router: respx.Router) -> None:
    router.head(MANIFEST_PATH).respond(405)
    get = router.get(MANIFEST_PATH).respond(
        200,
        content=BODY,
        headers={"Content-Type": DOCKER_MANIFEST, "Docker-Content-Digest": DIGEST},
    )

    result = probe(router)

    assert (result.status, result.digest, result.http_status) == (Status.AVAILABLE, DIGEST, 200)
    assert get.call_count == 1


def test_get_with_generic_content_type_takes_media_type_from_the_body(
    router: respx.Router,
) -> None:
    router.head(MANIFEST_PATH).respond(200)
    router.get(MANIFEST_PATH).respond(
        200, content=BODY, headers={"Content-Type": "application/json"}
    )

    result = probe(router)

    assert (result.digest, result.media_type) == (DIGEST, DOCKER_MANIFEST)


# --- digest mismatch ------------------------------------------------------------------------------


def test_header_digest_differs_from_body_is_an_error(router: respx.Router) -> None:
    router.head(MANIFEST_PATH).respond(200, headers={"Content-Type": DOCKER_MANIFEST})
    router.get(MANIFEST_PATH).respond(
        200,
        content=BODY,
        headers={"Content-Type": DOCKER_MANIFEST, "Docker-Content-Digest": OTHER_DIGEST},
    )

    result = probe(router)

    assert result.status is Status.ERROR
    assert result.detail is not None and "digest mismatch" in result.detail
    assert result.digest is None


def test_digest_reference_served_another_digest_is_an_error(router: respx.Router) -> None:
    pinned = parse(f"registry.example.com/example/run@{DIGEST}")
    router.head(f"/v2/example/run/manifests/{DIGEST}").mock(return_value=ok_head(OTHER_DIGEST))

    result = probe(router, pinned)

    assert result.status is Status.ERROR
    assert result.detail is not None and "digest mismatch" in result.detail


def test_digest_reference_body_that_hashes_differently_is_an_error(router: respx.Router) -> None:
    pinned = parse(f"registry.example.com/example/run@{OTHER_DIGEST}")
    path = f"/v2/example/run/manifests/{OTHER_DIGEST}"
    router.head(path).respond(200)  # no digest header: the body decides
    router.get(path).respond(200, content=BODY, headers={"Content-Type": DOCKER_MANIFEST})

    result = probe(router, pinned)

    assert result.status is Status.ERROR
    assert result.detail is not None and "digest mismatch" in result.detail


def test_digest_reference_that_matches_is_available(router: respx.Router) -> None:
    pinned = parse(f"registry.example.com/example/run@{DIGEST}")
    router.head(f"/v2/example/run/manifests/{DIGEST}").mock(return_value=ok_head())

    result = probe(router, pinned)

    assert (result.status, result.digest) == (Status.AVAILABLE, DIGEST)


# --- 5xx ------------------------------------------------------------------------------------------


def test_500_is_an_error_without_retry(router: respx.Router, waits: list[float]) -> None:
    head = router.head(MANIFEST_PATH).respond(500)

    result = probe(router)

    assert (result.status, result.detail, result.http_status) == (Status.ERROR, "HTTP 500", 500)
    assert head.call_count == 1
    assert waits == []


def test_503_is_retried_then_succeeds(router: respx.Router, waits: list[float]) -> None:
    head = router.head(MANIFEST_PATH)
    head.side_effect = [httpx.Response(503), httpx.Response(502), ok_head()]

    result = probe(router)

    assert (result.status, result.digest) == (Status.AVAILABLE, DIGEST)
    assert head.call_count == 3
    # No Retry-After: exponential backoff with jitter, from BACKOFF_INITIAL up to 2 s.
    assert len(waits) == 2
    assert all(retry_module.BACKOFF_INITIAL <= w <= 2.0 for w in waits)


def test_503_until_attempts_run_out_is_an_error(router: respx.Router, waits: list[float]) -> None:
    head = router.head(MANIFEST_PATH).respond(503)

    result = probe(router)

    assert (result.status, result.detail, result.http_status) == (Status.ERROR, "HTTP 503", 503)
    assert head.call_count == RETRY_ATTEMPTS


def test_one_failing_reference_does_not_hide_the_others(router: respx.Router) -> None:
    router.head(MANIFEST_PATH).respond(500)
    router.head("/v2/example/other/manifests/1.0").mock(return_value=ok_head())
    router.head("/v2/example/gone/manifests/1.0").respond(404)
    unknown = {"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known"}]}
    router.get("/v2/example/gone/tags/list").respond(404, json=unknown)
    refs = [parse(f"registry.example.com/example/{name}:1.0") for name in ("run", "other", "gone")]

    async def go() -> dict[str, Probe]:
        transport = httpx.MockTransport(router.async_handler)
        async with RegistryClient(RegistryHosts({}), Keychain({}), transport=transport) as client:
            return await probe_all(client, refs)

    results = asyncio.run(go())

    assert [(p.status, p.digest, p.detail) for p in results.values()] == [
        (Status.ERROR, None, "HTTP 500"),
        (Status.AVAILABLE, DIGEST, None),
        (Status.MISSING, None, "repository not found"),
    ]
    # One ping for the registry, one HEAD each, one tags/list for the missing one.
    assert router.calls.call_count == 1 + 3 + 1
