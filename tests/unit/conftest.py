"""Fixtures shared by the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def isolated_pack_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read the real ~/.pack: an empty PACK_HOME and HOME, no registry config from the
    environment; returns the (not yet created) PACK_HOME."""
    monkeypatch.setenv("PACK_HOME", str(tmp_path / "packhome"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("INSPECTOR_REGISTRY_CONFIG", raising=False)
    return tmp_path / "packhome"
