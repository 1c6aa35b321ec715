"""Progress on stderr: a terminal sees probes done and, when a run is slow, the registry
it waits on; a pipe sees nothing at all."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cli_support import builder_toml

from devtools.localregistry import RegistryProcess, push_image
from inspector.cli.progress import ProbeCounter
from tests.integration.fault_proxy import DELAY, FaultProxy


def test_counter_text_names_the_pending_registries_once_slow() -> None:
    counter = ProbeCounter()
    counter.started, counter.finished = 5, 3
    counter.pending.update({"slow.example.org": 2, "b.example": 1, "c.example": 1, "d\x1b": 1})
    start = counter.since
    assert counter.text("Probing", now=start + 0.2) == "Probing: 3/5 probes done"
    slow = counter.text("Probing", now=start + 4)
    assert slow.startswith("Probing: 3/5 probes done; waiting on slow.example.org (2), ")
    assert "and 1 more after 4 s" in slow
    assert "\x1b" not in counter.text("Probing \x1b[2J", now=start + 4)


def run_with_stderr_on_a_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=follower, env=env, cwd=env["HOME"]
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 60
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
    assert process.stdout is not None
    out = process.stdout.read().decode()
    code = process.wait(timeout=60)
    os.close(leader)
    return code, out, b"".join(chunks).decode(errors="replace")


def test_terminal_sees_counts_and_the_slow_registry(
    registry: RegistryProcess, tmp_path: Path
) -> None:
    push_image(registry.url, "example/run", "1.0")
    push_image(registry.url, "slow/run", "1.0")
    builder = builder_toml(
        tmp_path,
        ("registry.example.com/example/run:1.0", ["slow.example.org/slow/run:1.0"]),
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DOCKER_CONFIG": str(tmp_path),
        "TERM": "xterm",
        "COLUMNS": "200",
    }
    with FaultProxy(registry.host) as proxy:
        proxy.add(DELAY, method="HEAD", path="/v2/slow/run/manifests/", seconds=2.5)
        argv = [
            sys.executable,
            "-m",
            "inspector",
            "mirrors",
            "-c",
            str(builder),
            "--endpoint",
            f"registry.example.com={registry.url}",
            "--endpoint",
            f"slow.example.org={proxy.url}",
            "--json",
        ]
        code, out, err = run_with_stderr_on_a_terminal(argv, env)
        assert code == 0, err
        assert json.loads(out)["in_sync"] is True  # stdout untouched by the progress
        assert "probes done" in err
        assert "waiting on slow.example.org (1)" in err

        # Not a terminal: nothing on stderr.
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0 and done.stderr == ""


def test_sync_shows_its_phases_on_a_terminal(
    registry_factory: Callable[..., RegistryProcess], tmp_path: Path
) -> None:
    origin, mirror = registry_factory(), registry_factory()
    push_image(origin.url, "example/run", "1.0", layer_seed="big")
    builder = builder_toml(
        tmp_path,
        ("registry.example.com/example/run:1.0", ["mirror.example.org/example/run:1.0"]),
    )
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DOCKER_CONFIG": str(tmp_path),
        "TERM": "xterm",
        "COLUMNS": "200",
    }
    with FaultProxy(mirror.host) as proxy:
        # Slow enough that the spinner redraws in each phase.
        proxy.add(DELAY, method="POST", path="/blobs/uploads/", seconds=0.6)
        proxy.add(DELAY, method="HEAD", path="/v2/example/run/manifests/1.0", seconds=0.6)
        argv = [
            sys.executable,
            "-m",
            "inspector",
            "sync",
            "-c",
            str(builder),
            "--endpoint",
            f"registry.example.com={origin.url}",
            "--endpoint",
            f"mirror.example.org={proxy.url}",
            "--json",
        ]
        code, out, err = run_with_stderr_on_a_terminal(argv, env)
    assert code == 0, err
    assert json.loads(out)["ok"] is True
    for phase in ("probes done", "Planning", "Copying blobs", "verifying"):
        assert phase in err, (phase, err[-2000:])
