"""Every fault class against a real ``docker-registry``, through the fault proxy.

Client -> FaultProxy -> docker-registry. The proxy delays, resets, truncates or corrupts
on command; each fault must end as a per-candidate status with a detail, within about one
``--timeout``, and never hold up the other candidates. Timeouts here are 0.5 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.localregistry import PushedImage, RegistryProcess, TokenServer, free_port, push_image
from inspector.reference import Reference, parse
from inspector.registry import retry as retry_module
from inspector.registry.client import RETRY_ATTEMPTS, RegistryClient, RegistryError
from inspector.registry.credentials import Keychain
from inspector.registry.hosts import HostConfig, RegistryHosts
from inspector.registry.model import Probe, Status
from tests.integration.cli_support import builder_toml, inspector, isolate
from tests.integration.fault_proxy import (
    CLOSE,
    CORRUPT,
    DELAY,
    DIGEST,
    HANG,
    HANG_BODY,
    RAW,
    RESET,
    RESPOND,
    STRIP_DIGEST,
    TRUNCATE,
    WRONG_DIGEST,
    FaultProxy,
)

TIMEOUT = 0.5
NAME = "registry.example.com"
REF = parse(f"{NAME}/example/run:1.0")
MANIFEST = r"/v2/example/run/manifests/"
# One --timeout, plus slack for a loaded 2-core CI machine; two timeouts would fail.
ONE_TIMEOUT = TIMEOUT * 1.8


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry_module, "BACKOFF_INITIAL", 0.01)
    monkeypatch.setattr(retry_module, "BACKOFF_MAX", 0.02)


@pytest.fixture
def image(registry: RegistryProcess) -> PushedImage:
    return push_image(registry.url, "example/run", "1.0")


@pytest.fixture
def proxy(registry: RegistryProcess) -> Iterator[FaultProxy]:
    with FaultProxy(registry.host) as fault_proxy:
        yield fault_proxy


def hosts_for(url: str, name: str = NAME) -> RegistryHosts:
    return RegistryHosts({name: HostConfig(endpoint=url)})


async def _with_client(
    hosts: RegistryHosts, job: Any, keychain: Keychain | None, concurrency: int
) -> Any:
    async with RegistryClient(hosts, keychain, timeout=TIMEOUT, concurrency=concurrency) as client:
        return await job(client)


def probe(
    url: str,
    ref: Reference = REF,
    *,
    keychain: Keychain | None = None,
    concurrency: int = 8,
) -> tuple[Probe, float]:
    """Probe ``ref`` with its registry sent to ``url``; (probe, seconds it took)."""
    started = time.monotonic()
    result = asyncio.run(
        _with_client(hosts_for(url), lambda client: client.probe(ref), keychain, concurrency)
    )
    return result, time.monotonic() - started


def get_manifest(url: str, ref: Reference = REF) -> RegistryError | Any:
    async def job(client: RegistryClient) -> Any:
        try:
            return await client.get_manifest(ref)
        except RegistryError as error:
            return error

    return asyncio.run(_with_client(hosts_for(url), job, None, 8))


# --- the proxy itself ------------------------------------------------------------------------


def test_clean_proxy_is_transparent(proxy: FaultProxy, image: PushedImage) -> None:
    result, _ = probe(proxy.url)

    assert (result.status, result.digest) == (Status.AVAILABLE, image.digest)
    assert [r.method for r in proxy.seen()] == ["GET", "HEAD"]  # one ping, one HEAD


# --- no answer at all --------------------------------------------------------------------------


def test_connection_refused_is_unreachable_at_once() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result, elapsed = probe(url)

    assert result.status is Status.UNREACHABLE
    assert result.detail == f"{url}: connection refused"
    assert elapsed < TIMEOUT


def test_dns_failure_is_unreachable() -> None:
    result, _ = probe("http://registry.invalid:5000")

    assert result.status is Status.UNREACHABLE
    assert result.detail is not None and "DNS lookup failed" in result.detail


def test_server_that_never_answers_costs_one_timeout() -> None:
    with FaultProxy(None) as black_hole:
        result, elapsed = probe(black_hole.url)

    assert result.status is Status.UNREACHABLE
    assert result.detail is not None and "timed out" in result.detail
    assert TIMEOUT <= elapsed < ONE_TIMEOUT


def test_loopback_name_that_never_answers_costs_one_timeout_for_both_schemes() -> None:
    # No endpoint: HTTPS then plain HTTP, as docker does; raced, so not two timeouts.
    with FaultProxy(None) as black_hole:
        host = black_hole.host
        started = time.monotonic()
        result = asyncio.run(
            _with_client(
                RegistryHosts({}),
                lambda client: client.probe(parse(f"{black_hole.host}/example/run:1.0")),
                None,
                8,
            )
        )
        elapsed = time.monotonic() - started

    assert result.status is Status.UNREACHABLE
    assert result.detail is not None
    assert f"https://{host}: timed out" in result.detail
    assert f"http://{host}: timed out" in result.detail
    assert elapsed < ONE_TIMEOUT


def test_slow_answer_within_the_timeout_is_no_fault(proxy: FaultProxy, image: PushedImage) -> None:
    proxy.add(DELAY, method="HEAD", path=MANIFEST, seconds=0.3)

    result, elapsed = probe(proxy.url)

    assert (result.status, result.digest) == (Status.AVAILABLE, image.digest)
    assert 0.3 <= elapsed < ONE_TIMEOUT
    assert len(proxy.seen("HEAD")) == 1


def test_ping_answers_then_manifest_hangs_costs_one_timeout_not_two(
    proxy: FaultProxy, image: PushedImage
) -> None:
    proxy.add(HANG, method="HEAD", path=MANIFEST)

    result, elapsed = probe(proxy.url)

    assert result.status is Status.UNREACHABLE and "timed out" in (result.detail or "")
    assert TIMEOUT <= elapsed < ONE_TIMEOUT
    assert len(proxy.seen("HEAD")) == 1  # a timeout is not retried


def test_headers_then_a_body_that_never_comes(proxy: FaultProxy, image: PushedImage) -> None:
    proxy.add(STRIP_DIGEST, method="HEAD", path=MANIFEST)  # so the probe must GET
    proxy.add(HANG_BODY, method="GET", path=MANIFEST)

    result, elapsed = probe(proxy.url)

    assert result.status is Status.UNREACHABLE
    assert result.detail is not None and "timed out" in result.detail
    assert elapsed < ONE_TIMEOUT


# --- dropped connections and garbage -------------------------------------------------------


def test_one_reset_is_retried_and_the_probe_succeeds(proxy: FaultProxy, image: PushedImage) -> None:
    proxy.add(RESET, method="HEAD", path=MANIFEST, times=1)

    result, _ = probe(proxy.url)

    assert (result.status, result.digest) == (Status.AVAILABLE, image.digest)
    assert len(proxy.seen("HEAD")) == 2


@pytest.mark.parametrize(("action", "detail"), [(RESET, "reset"), (CLOSE, "disconnected")])
def test_connection_dropped_every_time_is_unreachable_after_bounded_attempts(
    proxy: FaultProxy, image: PushedImage, action: str, detail: str
) -> None:
    proxy.add(action, method="HEAD", path=MANIFEST)

    result, _ = probe(proxy.url)

    assert result.status is Status.UNREACHABLE
    assert result.detail is not None and detail in result.detail.lower()
    assert len(proxy.seen("HEAD")) == RETRY_ATTEMPTS


def test_an_answer_that_is_not_http_is_unreachable(proxy: FaultProxy, image: PushedImage) -> None:
    proxy.add(RAW, method="HEAD", path=MANIFEST, body=b"SSH-2.0-OpenSSH_9.6\r\n")

    result, _ = probe(proxy.url)

    assert result.status is Status.UNREACHABLE
    assert result.detail is not None and "RemoteProtocolError" in result.detail


def test_truncated_manifest_body_is_an_error(proxy: FaultProxy, image: PushedImage) -> None:
    proxy.add(TRUNCATE, method="GET", path=MANIFEST)

    outcome = get_manifest(proxy.url)

    assert isinstance(outcome, RegistryError)
    assert outcome.status is Status.ERROR and "truncated manifest body" in outcome.detail


def test_non_json_manifest_body_is_an_error(proxy: FaultProxy, image: PushedImage) -> None:
    proxy.add(STRIP_DIGEST, method="HEAD", path=MANIFEST)
    proxy.add(CORRUPT, method="GET", path=MANIFEST)

    result, _ = probe(proxy.url)

    assert (result.status, result.detail) == (Status.ERROR, "manifest is not valid JSON")


# --- digests --------------------------------------------------------------------------------


def test_docker_content_digest_not_matching_the_body_is_an_error(
    proxy: FaultProxy, image: PushedImage
) -> None:
    proxy.add(STRIP_DIGEST, method="HEAD", path=MANIFEST)
    proxy.add(DIGEST, method="GET", path=MANIFEST)

    result, _ = probe(proxy.url)

    assert result.status is Status.ERROR
    assert result.detail is not None and "digest mismatch" in result.detail
    assert result.digest is None


def test_pinned_digest_answered_with_another_digest_is_an_error(
    proxy: FaultProxy, image: PushedImage
) -> None:
    proxy.add(DIGEST, method="HEAD", path=MANIFEST)
    pinned = parse(f"{NAME}/example/run@{image.digest}")

    result, _ = probe(proxy.url, pinned)

    assert result.status is Status.ERROR
    assert result.detail is not None and "digest mismatch" in result.detail


def test_rewritten_digest_on_head_alone_is_reported_as_served(
    proxy: FaultProxy, image: PushedImage
) -> None:
    # A HEAD has no body to check: the probe reports what the registry claims, and the
    # comparison with the run image (in_sync) is what catches it.
    proxy.add(DIGEST, method="HEAD", path=MANIFEST)

    result, _ = probe(proxy.url)

    assert (result.status, result.digest) == (Status.AVAILABLE, WRONG_DIGEST)


# --- HTTP statuses ----------------------------------------------------------------------------


def test_401_from_a_real_htpasswd_registry_is_unauthorized(
    htpasswd_registry: tuple[RegistryProcess, tuple[str, str]],
) -> None:
    registry, _ = htpasswd_registry

    result, _ = probe(registry.url)

    assert (result.status, result.http_status) == (Status.UNAUTHORIZED, 401)
    assert not result.readable_by_pack


def test_403_is_unauthorized(proxy: FaultProxy, image: PushedImage) -> None:
    proxy.add(RESPOND, method="HEAD", path=MANIFEST, status=403)

    result, _ = probe(proxy.url)

    assert (result.status, result.detail, result.http_status) == (
        Status.UNAUTHORIZED,
        "HTTP 403 denied",
        403,
    )


def test_404_from_a_real_registry_is_missing(registry: RegistryProcess) -> None:
    result, _ = probe(registry.url)

    assert (result.status, result.http_status) == (Status.MISSING, 404)
    assert result.readable_by_pack  # pack would still pick it


def test_429_with_retry_after_is_honoured_then_succeeds(
    proxy: FaultProxy, image: PushedImage
) -> None:
    proxy.add(
        RESPOND, method="HEAD", path=MANIFEST, status=429, times=1, headers={"Retry-After": "0.3"}
    )

    result, elapsed = probe(proxy.url)

    assert (result.status, result.digest) == (Status.AVAILABLE, image.digest)
    assert len(proxy.seen("HEAD")) == 2
    assert elapsed >= 0.3


def test_429_that_never_ends_is_an_error_after_bounded_attempts(
    proxy: FaultProxy, image: PushedImage
) -> None:
    proxy.add(RESPOND, method="HEAD", path=MANIFEST, status=429, headers={"Retry-After": "0"})

    result, _ = probe(proxy.url)

    assert (result.status, result.http_status) == (Status.ERROR, 429)
    assert "rate limited" in (result.detail or "")
    assert len(proxy.seen("HEAD")) == RETRY_ATTEMPTS


def test_503_twice_then_the_registry_answers(proxy: FaultProxy, image: PushedImage) -> None:
    proxy.add(RESPOND, method="HEAD", path=MANIFEST, status=503, times=2)

    result, _ = probe(proxy.url)

    assert (result.status, result.digest) == (Status.AVAILABLE, image.digest)
    assert len(proxy.seen("HEAD")) == 3


def test_500_is_an_error_at_once(proxy: FaultProxy, image: PushedImage) -> None:
    proxy.add(RESPOND, method="HEAD", path=MANIFEST, status=500)

    result, _ = probe(proxy.url)

    assert (result.status, result.detail) == (Status.ERROR, "HTTP 500")
    assert len(proxy.seen("HEAD")) == 1


# --- redirects --------------------------------------------------------------------------------


def test_redirect_within_the_registry_is_followed(proxy: FaultProxy, image: PushedImage) -> None:
    proxy.add(
        RESPOND,
        path=r"/v2/example/alias/manifests/",
        status=307,
        headers={"Location": "/v2/example/run/manifests/1.0"},
    )

    result, _ = probe(proxy.url, parse(f"{NAME}/example/alias:1.0"))

    assert (result.status, result.digest) == (Status.AVAILABLE, image.digest)


def test_redirect_loop_is_cut_after_a_bounded_number_of_hops(
    proxy: FaultProxy, image: PushedImage
) -> None:
    proxy.add(
        RESPOND,
        method="HEAD",
        path=MANIFEST,
        status=302,
        headers={"Location": "/v2/example/run/manifests/1.0"},
    )

    result, _ = probe(proxy.url)

    assert (result.status, result.detail) == (Status.ERROR, "more than 5 redirects")
    assert len(proxy.seen("HEAD")) == 6


def test_authorization_never_follows_a_redirect_to_another_host(
    htpasswd_registry: tuple[RegistryProcess, tuple[str, str]],
) -> None:
    registry, (user, password) = htpasswd_registry
    push_image(registry.url, "example/run", "1.0", auth=(user, password))
    keychain = Keychain({"auths": {NAME: {"username": user, "password": password}}})
    with FaultProxy(registry.host) as front, FaultProxy(registry.host) as other_host:
        moved = f"http://localhost:{other_host.port}/v2/example/run/manifests/1.0"
        front.add(RESPOND, method="HEAD", path=MANIFEST, status=307, headers={"Location": moved})

        result, _ = probe(front.url, keychain=keychain)

        [sent] = front.seen("HEAD")
        [followed] = other_host.seen("HEAD")
    assert sent.headers["authorization"].startswith("Basic ")  # there was one to leak
    assert "authorization" not in followed.headers
    assert (result.status, result.http_status) == (Status.UNAUTHORIZED, 401)


# --- one candidate's fault never holds up the others --------------------------------------


def test_credential_helper_that_hangs_is_an_error_for_its_registry_only(
    registry: RegistryProcess, image: PushedImage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helpers = tmp_path / "bin"
    helpers.mkdir()
    script = helpers / "docker-credential-hang"
    script.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(30)\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{helpers}{os.pathsep}{os.environ['PATH']}")
    hosts = RegistryHosts(
        {
            NAME: HostConfig(endpoint=registry.url),
            "slow.example.com": HostConfig(endpoint=registry.url),
        }
    )
    keychain = Keychain({"credHelpers": {"slow.example.com": "hang"}})
    refs = [parse("slow.example.com/example/run:1.0"), REF]

    async def job(client: RegistryClient) -> list[Probe]:
        return list(await asyncio.gather(*(client.probe(ref) for ref in refs)))

    started = time.monotonic()
    slow, fine = asyncio.run(_with_client(hosts, job, keychain, 8))

    assert slow.status is Status.ERROR
    assert slow.detail == (
        "credential helper docker-credential-hang for slow.example.com: no answer in 0.5 s"
    )
    assert (fine.status, fine.digest) == (Status.AVAILABLE, image.digest)
    assert time.monotonic() - started < ONE_TIMEOUT + 0.5


def test_a_slow_credential_helper_runs_while_the_ping_is_in_flight(
    registry: RegistryProcess, image: PushedImage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Helpers such as gcloud's or ecr-login take hundreds of milliseconds: asked only
    # after the ping answered, they would add that to every registry's first request.
    wait = 0.8
    helpers = tmp_path / "bin"
    helpers.mkdir()
    script = helpers / "docker-credential-slow"
    script.write_text(
        f"#!{sys.executable}\nimport sys, time\ntime.sleep({wait})\n"
        "print('credentials not found in native keychain', file=sys.stderr)\nsys.exit(1)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{helpers}{os.pathsep}{os.environ['PATH']}")
    keychain = Keychain({"credHelpers": {NAME: "slow"}})

    async def run(url: str) -> Probe:
        async with RegistryClient(hosts_for(url), keychain, timeout=5.0) as client:
            return await client.probe(REF)

    with FaultProxy(registry.host) as proxy:
        proxy.add(DELAY, method="GET", path=r"^/v2/$", seconds=wait)
        started = time.monotonic()
        result = asyncio.run(run(proxy.url))
        elapsed = time.monotonic() - started

    assert (result.status, result.digest) == (Status.AVAILABLE, image.digest)
    assert elapsed < 1.5 * wait  # one wait, not two after one another


def test_token_refresh_with_a_single_connection_does_not_deadlock(
    token_registry: tuple[RegistryProcess, TokenServer],
) -> None:
    # An anonymous token lacks the private repository's scope: the registry answers 401
    # and a second token is asked for while that 401 is still open. With one connection
    # in the pool, that needs the 401's connection freed first.
    registry, _ = token_registry
    private = parse(f"{NAME}/private/run:1.0")

    result, elapsed = probe(registry.url, private, concurrency=1)

    assert (result.status, result.http_status) == (Status.UNAUTHORIZED, 401)
    assert elapsed < TIMEOUT


# --- the whole check -------------------------------------------------------------------------


def test_check_when_every_registry_hangs_costs_about_one_timeout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate(tmp_path, monkeypatch)
    with FaultProxy(None) as a, FaultProxy(None) as b, FaultProxy(None) as c, FaultProxy(None) as d:
        # Two by endpoint, two by loopback name (HTTPS and HTTP tried for each).
        builder = builder_toml(
            tmp_path,
            (
                f"{NAME}/example/run",
                ["mirror.example.org/example/run", f"{c.host}/x/run", f"{d.host}/x/run"],
            ),
        )
        started = time.monotonic()
        result = inspector(
            capsys,
            "check",
            f"{NAME}/example/app",
            "-c",
            str(builder),
            "--no-pack-config",
            "--endpoint",
            f"{NAME}={a.url}",
            "--endpoint",
            f"mirror.example.org={b.url}",
            "--timeout",
            str(TIMEOUT),
            "--json",
        )
        elapsed = time.monotonic() - started

    document = result.json()
    assert result.code == 1
    assert [entry["status"] for entry in document["candidates"]] == ["unreachable"] * 4
    assert all("timed out" in entry["detail"] for entry in document["candidates"])
    assert elapsed < ONE_TIMEOUT, f"check took {elapsed:.2f} s with --timeout {TIMEOUT}"


def test_check_with_one_hanging_mirror_reports_the_others(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    registry: RegistryProcess,
    image: PushedImage,
) -> None:
    isolate(tmp_path, monkeypatch)
    builder = builder_toml(
        tmp_path, (f"{NAME}/example/run:1.0", ["mirror.example.org/example/run:1.0"])
    )
    with FaultProxy(None) as black_hole:
        result = inspector(
            capsys,
            "check",
            f"{NAME}/example/app",
            "-c",
            str(builder),
            "--no-pack-config",
            "--endpoint",
            f"{NAME}={registry.url}",
            "--endpoint",
            f"mirror.example.org={black_hole.url}",
            "--timeout",
            str(TIMEOUT),
            "--json",
        )

    run, mirror = result.json()["candidates"]
    assert (run["status"], run["digest"], run["selected"]) == ("available", image.digest, True)
    assert mirror["status"] == "unreachable" and "timed out" in mirror["detail"]
    assert result.code == 1
    assert json.loads(result.out)["in_sync"] is False


def test_a_ping_that_hangs_costs_one_timeout(proxy: FaultProxy, image: PushedImage) -> None:
    proxy.add(HANG, method="GET", path=r"^/v2/$")

    result, elapsed = probe(proxy.url)

    assert result.status is Status.UNREACHABLE and "timed out" in (result.detail or "")
    assert TIMEOUT <= elapsed < ONE_TIMEOUT
