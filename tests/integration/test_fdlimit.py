"""Open-file limits: a low ``ulimit -n`` caps concurrency instead of turning registries
"unreachable", and an EMFILE that still happens ends the run with one line (exit 2)."""

from __future__ import annotations

import errno
import json
import resource
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from devtools.localregistry import RegistryProcess, push_image
from inspector.registry import fdlimit

MIRRORS = 400


def limit_to(count: int) -> None:
    """In the child, before exec: soft and hard limit both ``count`` (no raising it)."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))


@pytest.fixture
def many_mirrors(registry: RegistryProcess, tmp_path: Path) -> list[str]:
    push_image(registry.url, "example/run", "1.0")
    for i in range(0, MIRRORS, 50):
        push_image(registry.url, f"m{i}/run", "1.0")
    mirrors = [f"mirror.example.org/m{i}/run:1.0" for i in range(MIRRORS)]
    builder = tmp_path / "builder.toml"
    builder.write_text(
        '[[run.images]]\nimage = "registry.example.com/example/run:1.0"\n'
        f"mirrors = {json.dumps(mirrors)}\n"
    )
    return [
        "mirrors",
        "-c",
        str(builder),
        "--endpoint",
        f"registry.example.com={registry.url}",
        "--endpoint",
        f"mirror.example.org={registry.url}",
        "--no-pack-config",
        "--json",
    ]


def run(argv: list[str], tmp_path: Path, limit: int, *, uncapped: bool = False) -> Any:
    code = "import sys\nfrom inspector.cli import main\n"
    if uncapped:  # what 0.1 did: ask for every request at once, whatever the limit
        code += (
            "from inspector.registry import fdlimit\n"
            "fdlimit.cap_concurrency = lambda n, **k: (fdlimit.raise_soft_limit(), n)[1]\n"
        )
    code += f"main({argv!r})\n"
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        preexec_fn=lambda: limit_to(limit),
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path)},
    )


def test_low_limit_caps_concurrency_and_judges_every_mirror(
    many_mirrors: list[str], tmp_path: Path
) -> None:
    done = run([*many_mirrors, "--concurrency", "300"], tmp_path, 64)
    assert done.returncode == 1, done.stderr  # findings: most mirrors are missing
    statuses = Counter(m["status"] for m in json.loads(done.stdout)["run_images"][0]["mirrors"])
    assert statuses == {"available": MIRRORS // 50, "missing": MIRRORS - MIRRORS // 50}


def test_emfile_is_an_error_of_the_run_not_unreachable(
    many_mirrors: list[str], tmp_path: Path
) -> None:
    done = run([*many_mirrors, "--concurrency", "300"], tmp_path, 64, uncapped=True)
    assert done.returncode == 2, (done.stdout[-500:], done.stderr)
    assert '"unreachable"' not in done.stdout
    assert len(done.stderr.splitlines()) == 1, done.stderr[-3000:]
    (line,) = done.stderr.splitlines()
    assert "too many open files" in line and "ulimit -n is 64" in line


def test_is_exhausted_sees_a_real_emfile_through_wrapping() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    opened = []
    resource.setrlimit(resource.RLIMIT_NOFILE, (fdlimit.open_count() + 8, hard))
    try:
        with pytest.raises(OSError) as caught:
            while True:
                opened.append(open(__file__, "rb"))  # noqa: SIM115
    finally:
        for handle in opened:
            handle.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert caught.value.errno == errno.EMFILE
    try:
        try:
            raise caught.value
        except OSError as inner:
            raise ConnectionError("All connection attempts failed") from inner
    except ConnectionError as outer:
        assert fdlimit.is_exhausted(outer)
    assert not fdlimit.is_exhausted(ConnectionRefusedError(errno.ECONNREFUSED, "refused"))


def test_soft_limit_is_raised_to_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else fdlimit.UNLIMITED_TARGET
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, target), hard))
    try:
        assert fdlimit.raise_soft_limit() == target
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == target
        assert fdlimit.cap_concurrency(10**6) <= (target - fdlimit.RESERVE) // 2
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
