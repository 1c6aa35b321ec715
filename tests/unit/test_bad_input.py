"""Bad numbers, a misspelt registry config and bad input under --json: exit 2 with one line
naming the flag/file/key, the JSON error document on stdout when JSON was asked for, and
never exit 3 (contract: "Exit codes", "Output, errors in JSON")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inspector.cli import main, numbers
from inspector.registry import hosts, ports
from inspector.sources.model import ConfigError

BUILDER = "fixtures/builder-new.toml"

# Every command that takes the registry options, with the rest of its arguments.
COMMANDS = [
    ["resolve", "registry.example.com/acme/app", "-c", BUILDER],
    ["builder", "-c", BUILDER],
    ["check", "registry.example.com/acme/app", "-c", BUILDER],
    ["mirrors", "-c", BUILDER],
    ["preflight", "registry.example.com/acme/app:1", "-c", BUILDER],
    ["rebase", "registry.example.com/acme/app:1"],
    ["sync", "-c", BUILDER, "--dry-run"],
    ["audit", BUILDER],
]

BAD_NUMBERS = [
    (["--timeout", "nan"], "--timeout", "'nan' is not a finite number"),
    (["--timeout", "inf"], "--timeout", "'inf' is not a finite number"),
    (["--timeout", "-Infinity"], "--timeout", "is not a finite number"),
    (["--timeout", "-1"], "--timeout", "not between 0.1 and 3600"),
    (["--timeout", "0"], "--timeout", "not between 0.1 and 3600"),
    (["--timeout", "1e9"], "--timeout", "not between 0.1 and 3600"),
    (["--timeout", "ten"], "--timeout", "'ten' is not a number"),
    (["--concurrency", "0"], "--concurrency", "1<=x<=1024"),
    (["--concurrency", "1000000"], "--concurrency", "1<=x<=1024"),
    (["--endpoint", "registry.example.com=http://127.0.0.1:99999"], "--endpoint", "99999"),
    (["--endpoint", "registry.example.com=http://127.0.0.1:0"], "--endpoint", "port 0"),
    (["--endpoint", "registry.example.com:70000=http://127.0.0.1:5000"], "--endpoint", "70000"),
    (["--endpoint", "registry.example.com=http://[::1]:65536"], "--endpoint", "65536"),
]


def run(capsys: Any, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    assert isinstance(exited.value.code, int)
    return exited.value.code, out, err


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("PACK_HOME", str(tmp_path / "pack"))
    monkeypatch.delenv("INSPECTOR_REGISTRY_CONFIG", raising=False)


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
@pytest.mark.parametrize(("flags", "flag", "why"), BAD_NUMBERS)
def test_bad_numbers_are_bad_input_for_every_command(
    capsys: Any, command: list[str], flags: list[str], flag: str, why: str
) -> None:
    code, out, err = run(capsys, *command, *flags)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("inspector: error: ") and flag in err and why in err


# `--format` is on audit today; the other commands take --json (and --format as it lands).
JSON_ASKED = [(c, ["--json"]) for c in COMMANDS] + [
    (["audit", BUILDER], ["--format", "json"]),
    (["audit", BUILDER], ["--format=json"]),
]


@pytest.mark.parametrize(("command", "json_flag"), JSON_ASKED)
def test_bad_input_under_json_prints_the_error_document(
    capsys: Any, command: list[str], json_flag: list[str]
) -> None:
    code, out, err = run(capsys, *command, "--timeout", "nan", *json_flag)
    assert code == 2
    document = json.loads(out)
    assert document == {
        "schema_version": "1.0",
        "error": {"message": err.removeprefix("inspector: error: ").rstrip("\n")},
    }
    assert "--timeout" in document["error"]["message"]


def test_a_missing_builder_config_under_json_is_the_error_document(capsys: Any) -> None:
    code, out, _ = run(capsys, "mirrors", "-c", "no/such/builder.toml", "--json")
    assert code == 2
    assert "no/such/builder.toml" in json.loads(out)["error"]["message"]


def test_an_endpoint_password_is_not_echoed(capsys: Any) -> None:
    code, _, err = run(
        capsys, "mirrors", "-c", BUILDER, "--endpoint", "r.example.com=http://u:s3cret@h:99999"
    )
    assert code == 2
    assert "s3cret" not in err and "99999" in err


def test_sane_numbers_still_parse() -> None:
    assert numbers.SECONDS.convert("0.1", None, None) == 0.1
    assert numbers.SECONDS.convert(" 3600 ", None, None) == 3600.0
    assert ports.endpoint_problem("r.example.com:5000=http://[::1]:65535") is None
    assert ports.endpoint_problem("[::1]:443=https://h") is None


# -- the registry config: unknown tables and keys are bad input, named -------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[registry."registry.example.com"]\nendpoint = "http://127.0.0.1:5000"\n',
            "unknown top-level key 'registry' (expected registries); did you mean 'registries'?",
        ),
        (
            'endpoint = "http://127.0.0.1:5000"\n',
            "unknown top-level key 'endpoint'",
        ),
        (
            '[registries."r.example.com"]\nendpiont = "http://127.0.0.1:5000"\n',
            "[r.example.com]: unknown key 'endpiont' (expected endpoint, ca-file, insecure); "
            "did you mean 'endpoint'?",
        ),
        (
            '[registries."r.example.com"]\nendpoint = "http://127.0.0.1:99999"\n',
            "port 99999 is not between 1 and 65535",
        ),
        (
            '[registries."r.example.com"]\nendpoint = "http://127.0.0.1:+80"\n',
            "port '+80' is not a number",
        ),
        (
            '[registries."r.example.com:0"]\nendpoint = "http://127.0.0.1:5000"\n',
            "'r.example.com:0' is not a registry name",
        ),
    ],
)
def test_registry_config_mistakes_are_named(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "registries.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        hosts.load(path)
    assert str(path) in str(raised.value)
    assert expected in str(raised.value)


def test_registry_config_mistake_is_exit_2_on_the_command_line(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "registries.toml"
    path.write_text('[registry."registry.example.com"]\nendpoint = "http://127.0.0.1:5000"\n')
    code, out, err = run(capsys, "mirrors", "-c", BUILDER, "--registry-config", str(path))
    assert code == 2
    assert "unknown top-level key 'registry'" in err
    assert out == ""


def test_a_bom_at_the_start_of_a_registry_config_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "registries.toml"
    path.write_bytes(
        b'\xef\xbb\xbf[registries."r.example.com"]\nendpoint = "http://127.0.0.1:5000"\n'
    )
    assert hosts.load(path).base_urls("r.example.com") == ["http://127.0.0.1:5000"]


# -- a docker config nested too deeply, byte-order marks ---------------------------------


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_a_deeply_nested_docker_config_is_bad_input(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, opening: str
) -> None:
    docker = tmp_path / "nested"
    docker.mkdir()
    depth = 200_000
    closing = "]" if opening == "[" else "}"
    (docker / "config.json").write_text(opening * depth + "1" + closing * depth)
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    code, out, err = run(
        capsys,
        "mirrors",
        "-c",
        BUILDER,
        "--endpoint",
        "registry.example.com=http://127.0.0.1:9",
        "--json",
    )
    assert code == 2
    assert err.count("\n") == 1
    assert "config.json" in err and "nested too deeply" in err
    assert "nested too deeply" in json.loads(out)["error"]["message"]


def test_a_bom_at_the_start_of_a_builder_and_a_pack_config_is_accepted(
    tmp_path: Path, capsys: Any
) -> None:
    builder = tmp_path / "builder.toml"
    builder.write_bytes(
        b'\xef\xbb\xbf[[run.images]]\nimage = "example/run:1"\n'
        b'mirrors = ["registry.example.com/example/run:1"]\n'
    )
    pack = tmp_path / "pack.toml"
    pack.write_bytes(
        b'\xef\xbb\xbf[[run-images]]\nimage = "example/run:1"\n'
        b'mirrors = ["registry.example.com/mine/run:1"]\n'
    )
    code, out, err = run(
        capsys,
        "resolve",
        "registry.example.com/acme/app",
        "-c",
        str(builder),
        "--pack-config",
        str(pack),
        "--json",
    )
    assert (code, err) == (0, "")
    assert json.loads(out)["selected"] == "registry.example.com/mine/run:1"
    code, out, _ = run(capsys, "audit", str(builder), "--pack-config", str(pack), "--json")
    assert code == 0, out
