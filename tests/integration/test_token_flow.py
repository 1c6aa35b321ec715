"""The token request as part of the auth flow, on a real token-mode registry whose token
server sits behind a fault proxy: a 503 is waited out (the one retry policy) and counted,
a token server that hangs costs one --timeout (the token request has the client's bounds)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devtools.localregistry import RegistryProcess, TokenServer, push_image
from inspector.reference import parse
from inspector.registry import retry as retry_module
from inspector.registry.client import RegistryClient
from inspector.registry.credentials import Keychain
from inspector.registry.hosts import HostConfig, RegistryHosts
from inspector.registry.model import Probe, Status
from tests.integration.fault_proxy import HANG, RESPOND, FaultProxy

NAME = "registry.example.com"
TIMEOUT = 0.5
ONE_TIMEOUT = TIMEOUT * 1.8  # one --timeout plus slack; the 3x ceiling would fail


class _ProxiedRealm:
    """The token server as the registry names it: behind a fault proxy."""

    def __init__(self, server: TokenServer, proxy: FaultProxy) -> None:
        self._server, self._proxy = server, proxy

    @property
    def realm(self) -> str:
        return f"{self._proxy.url}/token"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


@pytest.fixture
def realm_proxy(
    registry_factory: Callable[..., RegistryProcess], token_server: TokenServer
) -> Iterator[tuple[RegistryProcess, FaultProxy, int]]:
    """A token registry with ``public/run:1.0``, whose realm is a fault proxy in front of
    the token server; and how many token requests the seeding sent through it."""
    with FaultProxy(f"127.0.0.1:{token_server.port}") as proxy:
        registry = registry_factory(token=_ProxiedRealm(token_server, proxy))
        push_image(registry.url, "public/run", "1.0", auth=("alice", "s3cret"))
        token_server.reset()
        yield registry, proxy, len(proxy.seen("GET", "/token"))


def probe(registry: RegistryProcess, timeout: float = 10.0) -> tuple[Probe, dict[str, int], int]:
    async def go() -> tuple[Probe, dict[str, int], int]:
        hosts = RegistryHosts({NAME: HostConfig(endpoint=registry.url)})
        async with RegistryClient(hosts, Keychain({}), timeout=timeout) as client:
            result = await client.probe(parse(f"{NAME}/public/run:1.0"))
            return result, dict(client.stats.by_kind), client.token_requests()

    return asyncio.run(go())


def test_a_token_server_503_is_waited_out_and_counted(
    realm_proxy: tuple[RegistryProcess, FaultProxy, int],
    token_server: TokenServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retry_module, "BACKOFF_INITIAL", 0.01)
    registry, proxy, seeded = realm_proxy
    proxy.add(RESPOND, method="GET", path=r"^/token", status=503, times=1)

    result, stats, tokens = probe(registry)

    assert result.status is Status.AVAILABLE, result.detail
    # The 503 came from the proxy; the retry got the token from the server.
    assert len(proxy.seen("GET", "/token")) - seeded == 2
    assert [tuple(r["scopes"]) for r in token_server.requests] == [("repository:public/run:pull",)]
    assert stats["token"] == tokens == 2


def test_a_token_server_that_hangs_costs_one_timeout(
    realm_proxy: tuple[RegistryProcess, FaultProxy, int],
) -> None:
    registry, proxy, _ = realm_proxy
    proxy.add(HANG, method="GET", path=r"^/token")

    started = time.monotonic()
    result, _, _ = probe(registry, timeout=TIMEOUT)
    elapsed = time.monotonic() - started

    assert result.status is Status.UNREACHABLE
    assert result.detail == "token server 127.0.0.1: timed out (ReadTimeout)"
    assert TIMEOUT <= elapsed < ONE_TIMEOUT
