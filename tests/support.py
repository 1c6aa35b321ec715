"""Plain helpers shared by the unit and integration tests: the CLI run in-process and a
stdout that claims to be a terminal."""

from __future__ import annotations

import os
import select
import subprocess
import time

import pytest
from hypothesis import HealthCheck, settings

from inspector.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``inspector ARGV`` in this process: exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    code = done.value.code
    assert isinstance(code, int)
    return code, out, err


class FakeTTY:
    """A stdout that claims to be a terminal."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.encoding = "utf-8"

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError("not a real terminal")

    @property
    def text(self) -> str:
        return "".join(self.parts)


# Property tests: no deadline on a loaded machine, no example database left in the work tree.
FAST = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def read_terminal(leader: int, process: subprocess.Popen[bytes], seconds: float = 60) -> bytes:
    """All the child writes to the pseudo-terminal ``leader`` until it closes the terminal or
    exits (``seconds`` at most)."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif process.poll() is not None:
            break
    return b"".join(chunks)
