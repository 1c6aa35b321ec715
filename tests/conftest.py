"""Fixtures shared by the unit and the integration tests."""

from __future__ import annotations

import pytest

from inspector.registry import retry as retry_module


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait milliseconds, not seconds; the tests that check the waits set their own."""
    monkeypatch.setattr(retry_module, "BACKOFF_INITIAL", 0.01)
    monkeypatch.setattr(retry_module, "BACKOFF_MAX", 0.02)
