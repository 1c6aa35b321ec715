"""``--format``/``--json``/``--color`` on every command, NO_COLOR/FORCE_COLOR, the
INSPECTOR_* environment, ``schema_version`` and ``inspector schema``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from inspector.cli import main
from inspector.formats.schema import SCHEMA_VERSION, SCHEMAS, load

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NEW = str(FIXTURES / "builder-new.toml")
ANSI = re.compile(r"\x1b\[")
ALL_COMMANDS = ["resolve", "check", "mirrors", "builder", "preflight", "rebase", "audit", "sync"]


class FakeTTY:
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


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACK_HOME", str(tmp_path / "pack"))
    for name in ("NO_COLOR", "FORCE_COLOR", "INSPECTOR_TIMEOUT", "INSPECTOR_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    assert isinstance(done.value.code, int)
    return done.value.code, out, err


def on_tty(monkeypatch: pytest.MonkeyPatch, *argv: str) -> str:
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        main(list(argv))
    return "".join(tty.parts)


RESOLVE = ["resolve", "registry.example.com/app", "-c", NEW]


@pytest.mark.parametrize("command", ALL_COMMANDS)
def test_every_command_offers_format_json_and_color(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert "--format [table|json|sarif]" in out
    assert "--json" in out
    assert "--color [auto|always|never]" in out


@pytest.mark.parametrize("command", ALL_COMMANDS)
def test_every_help_ends_with_examples(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    tail = out.rstrip().split("Examples:")[-1].strip().splitlines()
    assert "Examples:" in out and len(tail) >= 2
    assert all(line.strip().startswith(f"inspector {command} ") for line in tail)


def test_format_json_is_json_with_schema_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, by_format, _ = run(capsys, *RESOLVE, "--format", "json")
    assert code == 0
    code, by_flag, _ = run(capsys, *RESOLVE, "--json")
    assert by_format == by_flag
    document = json.loads(by_format)
    assert next(iter(document)) == "schema_version"
    assert document["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize(
    "argv",
    [
        [*RESOLVE, "--json", "--format", "table"],
        [*RESOLVE, "--format", "sarif"],
        ["builder", "-c", NEW, "--format", "sarif"],
        [*RESOLVE, "--format", "yaml"],
        [*RESOLVE, "--color", "sometimes"],
    ],
)
def test_bad_output_choices_are_bad_input(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    if "--json" in argv:  # JSON was asked for: the error document, nothing else
        assert set(json.loads(out)) == {"schema_version", "error"}
    else:
        assert out == ""
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_color_always_colours_a_pipe(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *RESOLVE, "--color", "always")
    assert code == 0 and ANSI.search(out)
    assert "registry.example.com/example/run" in re.sub(r"\x1b\[[0-9;]*m", "", out)


def test_color_never_on_a_terminal_is_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    out = on_tty(monkeypatch, *RESOLVE, "--color", "never")
    assert not ANSI.search(out)
    assert "registry.example.com/example/run" in out


def test_empty_no_color_does_not_turn_colour_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "")
    assert ANSI.search(on_tty(monkeypatch, *RESOLVE))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not ANSI.search(on_tty(monkeypatch, *RESOLVE))


def test_force_color_colours_a_real_pipe(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR"}}
    env.update(PACK_HOME=str(tmp_path), FORCE_COLOR="1")
    done = subprocess.run(
        [sys.executable, "-m", "inspector", *RESOLVE],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert ANSI.search(done.stdout)
    env["NO_COLOR"] = "1"  # NO_COLOR wins over FORCE_COLOR
    done = subprocess.run(
        [sys.executable, "-m", "inspector", *RESOLVE],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert not ANSI.search(done.stdout)


@pytest.mark.parametrize(
    ("name", "value", "flag"),
    [("INSPECTOR_TIMEOUT", "0", "--timeout"), ("INSPECTOR_CONCURRENCY", "0", "--concurrency")],
)
def test_environment_sets_timeout_and_concurrency(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
    flag: str,
) -> None:
    # An out-of-range value from the environment is refused like the flag's: proof it is read.
    monkeypatch.setenv(name, value)
    code, _, err = run(capsys, *RESOLVE)
    assert code == 2 and flag in err
    code, out, _ = run(capsys, "check", "--help")
    assert name in out


@pytest.mark.parametrize("command", sorted(SCHEMAS))
def test_schema_command_prints_a_valid_schema(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, out, _ = run(capsys, "schema", command)
    assert code == 0
    schema = json.loads(out)
    assert schema == load(command)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "schema_version" in schema["required"]


def test_schema_rejects_a_document_missing_a_contract_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _code, out, _ = run(capsys, *RESOLVE, "--json")
    document = json.loads(out)
    validator = jsonschema.Draft202012Validator(load("resolve"))
    validator.validate(document)
    broken = {k: v for k, v in document.items() if k != "selected"}
    assert not validator.is_valid(broken)
    document["candidates"][0]["source"] = "somewhere"
    assert not validator.is_valid(document)
    document = json.loads(out)
    document["extra_key_from_a_later_version"] = 1  # additions are fine
    assert validator.is_valid(document)


def test_terminal_at_80_columns_wraps_and_never_cuts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    long_ref = "registry-mirror.internal.example.com:5000/platform/cnb/run-jammy-base:0.1.2"
    builder = tmp_path / "builder.toml"
    builder.write_text(
        f'[[run.images]]\nimage = "docker.io/paketobuildpacks/run-jammy-base:latest"\n'
        f'mirrors = ["{long_ref}"]\n'
    )
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit):
        main(["resolve", "registry.example.com/acme/app", "-c", str(builder)])
    out = re.sub(r"\x1b\[[0-9;]*m", "", "".join(tty.parts))
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    # The reference column, read down: the folded pieces join into the whole reference.
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if " reference " in f" {line} ")
    start = lines[header].index("reference")
    end = lines[header].index("source")
    pieces = "".join(line[start:end].strip() for line in lines[header + 2 :])
    assert long_ref in pieces
