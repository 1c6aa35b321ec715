"""RegistryClient against respx routes: every transport fault becomes a status with a detail.

The answers a real registry (or the fault proxy in tests/integration) cannot be made to give
live here: exceptions from the transport (refused, DNS, TLS, timeouts, resets), redirects
to other hosts, oversized and undecodable bodies, hangs longer than the ceiling. 429/5xx and
digest mismatches on HEAD/GET are in test_client_edges.py and not repeated here.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx
import pytest
import respx

from inspector.reference import Reference, parse
from inspector.registry import client as client_module
from inspector.registry import retry as retry_module
from inspector.registry.client import (
    DOCKER_MANIFEST,
    MAX_MANIFEST_BYTES,
    MAX_REDIRECTS,
    RETRY_ATTEMPTS,
    RegistryClient,
    RegistryError,
)
from inspector.registry.credentials import Credential, Keychain
from inspector.registry.hosts import HostConfig, RegistryHosts
from inspector.registry.model import Probe, Status

BASE = "https://registry.example.com"
REF = parse("registry.example.com/example/run:1.0")
MANIFEST = f"{BASE}/v2/example/run/manifests/1.0"
BODY = json.dumps({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "layers": []}).encode()
DIGEST = "sha256:" + hashlib.sha256(BODY).hexdigest()


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry_module, "BACKOFF_INITIAL", 0.001)
    monkeypatch.setattr(retry_module, "BACKOFF_MAX", 0.002)


@pytest.fixture
def router() -> respx.Router:
    router = respx.Router(assert_all_called=False)
    router.get(f"{BASE}/v2/").respond(200)
    return router


def run(
    router: respx.Router,
    job: Callable[[RegistryClient], Any],
    *,
    hosts: RegistryHosts | None = None,
    keychain: Keychain | None = None,
    timeout: float = 2.0,
) -> Any:
    async def go() -> Any:
        transport = httpx.MockTransport(router.async_handler)
        async with RegistryClient(
            hosts or RegistryHosts({}), keychain, timeout=timeout, transport=transport
        ) as client:
            return await job(client)

    return asyncio.run(go())


def probe(router: respx.Router, ref: Reference = REF, **kwargs: Any) -> Probe:
    result: Probe = run(router, lambda client: client.probe(ref), **kwargs)
    return result


def ok_head() -> httpx.Response:
    return httpx.Response(
        200, headers={"Docker-Content-Digest": DIGEST, "Content-Type": DOCKER_MANIFEST}
    )


def get_manifest(router: respx.Router, **kwargs: Any) -> Any:
    async def job(client: RegistryClient) -> Any:
        try:
            return await client.get_manifest(REF)
        except RegistryError as error:
            return error

    return run(router, job, **kwargs)


# --- network failures: a status and a detail, never an exception ----------------------------


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), Status.UNREACHABLE, "refused"),
        (
            httpx.ConnectError("[Errno -2] Name or service not known"),
            Status.UNREACHABLE,
            "DNS lookup failed",
        ),
        (
            httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            Status.UNREACHABLE,
            "TLS error",
        ),
        (httpx.ConnectTimeout("timed out"), Status.UNREACHABLE, "timed out (ConnectTimeout)"),
        (httpx.ReadTimeout("timed out"), Status.UNREACHABLE, "timed out (ReadTimeout)"),
        (httpx.ReadError("[Errno 104] Connection reset by peer"), Status.UNREACHABLE, "reset"),
        (
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            Status.UNREACHABLE,
            "RemoteProtocolError",
        ),
        (
            httpx.UnsupportedProtocol("Request URL has an unsupported protocol"),
            Status.UNREACHABLE,
            "Unsupported",
        ),
    ],
)
def test_transport_failure_on_ping_is_a_status_with_a_detail(
    error: Exception, status: Status, detail: str
) -> None:
    router = respx.Router(assert_all_called=False)
    router.get(f"{BASE}/v2/").mock(side_effect=error)

    result = probe(router)

    assert result.status is status
    assert result.detail is not None and detail in result.detail
    assert result.detail.startswith(BASE)  # names the URL that failed
    assert result.http_status is None and not result.readable_by_pack


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (httpx.ReadError("connection reset"), True),
        (httpx.RemoteProtocolError("Server disconnected"), True),
        (httpx.WriteError("broken pipe"), True),
        (httpx.ReadTimeout("timed out"), False),  # a retry would double a dead registry's cost
        (httpx.ConnectError("[Errno 111] Connection refused"), False),
    ],
)
def test_only_dropped_connections_are_retried(
    router: respx.Router, error: Exception, retried: bool
) -> None:
    head = router.head(MANIFEST).mock(side_effect=error)

    result = probe(router)

    assert result.status is Status.UNREACHABLE
    assert head.call_count == (RETRY_ATTEMPTS if retried else 1)


def test_dropped_connection_then_answer_is_available(router: respx.Router) -> None:
    head = router.head(MANIFEST)
    head.side_effect = [httpx.RemoteProtocolError("Server disconnected"), ok_head()]

    result = probe(router)

    assert (result.status, result.digest, head.call_count) == (Status.AVAILABLE, DIGEST, 2)


def test_writes_are_never_retried(router: respx.Router) -> None:
    post = router.post(f"{BASE}/v2/example/run/blobs/uploads/")
    post.side_effect = [httpx.Response(503), httpx.Response(202)]
    reset = router.put(f"{BASE}/v2/example/run/manifests/1.0")
    reset.side_effect = httpx.ReadError("connection reset")

    async def job(client: RegistryClient) -> tuple[int, str]:
        response = await client.request(
            "registry.example.com", "POST", "/v2/example/run/blobs/uploads/"
        )
        try:
            await client.request(
                "registry.example.com", "PUT", "/v2/example/run/manifests/1.0", content=b"{}"
            )
        except RegistryError as error:
            return response.status_code, error.detail
        raise AssertionError("PUT should fail")

    status, detail = run(router, job)

    assert (status, post.call_count) == (503, 1)
    assert (reset.call_count, detail) == (1, "connection reset")


def test_backoff_doubles_and_is_jittered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry_module, "BACKOFF_INITIAL", 0.2)
    monkeypatch.setattr(retry_module, "BACKOFF_MAX", 2.0)
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float, result: Any = None) -> Any:
        waits.append(seconds)
        await real_sleep(0)
        return result

    monkeypatch.setattr(asyncio, "sleep", sleep)
    runs = []
    for _ in range(5):
        router = respx.Router(assert_all_called=False)
        router.get(f"{BASE}/v2/").respond(200)
        router.head(MANIFEST).respond(503)
        waits.clear()
        assert probe(router).status is Status.ERROR
        runs.append(list(waits))

    for first, second in runs:  # 0.2 s, then 0.4 s, each plus up to 0.2 s of jitter
        assert 0.2 <= first <= 0.4 and 0.4 <= second <= 0.6
    assert len({tuple(r) for r in runs}) > 1  # jittered: not the same waits every time


def test_retry_after_wait_is_honoured_in_real_time(router: respx.Router) -> None:
    head = router.head(MANIFEST)
    head.side_effect = [httpx.Response(429, headers={"Retry-After": "0.3"}), ok_head()]

    started = time.monotonic()
    result = probe(router)
    elapsed = time.monotonic() - started

    assert result.status is Status.AVAILABLE
    assert 0.3 <= elapsed < 1.5


@pytest.mark.parametrize("value", ["Wed, 21 Oct 2015 07:28:00 GMT", "nan", "-5", "soon"])
def test_unusable_retry_after_falls_back_to_backoff(router: respx.Router, value: str) -> None:
    head = router.head(MANIFEST)
    head.side_effect = [httpx.Response(429, headers={"Retry-After": value}), ok_head()]

    started = time.monotonic()
    result = probe(router)

    assert result.status is Status.AVAILABLE
    assert time.monotonic() - started < 1.0


def test_a_hanging_answer_is_cut_at_the_ceiling(router: respx.Router) -> None:
    async def never(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        raise AssertionError("not reached")

    router.head(MANIFEST).mock(side_effect=never)

    started = time.monotonic()
    result = probe(router, timeout=0.1)
    elapsed = time.monotonic() - started

    assert result.status is Status.UNREACHABLE
    assert result.detail is not None and "timed out" in result.detail
    assert elapsed < 0.1 * client_module.CEILING_FACTOR + 0.5


def test_an_upload_is_not_cut_at_the_ceiling(router: respx.Router) -> None:
    async def slow_store(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.4)  # a big layer: longer than the ceiling, still fine
        return httpx.Response(201)

    router.put(f"{BASE}/v2/example/run/blobs/uploads/1").mock(side_effect=slow_store)

    async def job(client: RegistryClient) -> int:
        response = await client.request(
            "registry.example.com", "PUT", "/v2/example/run/blobs/uploads/1", content=b"layer"
        )
        return response.status_code

    assert 0.1 * client_module.CEILING_FACTOR < 0.4
    assert run(router, job, timeout=0.1) == 201


def test_a_trickling_manifest_body_is_cut_at_the_ceiling(router: respx.Router) -> None:
    async def trickle() -> AsyncIterator[bytes]:
        yield b"{"
        while True:  # a byte now and then: no single read ever times out
            await asyncio.sleep(0.02)
            yield b" "

    router.get(MANIFEST).mock(
        return_value=httpx.Response(
            200, headers={"Content-Type": DOCKER_MANIFEST}, stream=_Stream(trickle())
        )
    )

    started = time.monotonic()
    error = get_manifest(router, timeout=0.1)

    assert isinstance(error, RegistryError)
    assert error.status is Status.UNREACHABLE and "timed out" in error.detail
    assert time.monotonic() - started < 0.1 * client_module.CEILING_FACTOR + 0.5


class _Stream(httpx.AsyncByteStream):
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            yield chunk


# --- bodies ---------------------------------------------------------------------------------


def test_manifest_over_4_mib_is_refused_by_declared_length(router: respx.Router) -> None:
    router.get(MANIFEST).respond(
        200, headers={"Content-Length": str(MAX_MANIFEST_BYTES + 1)}, content=b""
    )

    error = get_manifest(router)

    assert isinstance(error, RegistryError)
    assert error.status is Status.ERROR and "larger than 4194304 bytes" in error.detail


def test_manifest_over_4_mib_without_length_stops_reading_at_the_cap(
    router: respx.Router,
) -> None:
    served = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal served
        while True:
            served += 65536
            yield b" " * 65536

    router.get(MANIFEST).mock(return_value=httpx.Response(200, stream=_Stream(endless())))

    error = get_manifest(router)

    assert isinstance(error, RegistryError) and "larger than" in error.detail
    assert MAX_MANIFEST_BYTES < served <= MAX_MANIFEST_BYTES + 65536


def chunks(*parts: bytes) -> _Stream:
    async def each() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    return _Stream(each())


def test_gzip_bomb_is_capped_on_the_decoded_size(router: respx.Router) -> None:
    bomb = gzip.compress(b" " * (MAX_MANIFEST_BYTES + 1024))
    router.get(MANIFEST).mock(
        return_value=httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=chunks(bomb))
    )

    error = get_manifest(router)

    assert len(bomb) < 10_000
    assert isinstance(error, RegistryError) and "larger than" in error.detail


def test_undecodable_body_is_an_error_not_a_crash(router: respx.Router) -> None:
    router.get(MANIFEST).mock(
        return_value=httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, stream=chunks(b"not gzip")
        )
    )

    error = get_manifest(router)

    assert isinstance(error, RegistryError)
    assert error.status is Status.ERROR and "DecodingError" in error.detail


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"<html>gateway</html>", "manifest is not valid JSON"),
        (b'{"schemaVersion": 2, "layers": [', "manifest is not valid JSON"),
        (b"[1, 2, 3]", "manifest is not a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "manifest is not valid JSON"),
    ],
)
def test_non_json_manifest_is_an_error_even_with_a_manifest_content_type(
    router: respx.Router, body: bytes, detail: str
) -> None:
    router.head(MANIFEST).respond(200, headers={"Content-Type": DOCKER_MANIFEST})
    router.get(MANIFEST).respond(200, headers={"Content-Type": DOCKER_MANIFEST}, content=body)

    result = probe(router)

    assert (result.status, result.detail, result.digest) == (Status.ERROR, detail, None)


def test_body_shorter_than_its_length_is_truncated(router: respx.Router) -> None:
    router.get(MANIFEST).respond(200, headers={"Content-Length": str(len(BODY) + 10)}, content=BODY)

    error = get_manifest(router)

    assert isinstance(error, RegistryError) and "truncated manifest body" in error.detail


@pytest.mark.parametrize("header", ["sha256:zz" + "0" * 62, "sha256:abc", "md5:1234", ""])
def test_malformed_digest_header_on_head_is_not_trusted(router: respx.Router, header: str) -> None:
    router.head(MANIFEST).respond(200, headers={"Docker-Content-Digest": header})
    get = router.get(MANIFEST).respond(200, headers={"Content-Type": DOCKER_MANIFEST}, content=BODY)

    result = probe(router)

    assert (result.status, result.digest, get.call_count) == (Status.AVAILABLE, DIGEST, 1)


# --- status codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "detail"),
    [
        (401, Status.UNAUTHORIZED, "HTTP 401 unauthorized"),
        (403, Status.UNAUTHORIZED, "HTTP 403 denied"),
        # The repository lists its tags: the tag is what is missing.
        (404, Status.MISSING, "tag not found"),
    ],
)
def test_http_refusals_map_to_statuses(
    router: respx.Router, code: int, status: Status, detail: str
) -> None:
    router.head(MANIFEST).respond(code)
    router.get(f"{BASE}/v2/example/run/tags/list").respond(200, json={"tags": ["0.9"]})

    result = probe(router)

    assert (result.status, result.detail, result.http_status) == (status, detail, code)
    # pack's access check: 404 counts as readable, 401/403 do not.
    assert result.readable_by_pack is (code == 404)


# --- redirects ----------------------------------------------------------------------------


def test_redirect_is_followed_for_head_and_get(router: respx.Router) -> None:
    moved = f"{BASE}/v2/example/moved/manifests/1.0"
    router.head(MANIFEST).respond(307, headers={"Location": moved})
    router.head(moved).respond(200, headers={"Content-Type": DOCKER_MANIFEST})
    router.get(MANIFEST).respond(302, headers={"Location": moved})
    router.get(moved).respond(200, headers={"Content-Type": DOCKER_MANIFEST}, content=BODY)

    result = probe(router)

    assert (result.status, result.digest) == (Status.AVAILABLE, DIGEST)


def test_redirect_loop_stops_after_a_bounded_number_of_hops(router: respx.Router) -> None:
    loop = router.head(MANIFEST).respond(302, headers={"Location": MANIFEST})

    result = probe(router)

    assert result.status is Status.ERROR
    assert result.detail == f"more than {MAX_REDIRECTS} redirects"
    assert loop.call_count == MAX_REDIRECTS + 1


def test_writes_do_not_follow_redirects(router: respx.Router) -> None:
    router.put(MANIFEST).respond(307, headers={"Location": "https://elsewhere.example.com/x"})
    elsewhere = router.put("https://elsewhere.example.com/x").respond(201)

    async def job(client: RegistryClient) -> int:
        response = await client.request(
            "registry.example.com", "PUT", "/v2/example/run/manifests/1.0", content=b"{}"
        )
        return response.status_code

    assert run(router, job) == 307
    assert elsewhere.call_count == 0


def basic_registry(router: respx.Router, base: str = BASE) -> None:
    router.get(f"{base}/v2/").respond(401, headers={"WWW-Authenticate": 'Basic realm="registry"'})


CREDENTIAL = Credential("bob", "hunter2")


def keychain_for(registry: str, credential: Credential = CREDENTIAL) -> Keychain:
    keychain = Keychain({})
    keychain._cache[registry] = credential
    return keychain


def test_authorization_is_dropped_on_a_redirect_to_another_host() -> None:
    router = respx.Router(assert_all_called=False)
    basic_registry(router)
    router.head(MANIFEST).respond(
        307, headers={"Location": "https://storage.example.net/manifests/1.0"}
    )
    other = router.head("https://storage.example.net/manifests/1.0").mock(return_value=ok_head())

    result = probe(router, keychain=keychain_for("registry.example.com"))

    assert result.status is Status.AVAILABLE
    first = router.calls[-2].request
    assert first.headers["Authorization"].startswith("Basic ")  # there was one to leak
    assert "authorization" not in other.calls.last.request.headers


def test_authorization_is_kept_on_a_redirect_within_the_registry() -> None:
    router = respx.Router(assert_all_called=False)
    basic_registry(router)
    moved = f"{BASE}/v2/example/moved/manifests/1.0"
    router.head(MANIFEST).respond(307, headers={"Location": moved})
    target = router.head(moved).mock(return_value=ok_head())

    result = probe(router, keychain=keychain_for("registry.example.com"))

    assert result.status is Status.AVAILABLE
    assert target.calls.last.request.headers["Authorization"].startswith("Basic ")


def test_a_challenge_from_the_redirect_target_is_not_answered() -> None:
    router = respx.Router(assert_all_called=False)
    router.get(f"{BASE}/v2/").respond(200)  # anonymous registry: no challenge known yet
    router.head(MANIFEST).respond(307, headers={"Location": "https://evil.example.net/x"})
    evil = router.head("https://evil.example.net/x").respond(
        401, headers={"WWW-Authenticate": 'Basic realm="give me your password"'}
    )

    result = probe(router, keychain=keychain_for("registry.example.com"))

    assert (result.status, result.http_status) == (Status.UNAUTHORIZED, 401)
    assert evil.call_count == 1  # asked once, never again with credentials
    assert "authorization" not in evil.calls.last.request.headers


def test_redirect_from_https_to_plain_http_elsewhere_is_refused(router: respx.Router) -> None:
    router.head(MANIFEST).respond(302, headers={"Location": "http://mirror.example.net/x"})
    plain = router.head("http://mirror.example.net/x").mock(return_value=ok_head())

    result = probe(router)

    assert result.status is Status.ERROR
    assert (
        result.detail is not None
        and "refused plain-HTTP request to mirror.example.net" in result.detail
    )
    assert plain.call_count == 0


def test_plain_http_endpoint_and_loopback_are_allowed() -> None:
    router = respx.Router(assert_all_called=False)
    router.get("http://10.0.0.5:5000/v2/").respond(200)
    router.head("http://10.0.0.5:5000/v2/example/run/manifests/1.0").mock(return_value=ok_head())
    router.get("https://127.0.0.1:5000/v2/").mock(
        side_effect=httpx.ConnectError("ssl: wrong version")
    )
    router.get("http://127.0.0.1:5000/v2/").respond(200)
    router.head("http://127.0.0.1:5000/v2/example/run/manifests/1.0").mock(return_value=ok_head())
    hosts = RegistryHosts({"registry.example.com": HostConfig(endpoint="http://10.0.0.5:5000")})

    async def job(client: RegistryClient) -> list[Probe]:
        return [
            await client.probe(REF),
            await client.probe(parse("127.0.0.1:5000/example/run:1.0")),
        ]

    results = run(router, job, hosts=hosts)

    assert [r.status for r in results] == [Status.AVAILABLE, Status.AVAILABLE]


def test_no_authorization_over_plain_http_to_a_non_loopback_endpoint() -> None:
    router = respx.Router(assert_all_called=False)
    base = "http://10.0.0.5:5000"
    basic_registry(router, base)
    head = router.head(f"{base}/v2/example/run/manifests/1.0").respond(401)
    hosts = RegistryHosts({"registry.example.com": HostConfig(endpoint=base)})

    result = probe(router, hosts=hosts, keychain=keychain_for("registry.example.com"))

    assert result.status is Status.UNAUTHORIZED
    assert result.detail == "not sending credentials or tokens over plain HTTP to 10.0.0.5"
    assert all("authorization" not in call.request.headers for call in router.calls)
    assert head.call_count == 0


def test_one_registry_failing_does_not_block_or_hide_the_others() -> None:
    router = respx.Router(assert_all_called=False)
    router.get(f"{BASE}/v2/").respond(200)
    router.head(MANIFEST).mock(return_value=ok_head())

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        raise AssertionError("not reached")

    router.get("https://slow.example.com/v2/").mock(side_effect=hang)
    router.get("https://down.example.com/v2/").mock(side_effect=httpx.ConnectError("refused"))
    refs: Sequence[Reference] = [
        parse("slow.example.com/example/run:1.0"),
        REF,
        parse("down.example.com/example/run:1.0"),
    ]

    async def job(client: RegistryClient) -> list[Probe]:
        return list(await asyncio.gather(*(client.probe(ref) for ref in refs)))

    started = time.monotonic()
    results = run(router, job, timeout=0.2)
    elapsed = time.monotonic() - started

    assert [r.status for r in results] == [Status.UNREACHABLE, Status.AVAILABLE, Status.UNREACHABLE]
    assert elapsed < 0.2 * client_module.CEILING_FACTOR + 0.5


# --- get_manifest checks its own digest (probe() checks too, so test it alone) -------------


def test_get_manifest_by_digest_refuses_a_body_that_hashes_otherwise(router: respx.Router) -> None:
    other = json.dumps({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "config": {}}).encode()
    # No Docker-Content-Digest to compare with: only the digest asked for can catch it.
    router.get(f"{BASE}/v2/example/run/manifests/{DIGEST}").respond(
        200, headers={"Content-Type": DOCKER_MANIFEST}, content=other
    )

    async def job(client: RegistryClient) -> Any:
        try:
            return await client.get_manifest(REF, DIGEST)
        except RegistryError as error:
            return error

    error = run(router, job)

    assert isinstance(error, RegistryError)
    assert error.detail == "digest mismatch: body does not hash to the digest asked for"


def test_get_manifest_by_digest_returns_the_body_that_hashes_to_it(router: respx.Router) -> None:
    router.get(f"{BASE}/v2/example/run/manifests/{DIGEST}").respond(
        200, headers={"Content-Type": DOCKER_MANIFEST}, content=BODY
    )

    manifest = run(router, lambda client: client.get_manifest(REF, DIGEST))

    assert (manifest.digest, manifest.media_type, manifest.body) == (DIGEST, DOCKER_MANIFEST, BODY)
