"""preflight's push check, every branch: a refusal (with distribution's code, through the
one error mapping), no answer, an upload opened without a usable ``Location``, and each
way its cancel can go — against a real registry (distribution 2.8.2) behind a fault proxy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_support import builder_toml, endpoints, inspector, isolate

from devtools.localregistry import RegistryProcess, push_image
from inspector.checks.preflight import PushAccess, push_access
from inspector.reference import parse
from inspector.registry.client import RegistryClient
from inspector.registry.credentials import Keychain
from inspector.registry.hosts import HostConfig, RegistryHosts
from tests.integration.fault_proxy import RESET, RESPOND, FaultProxy

RegistryFactory = Callable[..., RegistryProcess]
APP = "registry.example.com/acme/app:1.0"
UPLOADS = r"^/v2/acme/app/blobs/uploads/"


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


@pytest.fixture
def proxy(registry: RegistryProcess) -> Iterator[FaultProxy]:
    with FaultProxy(registry.host) as fault_proxy:
        yield fault_proxy


def access(proxy: FaultProxy) -> PushAccess:
    async def go() -> PushAccess:
        hosts = RegistryHosts({"registry.example.com": HostConfig(endpoint=proxy.url)})
        async with RegistryClient(hosts, Keychain({}), timeout=3) as client:
            return await push_access(client, parse(APP))

    return asyncio.run(go())


def test_an_upload_refused_with_a_code_says_the_code_and_what_it_means(proxy: FaultProxy) -> None:
    body = {"errors": [{"code": "UNSUPPORTED", "message": "pull-through cache"}]}
    proxy.add(RESPOND, method="POST", path=UPLOADS, status=405, body=json.dumps(body).encode())

    result = access(proxy)

    assert (result.allowed, result.http_status, result.cancelled) == (False, 405, False)
    assert result.detail == (
        "HTTP 405 UNSUPPORTED: pull-through cache: the registry does not accept uploads "
        "(read-only or a pull-through cache)"
    )
    assert proxy.seen("DELETE") == []


@pytest.mark.parametrize(
    ("status", "meaning"),
    [
        (401, "HTTP 401 unauthorized: the registry wants credentials with push rights"),
        (403, "HTTP 403 denied: your credentials may not push to this repository"),
        (404, "HTTP 404 not found: the registry has no such repository"),
        (500, "HTTP 500: the registry refused the upload"),
    ],
)
def test_an_upload_refused_without_a_body_says_what_the_status_means(
    proxy: FaultProxy, status: int, meaning: str
) -> None:
    proxy.add(RESPOND, method="POST", path=UPLOADS, status=status, body=b"")

    result = access(proxy)

    assert (result.allowed, result.http_status) == (False, status)
    assert result.detail.startswith(meaning)


def test_no_answer_to_the_upload_is_a_failed_check(proxy: FaultProxy) -> None:
    proxy.add(RESET, method="POST", path=UPLOADS)

    result = access(proxy)

    assert (result.allowed, result.http_status) == (False, None)
    assert result.detail == "unreachable: connection reset"


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "upload accepted, but no Location to cancel it"),
        ({"Location": "http://[::1/x"}, "upload accepted, but its Location is not a URL"),
    ],
)
def test_an_upload_without_a_usable_location_is_allowed_but_not_cancelled(
    proxy: FaultProxy, headers: dict[str, str], detail: str
) -> None:
    proxy.add(RESPOND, method="POST", path=UPLOADS, status=202, body=b"", headers=headers)

    result = access(proxy)

    assert (result.allowed, result.http_status, result.cancelled) == (True, 202, False)
    assert result.detail == detail
    assert proxy.seen("DELETE") == []


def open_session_on_the_proxy(proxy: FaultProxy) -> None:
    """Answer the POST with a session on the proxy's own origin, so its DELETE comes here
    (distribution's own Location names the registry's address, past the proxy)."""
    location = {"Location": "/v2/acme/app/blobs/uploads/session-1?_state=x"}
    proxy.add(RESPOND, method="POST", path=UPLOADS, status=202, body=b"", headers=location)


def test_a_cancel_the_registry_refuses_is_reported(proxy: FaultProxy) -> None:
    open_session_on_the_proxy(proxy)
    proxy.add(RESPOND, method="DELETE", path=UPLOADS, status=500, body=b"")

    result = access(proxy)

    assert (result.allowed, result.cancelled) == (True, False)
    assert result.detail == "upload accepted; cancel answered HTTP 500"
    assert len(proxy.seen("POST")) == len(proxy.seen("DELETE")) == 1


def test_a_cancel_that_gets_no_answer_is_reported(proxy: FaultProxy) -> None:
    open_session_on_the_proxy(proxy)
    proxy.add(RESET, method="DELETE", path=UPLOADS)

    result = access(proxy)

    assert (result.allowed, result.cancelled) == (True, False)
    assert result.detail == "upload accepted; cancel failed: connection reset"
    assert len(proxy.seen("DELETE")) == 1  # a DELETE is never retried


def test_a_cancelled_upload_through_the_proxy(proxy: FaultProxy) -> None:
    result = access(proxy)

    assert (result.allowed, result.cancelled, result.http_status) == (True, True, 202)
    assert result.detail == "upload session started and cancelled"


def test_the_refusal_reaches_preflights_json_and_exit_code(
    registry: RegistryProcess,
    proxy: FaultProxy,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    push_image(registry.url, "example/run", "latest")
    builder = builder_toml(tmp_path, ("registry.example.com/example/run", []))
    proxy.add(RESPOND, method="POST", path=UPLOADS, status=403, body=b"")

    result = inspector(
        capsys,
        "preflight",
        APP,
        "-c",
        str(builder),
        "--no-pack-config",
        *endpoints(registry_example_com=proxy.url),
        "--json",
    )

    assert result.code == 1, result.err
    document = result.json()
    check = next(c for c in document["checks"] if c["id"] == "app-push-access")
    assert check["result"] == "fail"
    assert check["reason"].startswith("HTTP 403 denied: your credentials may not push")
    assert document["push"]["cancelled"] is False
