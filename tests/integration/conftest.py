"""Fixtures that run real registries (CNCF distribution, Debian ``docker-registry``).

Every fixture is function-scoped: a registry is up in roughly 30 ms and a token server
(2048-bit RSA key) in roughly 50 ms, so per-test isolation costs next to nothing. A missing
binary raises RegistryNotFoundError: the tests error out, they are never skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_support import isolate
from fault_proxy import FaultProxy

from devtools.localregistry import RegistryProcess, TokenServer

HTPASSWD_USER = ("bob", "hunter2")
TOKEN_USER = ("alice", "s3cret")

RegistryFactory = Callable[..., RegistryProcess]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No docker credentials, pack config or registry config from the machine running the
    tests (``cli_support.isolate``); the (empty) ``DOCKER_CONFIG`` directory. Modules that
    run the CLI use it for every test: ``pytestmark = pytest.mark.usefixtures(...)``."""
    return isolate(tmp_path, monkeypatch)


@pytest.fixture
def registry_factory(tmp_path: Path) -> Iterator[RegistryFactory]:
    """Call with RegistryProcess keyword arguments; returns a started registry.

    Logs and storage go under ``tmp_path`` so they survive a failing test for inspection.
    """
    with ExitStack() as stack:
        count = 0

        def start(**kwargs: Any) -> RegistryProcess:
            nonlocal count
            count += 1
            kwargs.setdefault("workdir", tmp_path / f"registry-{count}")
            return stack.enter_context(RegistryProcess(**kwargs))

        yield start


@pytest.fixture
def registry(registry_factory: RegistryFactory) -> RegistryProcess:
    """An anonymous registry: no auth at all, delete enabled."""
    return registry_factory()


@pytest.fixture
def htpasswd_registry(
    registry_factory: RegistryFactory,
) -> tuple[RegistryProcess, tuple[str, str]]:
    """A Basic-auth registry and its one (user, password)."""
    return registry_factory(htpasswd=HTPASSWD_USER), HTPASSWD_USER


@pytest.fixture
def proxy(registry: RegistryProcess) -> Iterator[FaultProxy]:
    """A FaultProxy in front of ``registry``: faults added to it change that registry's answers."""
    with FaultProxy(registry.host) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def token_server() -> Iterator[TokenServer]:
    """Anonymous pull on ``public/*``; alice/s3cret may do anything anywhere."""
    with TokenServer(anonymous_pull=["public/"], users=dict([TOKEN_USER])) as server:
        yield server


@pytest.fixture
def token_registry(
    registry_factory: RegistryFactory, token_server: TokenServer
) -> tuple[RegistryProcess, TokenServer]:
    """A Bearer-token registry and the TokenServer it trusts."""
    return registry_factory(token=token_server), token_server


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One plain httpx client for the session: creating one costs ~35 ms (CA bundle load)."""
    with httpx.Client(timeout=5.0) as client:
        yield client
