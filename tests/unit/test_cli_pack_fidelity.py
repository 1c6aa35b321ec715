"""``resolve`` with the pack-fidelity options, through the real command line (offline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NEW = str(FIXTURES / "builder-new.toml")


@pytest.fixture(autouse=True)
def isolated_pack_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PACK_HOME", str(tmp_path / "packhome"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    return done.value.code, out, err


def test_resolve_shows_the_pull_reference_through_registry_mirrors(capsys, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[registry-mirrors]\n"registry.example.com" = "cache.example.net"\n')
    args = ("resolve", "registry.example.com/acme/app", "-c", NEW, "--pack-config", str(config))
    code, out, _ = cli(capsys, *args, "--json")
    assert code == 0
    document = json.loads(out)
    assert document["selected"] == "registry.example.com/example/run"
    assert document["pull_reference"] == "cache.example.net/example/run:latest"
    code, out, _ = cli(capsys, *args)
    assert code == 0
    assert "pack pulls it as cache.example.net/example/run:latest" in out


def test_resolve_lifecycle_selector_ignores_user_mirrors(capsys, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[[run-images]]\nimage = "example/run"\nmirrors = ["registry.example.com/mine/run"]\n'
    )
    args = ("resolve", "registry.example.com/acme/app", "-c", NEW, "--pack-config", str(config))
    code, out, _ = cli(capsys, *args, "--json")
    assert json.loads(out)["selected"] == "registry.example.com/mine/run"
    code, out, _ = cli(capsys, *args, "--selector", "lifecycle", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["selector"] == "lifecycle"
    assert document["selected"] == "registry.example.com/example/run"
    assert "registry.example.com/mine/run" not in [c["reference"] for c in document["candidates"]]


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("--daemon", "--builder-name", "Bad/Name"), "Bad/Name"),
        (("--builder-name", "acme/builder", "--builder", "acme/other"), "--builder-name"),
        (("--selector", "kpack"), "--selector"),
    ],
)
def test_bad_pack_fidelity_options_are_one_line_errors(capsys, extra, needle):
    args = ["resolve", "registry.example.com/acme/app"]
    if "--builder" not in extra:
        args += ["-c", NEW]
    code, out, err = cli(capsys, *args, *extra)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and needle in err
    assert "Traceback" not in err


def test_resolve_app_image_named_like_compose_is_valid(capsys):
    # Compose-style hosts (with "_") are valid for pack; resolve must not fail on them.
    code, out, _ = cli(capsys, "resolve", "my_registry:5000/acme/app", "-c", NEW, "--json")
    assert code == 0
    assert json.loads(out)["app_registry"] == "my_registry:5000"


def test_check_survives_names_valid_for_pack_that_make_no_url(capsys, tmp_path):
    # "a:b:80" and "::1" are valid registries for Go's net/url (pack), but no URL httpx can
    # build: each is that candidate's finding, never a crash (exit 3).
    builder = tmp_path / "builder.toml"
    builder.write_text('[[run.images]]\nimage = "a:b:80/example/run"\nmirrors = ["::1/xy"]\n')
    code, out, err = cli(capsys, "check", "a:b:80/acme/app", "-c", str(builder), "--json")
    assert code == 1, err
    document = json.loads(out)
    assert [c["reference"] for c in document["candidates"]] == ["a:b:80/example/run", "::1/xy"]
    for candidate in document["candidates"]:
        assert candidate["status"] == "unreachable"
        assert "cannot make a URL of it" in candidate["detail"]
    assert document["selected"] == "a:b:80/example/run"
