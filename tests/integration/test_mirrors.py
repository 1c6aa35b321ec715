"""``inspector mirrors`` end to end against real distribution registries: for every run
image of a builder, is each mirror (pack-config user mirrors first) present and identical?"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import (
    Result,
    builder_toml,
    endpoints,
    inspector,
    inspector_requests,
    isolate,
)

from devtools.localregistry import RegistryProcess, push_image

RegistryFactory = Callable[..., RegistryProcess]

RUN_IMAGE_KEYS = {"image", "normalized", "status", "digest", "mirrors"}
MIRROR_KEYS = {"reference", "normalized", "status", "digest", "in_sync"}


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


def mirrors(capsys: pytest.CaptureFixture[str], builder: Path, *extra: str) -> Result:
    return inspector(capsys, "mirrors", "-c", str(builder), *extra, "--json")


def test_json_shape_statuses_and_exact_digests(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hub, origin, mirror = registry_factory(), registry_factory(), registry_factory()
    run = push_image(origin.url, "example/run", "1.0", layer_seed="current")
    for repo in ("example/run", "mine/run"):
        push_image(mirror.url, repo, "1.0", layer_seed="current")
    old = push_image(mirror.url, "stale/run", "1.0", layer_seed="old")
    full = push_image(hub.url, "example/run-full", "latest", layer_seed="full")
    push_image(origin.url, "example/run-full", "latest", layer_seed="full")
    builder = builder_toml(
        tmp_path,
        (
            "registry.example.com/example/run:1.0",
            [
                "mirror.example.org/example/run:1.0",
                "mirror.example.org/stale/run:1.0",
                "mirror.example.org/gone/run:1.0",
            ],
        ),
        ("example/run-full", ["registry.example.com/example/run-full"]),
    )
    pack_config = tmp_path / "pack.toml"
    pack_config.write_text(
        '[[run-images]]\nimage = "registry.example.com/example/run:1.0"\n'
        'mirrors = ["mirror.example.org/mine/run:1.0"]\n'
    )

    result = mirrors(
        capsys,
        builder,
        "--pack-config",
        str(pack_config),
        *endpoints(docker_io=hub, registry_example_com=origin, mirror_example_org=mirror),
    )

    assert result.code == 1
    document = result.json()
    assert document["in_sync"] is False
    first, second = document["run_images"]
    for group in (first, second):
        assert group.keys() >= RUN_IMAGE_KEYS
        assert isinstance(group["in_sync"], bool)
        for entry in group["mirrors"]:
            assert entry.keys() >= MIRROR_KEYS

    assert (first["image"], first["normalized"], first["status"], first["digest"]) == (
        "registry.example.com/example/run:1.0",
        "registry.example.com/example/run:1.0",
        "available",
        run.digest,
    )
    assert [
        (m["reference"], m["source"], m["status"], m["digest"], m["in_sync"])
        for m in first["mirrors"]
    ] == [
        ("mirror.example.org/mine/run:1.0", "user-mirror", "available", run.digest, True),
        ("mirror.example.org/example/run:1.0", "mirror", "available", run.digest, True),
        ("mirror.example.org/stale/run:1.0", "mirror", "available", old.digest, False),
        ("mirror.example.org/gone/run:1.0", "mirror", "missing", None, None),
    ]
    assert first["in_sync"] is False

    assert (second["image"], second["normalized"], second["digest"]) == (
        "example/run-full",
        "index.docker.io/example/run-full:latest",
        full.digest,
    )
    assert [(m["normalized"], m["digest"], m["in_sync"]) for m in second["mirrors"]] == [
        ("registry.example.com/example/run-full:latest", full.digest, True)
    ]
    assert second["in_sync"] is True
    assert document["verdict"] == "FAIL: 2 of 5 mirror(s) not in sync (1 stale, 1 missing)"


def test_all_mirrors_in_sync_exits_0(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    origin, mirror = registry_factory(), registry_factory()
    run = push_image(origin.url, "example/run", "1.0")
    push_image(mirror.url, "example/run", "1.0")
    builder = builder_toml(
        tmp_path, ("registry.example.com/example/run:1.0", ["mirror.example.org/example/run:1.0"])
    )

    result = mirrors(
        capsys, builder, *endpoints(registry_example_com=origin, mirror_example_org=mirror)
    )

    assert result.code == 0, result.out
    document = result.json()
    assert document["in_sync"] is True
    [group] = document["run_images"]
    assert group["digest"] == group["mirrors"][0]["digest"] == run.digest
    assert document["verdict"].startswith("OK")


def test_missing_run_image_makes_its_mirrors_incomparable(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    origin, mirror = registry_factory(), registry_factory()
    copy = push_image(mirror.url, "example/run", "1.0")
    builder = builder_toml(
        tmp_path, ("registry.example.com/example/run:1.0", ["mirror.example.org/example/run:1.0"])
    )

    result = mirrors(
        capsys, builder, *endpoints(registry_example_com=origin, mirror_example_org=mirror)
    )

    assert result.code == 1
    [group] = result.json()["run_images"]
    assert (group["status"], group["digest"], group["in_sync"]) == ("missing", None, False)
    [entry] = group["mirrors"]
    assert (entry["status"], entry["digest"], entry["in_sync"]) == ("available", copy.digest, None)


def test_unauthorized_mirror(
    registry: RegistryProcess,
    htpasswd_registry: tuple[RegistryProcess, tuple[str, str]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    locked, user = htpasswd_registry
    push_image(registry.url, "example/run", "1.0")
    push_image(locked.url, "example/run", "1.0", auth=user)
    builder = builder_toml(
        tmp_path, ("registry.example.com/example/run:1.0", ["locked.example.org/example/run:1.0"])
    )

    result = mirrors(
        capsys, builder, *endpoints(registry_example_com=registry, locked_example_org=locked)
    )

    assert result.code == 1
    [entry] = result.json()["run_images"][0]["mirrors"]
    assert (entry["status"], entry["digest"], entry["in_sync"]) == ("unauthorized", None, None)


def test_a_mirror_shared_by_two_run_images_is_probed_once(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    origin, mirror = registry_factory(), registry_factory()
    run = push_image(origin.url, "example/run", "1.0", layer_seed="run")
    push_image(origin.url, "example/run-full", "1.0", layer_seed="full")
    shared = push_image(mirror.url, "shared/run", "1.0", layer_seed="run")
    builder = builder_toml(
        tmp_path,
        ("registry.example.com/example/run:1.0", ["mirror.example.org/shared/run:1.0"]),
        ("registry.example.com/example/run-full:1.0", ["mirror.example.org/shared/run:1.0"]),
    )

    result = mirrors(
        capsys, builder, *endpoints(registry_example_com=origin, mirror_example_org=mirror)
    )

    first, second = result.json()["run_images"]
    # One answer, compared with each run image in turn.
    assert shared.digest == run.digest
    assert (first["mirrors"][0]["digest"], first["mirrors"][0]["in_sync"]) == (run.digest, True)
    assert (second["mirrors"][0]["digest"], second["mirrors"][0]["in_sync"]) == (run.digest, False)
    assert inspector_requests(mirror) == [("GET", "/v2/"), ("HEAD", "/v2/shared/run/manifests/1.0")]
    assert sorted(inspector_requests(origin)) == [
        ("GET", "/v2/"),
        ("HEAD", "/v2/example/run-full/manifests/1.0"),
        ("HEAD", "/v2/example/run/manifests/1.0"),
    ]
    assert result.code == 1


def test_plain_table_in_match_order(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    origin, mirror = registry_factory(), registry_factory()
    push_image(origin.url, "example/run", "1.0", layer_seed="new")
    push_image(mirror.url, "example/run", "1.0", layer_seed="old")
    builder = builder_toml(
        tmp_path,
        (
            "registry.example.com/example/run:1.0",
            ["mirror.example.org/example/run:1.0", "mirror.example.org/gone/run:1.0"],
        ),
    )

    result = inspector(
        capsys,
        "mirrors",
        "-c",
        str(builder),
        *endpoints(registry_example_com=origin, mirror_example_org=mirror),
    )

    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == "Run image #1: registry.example.com/example/run:1.0"
    rows = [line.split() for line in lines[2:5]]
    assert [(row[0], row[2], row[-1]) for row in rows] == [
        ("registry.example.com/example/run:1.0", "available", "(reference)"),
        ("mirror.example.org/example/run:1.0", "available", "stale"),
        ("mirror.example.org/gone/run:1.0", "missing:", "-"),
    ]
    assert "NO: stale" in lines[3]
    assert "missing: repository not found" in lines[4]
    assert any(
        line.startswith("mirror.example.org/example/run:1.0: stale: serves sha256:")
        for line in lines
    )
    assert lines[-1] == "FAIL: 2 of 2 mirror(s) not in sync (1 stale, 1 missing)"
    assert "\x1b[" not in result.out


def test_bad_builder_path_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"

    result = mirrors(capsys, missing)  # with --json: the error document on stdout

    assert result.code == 2
    [line] = result.err.splitlines()
    assert str(missing) in line and "Traceback" not in result.err
    assert result.json()["error"]["message"] == line.removeprefix("inspector: error: ")
