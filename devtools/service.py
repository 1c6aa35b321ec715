"""A background service started and stopped around a ``with`` block."""

from __future__ import annotations

import subprocess
from types import TracebackType
from typing import Any, Self


class Service:
    """Subclasses define ``start`` (returning self) and ``stop`` (safe to call twice)."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def terminate(process: subprocess.Popen[Any]) -> None:
    """Ask a child process to stop, and kill it when it does not within 5 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
