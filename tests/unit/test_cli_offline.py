"""The offline commands (``resolve``, ``builder -c``) through the real command line."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NEW = str(FIXTURES / "builder-new.toml")
LEGACY = str(FIXTURES / "builder-legacy.toml")
BOTH = str(FIXTURES / "builder-both.toml")
MESSY = str(FIXTURES / "builder-messy.toml")
PACK = str(FIXTURES / "packconfig" / "config.toml")
ANSI = re.compile(r"\x1b\[")
CANDIDATE_KEYS = {
    "rank",
    "reference",
    "normalized",
    "registry",
    "source",
    "matches_app_registry",
    "selected",
}


@pytest.fixture(autouse=True)
def isolated_pack_home(tmp_path, monkeypatch):
    """Never read the real ~/.pack: an empty PACK_HOME and HOME unless a test says otherwise."""
    monkeypatch.setenv("PACK_HOME", str(tmp_path / "packhome"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("INSPECTOR_REGISTRY_CONFIG", raising=False)
    return tmp_path / "packhome"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    return done.value.code, out, err


def assert_one_line_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert err.endswith("\n")
    for needle in needles:
        assert needle in lines[0]


# --- resolve ---------------------------------------------------------------------------------


def test_resolve_json_document(capsys):
    code, out, err = cli(
        capsys, "resolve", "registry.example.com/example/app", "-c", NEW, "--no-pack-config",
        "--json",
    )  # fmt: skip
    assert code == 0
    assert err == ""
    doc = json.loads(out)
    assert doc["app_image"] == "registry.example.com/example/app"
    assert doc["app_registry"] == "registry.example.com"
    assert doc["preferred_registry"] == "registry.example.com"
    assert doc["selected"] == "registry.example.com/example/run"
    for forbidden in ("status", "digest", "in_sync"):
        assert forbidden not in doc
    candidates = doc["candidates"]
    for c in candidates:
        assert set(c) >= CANDIDATE_KEYS
        for forbidden in ("status", "digest", "in_sync"):
            assert forbidden not in c
    assert [
        (c["rank"], c["reference"], c["normalized"], c["registry"], c["source"],
         c["matches_app_registry"], c["selected"])
        for c in candidates
    ] == [
        (1, "example/run", "index.docker.io/example/run:latest", "index.docker.io", "image",
         False, False),
        (2, "registry.example.com/example/run", "registry.example.com/example/run:latest",
         "registry.example.com", "mirror", True, True),
        (3, "mirror.example.org/example/run", "mirror.example.org/example/run:latest",
         "mirror.example.org", "mirror", False, False),
        (4, "example/run-full", "index.docker.io/example/run-full:latest", "index.docker.io",
         "image", False, False),
        (5, "registry.example.com/example/run-full",
         "registry.example.com/example/run-full:latest", "registry.example.com", "mirror",
         True, False),
    ]  # fmt: skip
    assert sum(c["selected"] for c in candidates) == 1


def test_resolve_json_user_mirror_and_unparseable(capsys):
    code, out, _ = cli(
        capsys, "resolve", "localhost:5000/app", "-c", MESSY, "--pack-config", PACK, "--json"
    )
    assert code == 0
    doc = json.loads(out)
    # pack-config key "docker.io/example/run" matches the messy builder's run image exactly.
    assert doc["candidates"][0]["reference"] == "registry.example.com/ignored/run"
    assert doc["candidates"][0]["source"] == "user-mirror"
    assert doc["selected"] == "localhost:5000/other/run"
    invalid = [c for c in doc["candidates"] if c["reference"] == "Mirror.Example.org/Example/Run"]
    assert len(invalid) == 1
    assert invalid[0]["normalized"] is None and invalid[0]["registry"] is None
    assert invalid[0]["selected"] is False


def test_resolve_json_docker_hub_app(capsys):
    code, out, _ = cli(capsys, "resolve", "example/app", "-c", NEW, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["app_registry"] == "index.docker.io"
    assert doc["selected"] == "example/run"


def test_resolve_default_pack_config_from_pack_home(capsys, isolated_pack_home):
    isolated_pack_home.mkdir()
    (isolated_pack_home / "config.toml").write_text(Path(PACK).read_text())
    code, out, _ = cli(capsys, "resolve", "localhost:5000/app", "-c", NEW, "--json")
    assert code == 0
    assert json.loads(out)["selected"] == "localhost:5000/example/run"
    # --no-pack-config ignores it.
    code, out, _ = cli(
        capsys, "resolve", "localhost:5000/app", "-c", NEW, "--json", "--no-pack-config"
    )
    assert code == 0
    assert json.loads(out)["selected"] == "example/run"


def test_resolve_default_pack_config_from_home(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("PACK_HOME")
    home = tmp_path / "home" / ".pack"
    home.mkdir(parents=True)
    (home / "config.toml").write_text(Path(PACK).read_text())
    code, out, _ = cli(capsys, "resolve", "localhost:5000/app", "-c", NEW, "--json")
    assert code == 0
    assert json.loads(out)["selected"] == "localhost:5000/example/run"


def test_resolve_legacy_and_both(capsys):
    code, out, _ = cli(capsys, "resolve", "mirror.example.org/app", "-c", LEGACY, "--json")
    assert code == 0
    assert json.loads(out)["selected"] == "mirror.example.org/example/run"
    code, out, _ = cli(capsys, "resolve", "registry.example.com/app", "-c", BOTH, "--json")
    assert code == 0
    assert json.loads(out)["selected"] == "registry.example.com/example/run:jammy"


def test_resolve_daemon_without_builder_name_is_bad_input(capsys):
    # pack prefers the builder image's registry with --daemon; a builder.toml does not
    # name it, so guessing (the app's registry) would be a silent wrong answer.
    code, out, err = cli(capsys, "resolve", "registry.example.com/app", "-c", NEW, "--daemon")
    assert_one_line_error(code, out, err, "--daemon", "--builder-name")
    # Under --json the same error is also the JSON error document on stdout.
    code, out, err = cli(
        capsys, "resolve", "registry.example.com/app", "-c", NEW, "--daemon", "--json"
    )
    assert code == 2
    assert "--builder-name" in json.loads(out)["error"]["message"]


def test_resolve_daemon_with_builder_name_prefers_its_registry(capsys):
    code, out, _ = cli(
        capsys, "resolve", "registry.example.com/app", "-c", NEW, "--daemon",
        "--builder-name", "mirror.example.org/acme/builder:1", "--json",
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    assert doc["preferred_registry"] == "mirror.example.org"
    assert doc["builder_image"] == "mirror.example.org/acme/builder:1"
    assert doc["selected"] == "mirror.example.org/example/run"


def test_resolve_human(capsys):
    code, out, err = cli(capsys, "resolve", "registry.example.com/example/app", "-c", NEW)
    assert code == 0
    assert err == ""
    assert not ANSI.search(out)
    assert "registry.example.com/example/run" in out
    selected_lines = [line for line in out.splitlines() if "selected" in line.split()]
    assert any("registry.example.com/example/run " in line for line in selected_lines)
    for reference in [
        "example/run",
        "mirror.example.org/example/run",
        "example/run-full",
        "registry.example.com/example/run-full",
    ]:
        assert reference in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_resolve_human_no_match(capsys):
    code, out, _ = cli(capsys, "resolve", "elsewhere.example.net/app", "-c", NEW)
    assert code == 0
    assert "example/run" in out


# --- builder -c ------------------------------------------------------------------------------


def test_builder_json(capsys):
    code, out, err = cli(capsys, "builder", "-c", NEW, "--pack-config", PACK, "--json")
    assert code == 0
    assert err == ""
    doc = json.loads(out)
    images = doc["run_image_groups"]
    assert [i["image"] for i in images] == ["example/run", "example/run-full"]
    assert images[0]["mirrors"] == [
        "registry.example.com/example/run",
        "mirror.example.org/example/run",
    ]
    assert images[0]["user_mirrors"] == [
        "localhost:5000/example/run",
        "registry.example.com/mine/run",
    ]
    assert images[1]["user_mirrors"] == []
    assert images[1]["mirrors"] == ["registry.example.com/example/run-full"]


def test_builder_json_legacy(capsys):
    code, out, _ = cli(capsys, "builder", "-c", LEGACY, "--json")
    assert code == 0
    doc = json.loads(out)
    assert [i["image"] for i in doc["run_image_groups"]] == ["example/run"]
    assert doc["run_images"] == [
        {"name": "example/run"},
        {"name": "registry.example.com/example/run"},
        {"name": "mirror.example.org/example/run"},
    ]


def test_builder_human(capsys):
    code, out, err = cli(capsys, "builder", "-c", NEW, "--pack-config", PACK)
    assert code == 0
    assert err == ""
    assert not ANSI.search(out)
    section = out[out.index("Run image #1") : out.index("Run image #2")]
    first_column = [line.split()[0] for line in section.splitlines()[2:] if line.strip()]
    assert first_column == [  # match order, user mirrors first
        "localhost:5000/example/run",
        "registry.example.com/mine/run",
        "example/run",
        "registry.example.com/example/run",
        "mirror.example.org/example/run",
    ]
    user_lines = [line for line in out.splitlines() if line.startswith("localhost:5000/")]
    assert user_lines and "user" in user_lines[0]  # user-configured ones are marked


# --- bad input: exit 2, one line, no traceback -----------------------------------------------


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "builder.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["resolve", "Example/App", "-c", NEW], ["Example/App"]),
        (["resolve", "example/app:", "-c", NEW], ["example/app:"]),
        (["resolve", "", "-c", NEW], ["''"]),
        (["resolve", "example app", "-c", NEW], ["example app"]),
        (["resolve", "example/app", "-c", "/nonexistent/builder.toml"], ["/nonexistent"]),
        (["resolve", "example/app"], ["-c", "--builder"]),
        (["resolve", "example/app", "-c", NEW, "--builder", "example/builder"], ["--builder"]),
        (["resolve", "example/app", "-c", NEW, "--bogus"], ["--bogus"]),
        (["resolve", "-c", NEW], ["APP_IMAGE"]),
        (
            ["resolve", "example/app", "-c", NEW, "--pack-config", "/nonexistent/p.toml"],
            ["/nonexistent/p.toml"],
        ),
        (["builder"], ["-c"]),
        (["builder", "-c", "/nonexistent/builder.toml"], ["/nonexistent"]),
        (["builder", "-c", NEW, "example/builder"], []),
        (["builder", "-c", NEW, "--bogus"], ["--bogus"]),
        (["no-such-command"], ["no-such-command"]),
    ],
)
def test_bad_arguments(capsys, argv, needles):
    code, out, err = cli(capsys, *argv)
    assert_one_line_error(code, out, err, *needles)


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("[[run.images]\nimage = 'a'\n", ["line 1", "column"]),
        ("[[run.images]]\nimage = 'a\n", ["line", "column"]),
        ('[[run.images]]\nimage = "a"\nmirrors = "b"\n', ["mirrors"]),
        ("[[run.images]]\nimage = 1\n", ["image"]),
        ('[run]\nimages = "a"\n', ["images"]),
        ('description = "no run image"\n', ["run image"]),
        ('[[run.images]]\nimage = ""\n', ["image"]),
        ("a = " + "[" * 3000 + "]" * 3000, []),
    ],
    ids=[
        "toml-syntax",
        "toml-open-string",
        "mirrors-not-list",
        "image-not-string",
        "run-images-not-tables",
        "no-run-image",
        "empty-image",
        "deep-nesting",
    ],
)
@pytest.mark.parametrize("command", ["resolve", "builder"])
def test_bad_builder_config(capsys, tmp_path, text, needles, command):
    path = write(tmp_path, text)
    argv = (
        ["resolve", "example/app", "-c", path] if command == "resolve" else ["builder", "-c", path]
    )
    code, out, err = cli(capsys, *argv)
    assert_one_line_error(code, out, err, path, *needles)


def test_bad_pack_config(capsys, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[[run-images]]\nimage = "example/run"\nmirrors = "x"\n')
    code, out, err = cli(capsys, "resolve", "example/app", "-c", NEW, "--pack-config", str(path))
    assert_one_line_error(code, out, err, str(path), "mirrors")


def test_bad_default_pack_config(capsys, isolated_pack_home):
    isolated_pack_home.mkdir()
    (isolated_pack_home / "config.toml").write_text("[[run-images]\n")
    code, out, err = cli(capsys, "resolve", "example/app", "-c", NEW)
    assert_one_line_error(code, out, err, str(isolated_pack_home / "config.toml"))


def test_builder_config_is_a_directory(capsys, tmp_path):
    code, out, err = cli(capsys, "resolve", "example/app", "-c", str(tmp_path))
    assert_one_line_error(code, out, err, str(tmp_path))


def test_bad_input_with_json_exits_2_and_prints_the_json_error_document(capsys):
    code, out, err = cli(capsys, "resolve", "Example/App", "-c", NEW, "--json")
    assert_one_line_error(code, "", err, "Example/App")
    document = json.loads(out)
    assert document["error"]["message"] == err.removeprefix("inspector: error: ").strip()
    assert document["schema_version"] == "1.0"


def test_help_and_version(capsys):
    code, out, _ = cli(capsys, "--help")
    assert code == 0 and "resolve" in out and "builder" in out
    code, out, _ = cli(capsys, "resolve", "--help")
    assert code == 0 and "--json" in out and "--daemon" in out
    code, out, _ = cli(capsys, "--version")
    assert code == 0 and out.strip()


# --- plain text for pipes and NO_COLOR -------------------------------------------------------


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


def run_on_tty(monkeypatch, *argv: str) -> tuple[int, str]:
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    return done.value.code, tty.text


@pytest.mark.parametrize("command", [["resolve", "registry.example.com/app"], ["builder"]])
def test_no_color_on_a_terminal_is_plain(monkeypatch, command):
    monkeypatch.setenv("NO_COLOR", "1")
    code, out = run_on_tty(monkeypatch, *command, "-c", NEW)
    assert code == 0
    assert not ANSI.search(out)
    assert "registry.example.com/example/run" in out


@pytest.mark.parametrize("command", [["resolve", "registry.example.com/app"], ["builder"]])
def test_terminal_without_no_color_still_shows_the_data(monkeypatch, command):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TERM", "xterm-256color")
    code, out = run_on_tty(monkeypatch, *command, "-c", NEW)
    assert code == 0
    plain = ANSI.sub("", re.sub(r"\x1b\[[0-9;]*m", "", out))
    assert "registry.example.com/example/run" in plain


def subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR"}}
    env.update(PACK_HOME=str(tmp_path / "packhome"), HOME=str(tmp_path / "home"), **extra)
    return env


def test_subprocess_pipe_is_plain_text(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "resolve", "registry.example.com/app", "-c", NEW],
        capture_output=True,
        text=True,
        env=subprocess_env(tmp_path, TERM="xterm-256color"),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert not ANSI.search(done.stdout)
    assert "registry.example.com/example/run" in done.stdout


def test_subprocess_json(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "resolve", "example/app", "-c", NEW, "--json"],
        capture_output=True,
        text=True,
        env=subprocess_env(tmp_path),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["selected"] == "example/run"


def test_subprocess_bad_input(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "resolve", "Example/App", "-c", NEW],
        capture_output=True,
        text=True,
        env=subprocess_env(tmp_path),
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert "Example/App" in done.stderr


def resolve_many_mirrors(tmp_path: Path) -> list[str]:
    """``python -m inspector resolve --json`` for a builder with 4,000 mirrors (~0.3 MB)."""
    mirrors = [f"registry-{i:04d}.example.com/example/run" for i in range(4000)]
    builder = tmp_path / "builder.toml"
    builder.write_text(f'[[run.images]]\nimage = "example/run"\nmirrors = {json.dumps(mirrors)}\n')
    return [sys.executable, "-m", "inspector", "resolve", "x/app", "-c", str(builder), "--json"]


def test_subprocess_output_larger_than_a_pipe_arrives_whole(tmp_path):
    # The script ends with os._exit (no interpreter teardown): everything written must
    # still be flushed first, here ~0.3 MB, far beyond a pipe's 64 KiB buffer.
    done = subprocess.run(
        resolve_many_mirrors(tmp_path),
        capture_output=True,
        text=True,
        env=subprocess_env(tmp_path),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) > 256 * 1024
    document = json.loads(done.stdout)
    assert len(document["candidates"]) == 4001


def test_subprocess_closed_pipe_is_a_failure_without_traceback(tmp_path):
    process = subprocess.Popen(
        resolve_many_mirrors(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(tmp_path),
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(10)  # like `| head -c 10`: read a little, then hang up
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) != 0
    assert "Traceback" not in stderr


def test_subprocess_real_terminal_with_no_color(tmp_path):
    import pty

    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "inspector", "resolve", "registry.example.com/app", "-c", NEW],
            stdout=follower,
            stderr=subprocess.PIPE,
            env=subprocess_env(tmp_path, NO_COLOR="1", TERM="xterm-256color", COLUMNS="200"),
        )
        os.close(follower)
        follower = -1
        chunks = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=60) == 0
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    out = b"".join(chunks).decode()
    assert not ANSI.search(out)
    assert "registry.example.com/example/run" in out
