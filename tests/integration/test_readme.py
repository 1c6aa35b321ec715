"""Every ``$ inspector …`` command in README.md runs as written against the demo
registries (``make demo-serve``) and prints what the README shows, ports and digests aside.
After a change of output: ``python -m devtools.readme_check --update``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from devtools import readme_check


def test_readme_commands_run_as_written() -> None:
    here = Path.cwd()
    try:
        problems = readme_check.check()
    finally:
        os.chdir(here)
    assert not problems, "\n\n".join(problems)


def test_the_parser_sees_every_command() -> None:
    steps = list(readme_check.steps(readme_check.README.read_text(encoding="utf-8")))
    commands = [s.command for s in steps]
    for expected in ("inspector builder registry", "inspector preflight", "inspector rebase"):
        assert any(c.startswith(expected) for c in commands)
    assert all("PORT" not in c for c in commands)
    assert sum(c == "echo $?" for c in commands) >= 5


def test_demo_serve_prints_exports_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.demo", "--serve"],
        cwd=readme_check.demo.ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "inspector builder" in line or not line:
            break
    exports = dict(
        line.strip().removeprefix("export ").split("=", 1)
        for line in lines
        if line.strip().startswith("export ")
    )
    try:
        assert set(exports) == {"INSPECTOR_REGISTRY_CONFIG", "DOCKER_CONFIG", "PACK_HOME"}
        env = {**os.environ, **exports}
        done = subprocess.run(
            [sys.executable, "-m", "inspector", "builder", readme_check.demo.BUILDER_IMAGE],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "registry.example.com/example/run:jammy" in done.stdout
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    config = Path(exports["INSPECTOR_REGISTRY_CONFIG"]).read_text()
    port = config.split("127.0.0.1:")[1].split('"')[0]
    with socket.socket() as probe:  # the registries are gone
        assert probe.connect_ex(("127.0.0.1", int(port))) != 0
