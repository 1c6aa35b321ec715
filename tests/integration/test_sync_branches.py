"""``sync`` and ``registry/push`` branches a mutation run found untested, on real
registries (distribution 2.8.2), with a fault proxy where a registry must misbehave:
a mirror listed twice is copied once, the post-copy verification, a run image whose tree
cannot be read, a source blob shorter or longer than its descriptor, and a tag that
changed between the plan and the move."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import Result, builder_toml, endpoints, inspector, inspector_requests, isolate

from devtools.localregistry import (
    DOCKER_MANIFEST,
    RegistryProcess,
    push_blob,
    push_image,
    push_manifest,
    registry_client,
)
from tests.integration.fault_proxy import CALL, DIGEST, RESPOND, WRONG_DIGEST, FaultProxy

RegistryFactory = Callable[..., RegistryProcess]
RUN = "registry.example.com/example/run:1.0"
MIRROR_RUN = "mirror.example.org/example/run:1.0"
OTHER_MIRROR = "other.example.org/example/run:1.0"
LAYER = b"a layer of known size" * 10
LAYER_SIZE = len(LAYER)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


@pytest.fixture
def mirror_proxy(registry_factory: RegistryFactory) -> Iterator[tuple[RegistryProcess, FaultProxy]]:
    mirror = registry_factory()
    with FaultProxy(mirror.host) as proxy:
        yield mirror, proxy


def sync(capsys: pytest.CaptureFixture[str], builder: Path, *extra: str) -> Result:
    return inspector(capsys, "sync", "-c", str(builder), *extra, "--json")


def rows(result: Result) -> list[dict[str, Any]]:
    return list(result.json()["mirrors"])


def served(registry: RegistryProcess, repo: str, ref: str) -> str | None:
    with registry_client() as client:
        response = client.head(
            f"{registry.url}/v2/{repo}/manifests/{ref}", headers={"Accept": DOCKER_MANIFEST}
        )
    return response.headers.get("Docker-Content-Digest") if response.status_code == 200 else None


def test_a_mirror_listed_twice_is_synced_once(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror = registry_factory(), registry_factory()
    run = push_image(primary.url, "example/run", "1.0")
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN, MIRROR_RUN]))

    result = sync(
        capsys, builder, *endpoints(registry_example_com=primary, mirror_example_org=mirror)
    )

    assert result.code == 0, result
    assert [(r["mirror"], r["action"]) for r in rows(result)] == [(MIRROR_RUN, "copied")]
    tag_puts = [
        p
        for m, p in inspector_requests(mirror)
        if (m, p) == ("PUT", "/v2/example/run/manifests/1.0")
    ]
    assert tag_puts == ["/v2/example/run/manifests/1.0"]
    assert served(mirror, "example/run", "1.0") == run.digest


def test_a_copy_the_mirror_then_serves_wrongly_fails_verification(
    registry_factory: RegistryFactory,
    mirror_proxy: tuple[RegistryProcess, FaultProxy],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    primary = registry_factory()
    _, proxy = mirror_proxy
    push_image(primary.url, "example/run", "1.0")
    tag = r"/v2/example/run/manifests/1\.0$"

    def serve_wrongly_from_now_on() -> None:
        proxy.add(DIGEST, method="HEAD", path=tag)

    # The tag's PUT is the copy's last write: every HEAD after it sees another digest.
    proxy.add(CALL, method="PUT", path=tag, times=1, callback=serve_wrongly_from_now_on)
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN]))

    result = sync(
        capsys, builder, *endpoints(registry_example_com=primary, mirror_example_org=proxy.url)
    )

    assert result.code == 1, result
    (row,) = rows(result)
    assert row["action"] == "failed"
    assert row["detail"] == f"verification failed: the mirror serves {WRONG_DIGEST}"


def test_a_run_image_tree_that_cannot_be_read_fails_each_mirror_and_is_read_once(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror, other = registry_factory(), registry_factory(), registry_factory()
    push_image(primary.url, "example/run", "1.0")
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN, OTHER_MIRROR]))
    with FaultProxy(primary.host) as proxy:
        # HEAD (the probe) answers; the GET that reads the tree does not.
        proxy.add(RESPOND, method="GET", path=r"/manifests/", status=500, body=b"")
        flags = endpoints(
            registry_example_com=proxy.url, mirror_example_org=mirror, other_example_org=other
        )

        result = sync(capsys, builder, *flags)

        reads = proxy.seen("GET", "/v2/example/run/manifests/")

    assert result.code == 1, result
    assert [(r["mirror"], r["action"]) for r in rows(result)] == [
        (MIRROR_RUN, "failed"),
        (OTHER_MIRROR, "failed"),
    ]
    assert {r["detail"] for r in rows(result)} == {"reading the run image: HTTP 500"}
    assert len(reads) == 1  # one tree read for both mirrors, failure included
    # Nothing was written anywhere.
    for target in (mirror, other):
        assert all(method in ("GET", "HEAD") for method, _ in inspector_requests(target))


def _image_with_layer_size(registry: RegistryProcess, tag: str, claimed: int) -> tuple[str, int]:
    """An image whose layer descriptor claims ``claimed`` bytes (distribution does not check
    descriptor sizes on a manifest PUT); (layer digest, real size)."""
    layer = LAYER
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    with registry_client() as client:
        layer_digest = push_blob(client, registry.url, "example/run", layer)
        config_digest = push_blob(client, registry.url, "example/run", config)
        manifest = {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "digest": layer_digest,
                    "size": claimed,
                }
            ],
        }
        push_manifest(
            client, registry.url, "example/run", tag, json.dumps(manifest).encode(), DOCKER_MANIFEST
        )
    return layer_digest, len(layer)


@pytest.mark.parametrize(("delta", "words"), [(+7, "of"), (-7, "larger than")])
def test_a_source_blob_of_another_size_than_its_descriptor_aborts_the_upload(
    registry_factory: RegistryFactory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    delta: int,
    words: str,
) -> None:
    primary, mirror = registry_factory(), registry_factory()
    layer_digest, real = _image_with_layer_size(primary, "1.0", LAYER_SIZE + delta)
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN]))

    result = sync(
        capsys, builder, *endpoints(registry_example_com=primary, mirror_example_org=mirror)
    )

    assert result.code == 1, result
    (row,) = rows(result)
    assert row["action"] == "failed"
    claimed = real + delta
    if delta > 0:  # short: the source ran out before the promised size
        assert f"source blob {layer_digest[:19]}: {real} of {claimed} bytes" in row["detail"]
    else:  # long: cut as soon as it passed the promised size
        assert f"source blob {layer_digest[:19]} is larger than {claimed}" in row["detail"]
    assert words in row["detail"]
    # Nothing was accepted: no blob, no tag on the mirror.
    with registry_client() as client:
        assert client.head(f"{mirror.url}/v2/example/run/blobs/{layer_digest}").status_code == 404
    assert served(mirror, "example/run", "1.0") is None


def test_a_tag_moved_by_someone_else_meanwhile_is_not_overwritten(
    registry_factory: RegistryFactory,
    mirror_proxy: tuple[RegistryProcess, FaultProxy],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    primary = registry_factory()
    mirror, proxy = mirror_proxy
    push_image(primary.url, "example/run", "1.0", layer_seed="new")
    pushed: list[str] = []

    def someone_else_pushes() -> None:
        pushed.append(push_image(mirror.url, "example/run", "1.0", layer_seed="theirs").digest)

    # Right before the manifests go up by digest, another push moves the tag.
    proxy.add(CALL, method="PUT", path=r"/manifests/sha256:", times=1, callback=someone_else_pushes)
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN]))

    result = sync(
        capsys, builder, *endpoints(registry_example_com=primary, mirror_example_org=proxy.url)
    )

    assert result.code == 1, result
    (row,) = rows(result)
    assert row["action"] == "failed"
    assert "tag 1.0 changed since the plan" in row["detail"]
    assert f"now {pushed[0]}" in row["detail"]
    assert served(mirror, "example/run", "1.0") == pushed[0]  # theirs, not clobbered


def test_a_refused_manifest_put_fails_with_the_registrys_code(
    registry_factory: RegistryFactory,
    mirror_proxy: tuple[RegistryProcess, FaultProxy],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    primary = registry_factory()
    mirror, proxy = mirror_proxy
    push_image(primary.url, "example/run", "1.0")
    denied = json.dumps({"errors": [{"code": "DENIED", "message": "tag\x1b[31m immutable"}]})
    proxy.add(
        RESPOND,
        method="PUT",
        path=r"/manifests/",
        status=403,
        body=denied.encode(),
        headers={"Content-Type": "application/json"},
    )
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN]))

    result = sync(
        capsys, builder, *endpoints(registry_example_com=primary, mirror_example_org=proxy.url)
    )

    assert result.code == 1, result
    (row,) = rows(result)
    assert row["action"] == "failed"
    assert row["detail"].startswith("PUT manifest sha256:")
    # The one mapping: status, distribution's code, its message made printable.
    assert row["detail"].endswith("HTTP 403 DENIED: tag [31m immutable")
    assert served(mirror, "example/run", "1.0") is None


def test_a_blob_check_the_mirror_cannot_answer_fails_that_mirror(
    registry_factory: RegistryFactory,
    mirror_proxy: tuple[RegistryProcess, FaultProxy],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    primary = registry_factory()
    mirror, proxy = mirror_proxy
    push_image(primary.url, "example/run", "1.0")
    proxy.add(RESPOND, method="HEAD", path=r"/blobs/", status=500, body=b"")
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN]))

    result = sync(
        capsys, builder, *endpoints(registry_example_com=primary, mirror_example_org=proxy.url)
    )

    assert result.code == 1, result
    (row,) = rows(result)
    assert row["action"] == "failed"
    assert row["detail"].startswith("HEAD blob sha256:") and row["detail"].endswith(": HTTP 500")
    assert served(mirror, "example/run", "1.0") is None
    assert proxy.seen("POST") == [] and proxy.seen("PUT") == []  # nothing attempted
