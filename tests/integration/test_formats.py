"""``--format sarif|json|table`` against real registries: SARIF results located at the
builder.toml line of the offending run image or mirror (validated against the official
SARIF 2.1.0 schema by ``cli_support.inspector``), and strings from a hostile builder
label escaped in human output."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_support import builder_toml, endpoints, inspector, isolate

from devtools.localregistry import RegistryProcess, push_image

RegistryFactory = Callable[..., RegistryProcess]
RUN = "registry.example.com/example/run:1.0"
GOOD = "mirror.example.org/example/run:1.0"
STALE = "mirror.example.org/stale/run:1.0"
GONE = "mirror.example.org/gone/run:1.0"


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


@pytest.fixture
def world(registry_factory: RegistryFactory, tmp_path: Path) -> tuple[Path, list[str]]:
    """A run image with one good, one stale and one missing mirror; the builder.toml."""
    origin, mirror = registry_factory(), registry_factory()
    push_image(origin.url, "example/run", "1.0", layer_seed="current")
    push_image(mirror.url, "example/run", "1.0", layer_seed="current")
    push_image(mirror.url, "stale/run", "1.0", layer_seed="old")
    builder = builder_toml(tmp_path, (RUN, [GOOD, STALE, GONE]))
    return builder, endpoints(registry_example_com=origin, mirror_example_org=mirror)


def line_of(path: Path, text: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def results_by_rule(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    (run,) = document["runs"]
    found: dict[str, list[dict[str, Any]]] = {}
    for result in run["results"]:
        found.setdefault(result["ruleId"], []).append(result)
    return found


def region(result: dict[str, Any]) -> tuple[str, int]:
    location = result["locations"][0]["physicalLocation"]
    return location["artifactLocation"]["uri"], location["region"]["startLine"]


def test_mirrors_sarif_points_at_the_mirror_lines(
    world: tuple[Path, list[str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builder, flags = world
    monkeypatch.chdir(builder.parent)
    result = inspector(capsys, "mirrors", "-c", "builder.toml", *flags, "--format", "sarif")
    assert result.code == 1
    document = result.json()
    assert document["version"] == "2.1.0" and "schema_version" not in document
    found = results_by_rule(document)
    assert sorted(found) == ["INS101", "INS102"]
    (missing,) = found["INS101"]
    (stale,) = found["INS102"]
    # The builder.toml writes the mirrors on one line: the column tells them apart.
    assert region(missing) == ("builder.toml", line_of(builder, GONE))
    assert region(stale) == ("builder.toml", line_of(builder, STALE))
    text = builder.read_text().splitlines()[region(stale)[1] - 1]
    column = stale["locations"][0]["physicalLocation"]["region"]["startColumn"]
    assert text[column - 1 :].startswith(f'"{STALE}"') or text[column - 1 :].startswith(STALE)
    assert GONE in missing["message"]["text"] and STALE in stale["message"]["text"]


def test_check_sarif_and_json_agree(
    world: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    builder, flags = world
    app = "registry.example.com/acme/app"
    sarif = inspector(capsys, "check", app, "-c", str(builder), *flags, "--format", "sarif")
    document = inspector(capsys, "check", app, "-c", str(builder), *flags, "--format", "json")
    assert sarif.code == document.code == 1
    bad = {
        c["reference"]
        for c in document.json()["candidates"]
        if c["status"] != "available" or c["in_sync"] is False
    }
    located = {
        r["message"]["text"].split()[1] for rs in results_by_rule(sarif.json()).values() for r in rs
    }
    assert located == bad == {STALE, GONE}


def test_preflight_sarif_has_the_failed_checks(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    origin = registry_factory()  # the run image is not there at all
    builder = builder_toml(tmp_path, (RUN, []))
    result = inspector(
        capsys,
        "preflight",
        "registry.example.com/acme/app:1",
        "-c",
        str(builder),
        *endpoints(registry_example_com=origin),
        "--format",
        "sarif",
    )
    assert result.code == 1
    found = results_by_rule(result.json())
    assert region(found["INS101"][0])[1] == line_of(builder, RUN)
    assert "INS201" in found  # the failed preflight check itself, located logically
    logical = found["INS201"][0]["locations"][0]["logicalLocations"][0]
    assert logical["name"] == "registry.example.com/acme/app:1"


def test_builder_image_sarif_has_logical_locations(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = registry_factory()
    metadata = {"images": [{"image": RUN, "mirrors": [GONE]}]}
    push_image(
        registry.url,
        "example/builder",
        "1",
        labels={"io.buildpacks.builder.metadata": json.dumps(metadata)},
    )
    push_image(registry.url, "example/run", "1.0", layer_seed="current")
    flags = endpoints(registry_example_com=registry, mirror_example_org=registry)
    builder = "registry.example.com/example/builder:1"
    result = inspector(capsys, "mirrors", "--builder", builder, *flags, "--format", "sarif")
    assert result.code == 1
    (missing,) = results_by_rule(result.json())["INS101"]
    assert missing["locations"][0]["logicalLocations"][0]["name"] == GONE


HOSTILE_DESCRIPTION = "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\\x1b[2J"
HOSTILE_MIRROR = "mirror.example.org/x\r::error::pwned\nline"


@pytest.mark.parametrize("color", ["never", "always"])
def test_hostile_builder_label_is_escaped_in_tables(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], color: str
) -> None:
    registry = registry_factory()
    metadata = {
        "description": HOSTILE_DESCRIPTION,
        "images": [
            {"image": "registry.example.com/example/run\ud800", "mirrors": [HOSTILE_MIRROR]}
        ],
        "buildpacks": [{"id": "evil/\u202egpj.exe", "version": "1"}],
    }
    push_image(
        registry.url,
        "example/builder",
        "1",
        labels={"io.buildpacks.builder.metadata": json.dumps(metadata)},
    )
    flags = endpoints(registry_example_com=registry)
    image = "registry.example.com/example/builder:1"
    result = inspector(capsys, "builder", image, *flags, "--color", color)
    assert result.code == 0, result.err
    out = re.sub(r"\x1b\[[0-9;]*m", "", result.out)  # rich's own colour codes
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out
    assert not any(line.lstrip().startswith("::error::") for line in out.splitlines())
    joined = out.replace("\n", "").replace(" ", "")
    assert "\\x1b]8;;https://evil.example/" in joined
    assert "\\r::error::pwned\\nline" in joined
    # A lone surrogate never reaches the terminal raw: escaped, or replaced (U+FFFD) when
    # the label is read.
    assert "\ud800" not in out
    assert "\\ud800" in joined or "\ufffd" in joined
    # JSON stays JSON: the same strings, escaped by the JSON encoder, round-trip exactly.
    document = inspector(capsys, "builder", image, *flags, "--json").json()
    assert document["description"] == HOSTILE_DESCRIPTION
    assert document["run_image_groups"][0]["mirrors"] == [HOSTILE_MIRROR]
