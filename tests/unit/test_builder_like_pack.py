"""``inspector builder`` shows what ``pack builder inspect`` shows, in its order and words
(pack ``internal/builder/writer``: ``runImages``, ``writeLocalMirrors``, ``dist.ModuleInfo``)."""

from __future__ import annotations

import json

import pytest

from inspector.cli import main


@pytest.fixture(autouse=True)
def isolated_pack_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PACK_HOME", str(tmp_path / "packhome"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def run(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    assert err == ""
    return done.value.code, out


BUILDER = """
description = "Base builder"

[[buildpacks]]
id = "acme/java"
version = "1.2.3"
uri = "docker://registry.example.com/acme/java:1.2.3"

[[buildpacks]]
uri = "docker://registry.example.com/acme/node:4.5.6"

[[buildpacks]]
uri = "urn:cnb:registry:acme/python@7.8.9"

[[buildpacks]]
image = "registry.example.com/acme/go:1.0"

[[buildpacks]]
id = "acme/procfile"

[[run.images]]
image = "registry.example.com/base/run:jammy"
mirrors = ["mirror.example.org/base/run:jammy"]

[[run.images]]
image = "registry.example.com/base/run-full:jammy"
"""

# Two entries for the first run image (pack lists both, in file order; the selection map
# keeps only the last), one for the second, and one that matches nothing.
PACK = """
[[run-images]]
image = "registry.example.com/base/run:jammy"
mirrors = ["a.example.net/run:jammy"]

[[run-images]]
image = "registry.example.com/base/run-full:jammy"
mirrors = ["c.example.net/run-full:jammy"]

[[run-images]]
image = "registry.example.com/base/run:jammy"
mirrors = ["b.example.net/run:jammy"]

[[run-images]]
image = "base/run:jammy"
mirrors = ["never.example.net/run:jammy"]
"""


@pytest.fixture
def files(tmp_path):
    builder = tmp_path / "builder.toml"
    builder.write_text(BUILDER)
    pack = tmp_path / "config.toml"
    pack.write_text(PACK)
    return str(builder), str(pack)


def test_run_images_in_packs_order_and_wording(capsys, files):
    builder, pack = files
    code, out = run(capsys, "builder", "-c", builder, "--pack-config", pack, "--json")
    assert code == 0
    document = json.loads(out)
    assert document["run_images"] == [
        {"name": "a.example.net/run:jammy", "user_configured": True},
        {"name": "c.example.net/run-full:jammy", "user_configured": True},
        {"name": "b.example.net/run:jammy", "user_configured": True},
        {"name": "registry.example.com/base/run:jammy"},
        {"name": "mirror.example.org/base/run:jammy"},
        {"name": "registry.example.com/base/run-full:jammy"},
    ]
    # Selection still uses pack's map: only the last entry counts for the first run image.
    assert document["run_image_groups"][0]["user_mirrors"] == ["b.example.net/run:jammy"]

    code, out = run(capsys, "builder", "-c", builder, "--pack-config", pack)
    assert code == 0
    section = out[out.index("Run Images (as pack builder inspect lists them)") :]
    lines = [line.split() for line in section.splitlines()[2:8]]
    assert lines[0] == ["a.example.net/run:jammy", "(user-configured)"]
    assert lines[2] == ["b.example.net/run:jammy", "(user-configured)"]
    assert lines[3] == ["registry.example.com/base/run:jammy"]


def test_buildpacks_never_put_a_uri_in_the_id(capsys, files):
    builder, _ = files
    code, out = run(capsys, "builder", "-c", builder, "--no-pack-config", "--json")
    assert code == 0
    assert json.loads(out)["buildpacks"] == [
        {
            "id": "acme/java",
            "version": "1.2.3",
            "uri": "docker://registry.example.com/acme/java:1.2.3",
        },
        {"id": "", "uri": "docker://registry.example.com/acme/node:4.5.6"},
        {"id": "", "uri": "urn:cnb:registry:acme/python@7.8.9"},
        {"id": "", "image": "registry.example.com/acme/go:1.0"},
        {"id": "acme/procfile"},
    ]
    code, out = run(capsys, "builder", "-c", builder, "--no-pack-config")
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("Buildpacks "))
    labels = line.removeprefix("Buildpacks").strip().split(", ")
    assert labels == [
        "acme/java@1.2.3",
        "docker://registry.example.com/acme/node:4.5.6",
        "urn:cnb:registry:acme/python@7.8.9",
        "registry.example.com/acme/go:1.0",
        "acme/procfile",
    ]
    assert "@docker" not in out and "procfile@" not in out
