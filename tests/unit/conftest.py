"""Fixtures shared by the unit tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def isolated_pack_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read the real ~/.pack: an empty PACK_HOME and HOME, no registry config from the
    environment; returns the (not yet created) PACK_HOME."""
    monkeypatch.setenv("PACK_HOME", str(tmp_path / "packhome"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("INSPECTOR_REGISTRY_CONFIG", raising=False)
    return tmp_path / "packhome"


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


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``DOCKER_CONFIG`` directory; returns its (not yet written) config.json."""
    directory = tmp_path / "docker"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory / "config.json"


@pytest.fixture(scope="module")
def report_counts(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the module, how many examples each property ran (the module's ``RAN`` counter)."""
    yield
    for name, count in sorted(request.module.RAN.items()):
        print(f"\n{name}: {count} examples")
