"""Builder images read straight from real registries: ``builder IMAGE``, ``--builder``.

Each test pushes a builder image whose config blob carries the label
``io.buildpacks.builder.metadata`` (as ``pack builder create`` writes it), then runs the
CLI in-process with ``--endpoint`` mapping the logical names to the local registries.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_support import endpoints, inspector, inspector_requests, isolate

from devtools.localregistry import RegistryProcess, push_image, push_index

RegistryFactory = Callable[..., RegistryProcess]
BUILDER = "registry.example.com/example/builder:jammy"
RUN = "registry.example.com/example/run"
MIRROR = "mirror.example.org/example/run"
METADATA_LABEL = "io.buildpacks.builder.metadata"


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


def builder_metadata(run: str = RUN, mirrors: tuple[str, ...] = (MIRROR,)) -> dict[str, Any]:
    """What ``pack builder create`` writes (``internal/builder/metadata.go``)."""
    return {
        "description": "Ubuntu jammy builder",
        "buildpacks": [{"id": "example/node", "version": "1.2.3", "homepage": "https://x.io"}],
        "stack": {"runImage": {"image": run, "mirrors": list(mirrors)}},
        "images": [{"image": run, "mirrors": list(mirrors)}],
        "lifecycle": {"version": "0.20.1", "apis": {"platform": {"supported": ["0.12"]}}},
        "createdBy": {"name": "Pack CLI", "version": "0.40.6"},
    }


def push_builder(
    registry: RegistryProcess,
    metadata: dict[str, Any] | str | None,
    *,
    tag: str = "jammy",
    platform: tuple[str, str] = ("linux", "amd64"),
) -> Any:
    labels = {"io.buildpacks.stack.id": "io.buildpacks.stacks.jammy"}
    if metadata is not None:
        labels[METADATA_LABEL] = metadata if isinstance(metadata, str) else json.dumps(metadata)
    return push_image(
        registry.url,
        "example/builder",
        tag,
        labels=labels,
        layer_seed=f"builder-{platform}",
        platform=platform,
    )


def test_builder_image_like_pack_builder_inspect(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    registry = registry_factory()
    pushed = push_builder(registry, builder_metadata())
    pack_home = tmp_path / "pack-home"
    pack_home.mkdir()
    (pack_home / "config.toml").write_text(
        f'[[run-images]]\nimage = "{RUN}"\nmirrors = ["local.example.net/run"]\n'
    )

    result = inspector(
        capsys, "builder", BUILDER, *endpoints(registry_example_com=registry), "--json"
    )

    assert result.code == 0, result.err
    document = result.json()
    assert document["image"] == BUILDER
    assert document["description"] == "Ubuntu jammy builder"
    assert document["stack_id"] == "io.buildpacks.stacks.jammy"
    assert document["lifecycle_version"] == "0.20.1"
    assert document["buildpacks"][0] == {
        "id": "example/node",
        "version": "1.2.3",
        "homepage": "https://x.io",
    }
    # pack builder inspect --output json's field names and shapes.
    assert document["created_by"] == {"name": "Pack CLI", "version": "0.40.6"}
    assert document["remote_info"]["run_images"] == [
        {"name": "local.example.net/run", "user_configured": True},
        {"name": RUN},
        {"name": MIRROR},
    ]
    assert document["remote_info"]["stack"] == {"id": "io.buildpacks.stacks.jammy"}
    assert document["local_info"] is None
    assert document["digest"] == pushed.digest
    assert document["platform"] == "linux/amd64"
    [run_image] = document["run_image_groups"]
    assert run_image["match_order"] == [
        {"reference": "local.example.net/run", "source": "user-mirror"},
        {"reference": RUN, "source": "image"},
        {"reference": MIRROR, "source": "mirror"},
    ]
    # One manifest GET and one blob GET: no probing of the run images.
    requests = [r for r in inspector_requests(registry) if r[1] != "/v2/"]
    assert requests == [
        ("GET", "/v2/example/builder/manifests/jammy"),
        ("GET", f"/v2/example/builder/blobs/{pushed.config_digest}"),
    ]

    human = inspector(capsys, "builder", BUILDER, *endpoints(registry_example_com=registry))
    assert human.code == 0
    lines = human.out.splitlines()
    order = [lines.index(line) for line in lines if "example/run" in line or "example.net" in line]
    assert "user-mirror" in lines[order[0]] and "local.example.net/run" in lines[order[0]]
    assert "example/node@1.2.3" in human.out


def test_resolve_and_check_with_builder_image(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    registry, mirror = registry_factory(), registry_factory()
    push_builder(registry, builder_metadata())
    run = push_image(registry.url, "example/run", "latest", layer_seed="run")
    push_image(mirror.url, "example/run", "latest", layer_seed="run")
    flags = [
        "--builder",
        BUILDER,
        *endpoints(registry_example_com=registry, mirror_example_org=mirror),
        "--json",
    ]

    resolved = inspector(capsys, "resolve", "mirror.example.org/acme/app", *flags)
    after_resolve = inspector_requests(registry) + inspector_requests(mirror)
    checked = inspector(capsys, "check", "mirror.example.org/acme/app", *flags)

    assert resolved.code == 0, resolved.err
    assert resolved.json()["selected"] == MIRROR
    assert [c["reference"] for c in resolved.json()["candidates"]] == [RUN, MIRROR]
    # resolve reads the builder image and probes nothing
    assert [path for _, path in after_resolve if "/manifests/" in path] == [
        "/v2/example/builder/manifests/jammy"
    ]
    assert checked.code == 0, checked.err
    document = checked.json()
    assert document["selected"] == MIRROR
    assert {c["digest"] for c in document["candidates"]} == {run.digest}
    assert document["in_sync"] is True


def test_daemon_mode_prefers_the_builder_registry(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = registry_factory()
    push_builder(registry, builder_metadata())
    result = inspector(
        capsys,
        "resolve",
        "mirror.example.org/acme/app",
        "--builder",
        BUILDER,
        "--daemon",
        *endpoints(registry_example_com=registry),
        "--json",
    )
    assert result.code == 0, result.err
    assert result.json()["preferred_registry"] == "registry.example.com"
    assert result.json()["selected"] == RUN


def test_index_builder_reads_the_requested_platform(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = registry_factory()
    amd = push_builder(registry, builder_metadata(run=f"{RUN}:amd"), tag=None)
    arm = push_builder(
        registry, builder_metadata(run=f"{RUN}:arm"), tag=None, platform=("linux", "arm64")
    )
    index = push_index(registry.url, "example/builder", "jammy", [amd, arm])
    flags = [*endpoints(registry_example_com=registry), "--json"]

    default = inspector(capsys, "builder", BUILDER, *flags)
    arm64 = inspector(capsys, "builder", BUILDER, "--platform", "linux/arm64", *flags)
    s390x = inspector(capsys, "builder", BUILDER, "--platform", "linux/s390x", *flags)

    assert default.code == 0, default.err
    assert default.json()["run_image_groups"][0]["image"] == f"{RUN}:amd"
    assert default.json()["digest"] == index.digest
    assert default.json()["manifest_digest"] == amd.digest
    assert arm64.code == 0, arm64.err
    assert arm64.json()["run_image_groups"][0]["image"] == f"{RUN}:arm"
    assert arm64.json()["platform"] == "linux/arm64"
    assert s390x.code == 2
    assert s390x.json()["error"]["message"] in s390x.err  # --json: the error document
    assert "no linux/s390x image in the index (has: linux/amd64, linux/arm64)" in s390x.err
    assert BUILDER in s390x.err


def corrupt_blob(registry: RegistryProcess, digest: str) -> None:
    algorithm, hex_digest = digest.split(":")
    data = registry.storage_dir / f"docker/registry/v2/blobs/{algorithm}/{hex_digest[:2]}"
    path = data / hex_digest / "data"
    path.write_bytes(path.read_bytes().replace(b"Ubuntu", b"Ubuntx"))


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        (None, "no label io.buildpacks.builder.metadata"),
        ("{not json", "invalid JSON"),
        (json.dumps({"images": "oops"}), "images must be an array of objects, not a string"),
        (json.dumps({"stack": {"runImage": {"image": ""}}}), "no run image"),
        (json.dumps(["not", "an", "object"]), "must be a JSON object"),
    ],
)
def test_bad_builder_metadata_exits_2_naming_the_image(
    registry_factory: RegistryFactory,
    capsys: pytest.CaptureFixture[str],
    metadata: str | None,
    message: str,
) -> None:
    registry = registry_factory()
    push_builder(registry, metadata)
    flags = ["--builder", BUILDER, *endpoints(registry_example_com=registry)]

    for command in ("check", "resolve"):
        result = inspector(capsys, command, "registry.example.com/acme/app", *flags)
        assert result.code == 2
        assert result.out == ""
        assert message in result.err
        assert repr(BUILDER) in result.err
        assert len(result.err.strip().splitlines()) == 1


def test_missing_tampered_and_unreachable_builders_exit_2(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = registry_factory()
    pushed = push_builder(registry, builder_metadata())
    flags = endpoints(registry_example_com=registry)

    missing = inspector(capsys, "builder", "registry.example.com/example/builder:nope", *flags)
    corrupt_blob(registry, pushed.config_digest)
    tampered = inspector(capsys, "builder", BUILDER, *flags)
    unreachable = inspector(
        capsys, "builder", BUILDER, "--endpoint", "registry.example.com=http://127.0.0.1:9"
    )

    assert missing.code == 2 and "not found (HTTP 404 MANIFEST_UNKNOWN" in missing.err
    assert tampered.code == 2
    assert f"config blob does not hash to {pushed.config_digest}" in tampered.err
    assert unreachable.code == 2 and "unreachable" in unreachable.err
    for result in (missing, tampered, unreachable):
        assert "registry.example.com/example/builder" in result.err
        assert len(result.err.strip().splitlines()) == 1


def test_oversized_config_blob_is_refused(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = registry_factory()
    metadata = builder_metadata()
    metadata["description"] = "x" * (8 * 1024 * 1024)
    push_builder(registry, metadata)

    result = inspector(capsys, "builder", BUILDER, *endpoints(registry_example_com=registry))

    assert result.code == 2
    assert "exceeds 8388608" in result.err or "larger than 8388608" in result.err
