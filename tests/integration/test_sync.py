"""``inspector sync`` end to end: copies between real distribution registries.

Each test seeds registries with the push helpers, runs the real CLI in-process with
``--endpoint`` mapping logical names to the local processes, and then asks the *target*
registry itself (HEAD/GET with plain httpx, access log, token server log) what it holds:
the top digest, every child manifest and every blob, and which requests the inspector sent.
"""

from __future__ import annotations

import json
import random
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_support import (
    RegistryFactory,
    Result,
    builder_toml,
    endpoints,
    inspector,
    inspector_requests,
    write_docker_config,
)
from seed_support import push_layer_image, served_digest

from devtools.localregistry import (
    MANIFEST_ACCEPT,
    PushedImage,
    PushedIndex,
    RegistryProcess,
    TokenServer,
    push_image,
    push_index,
    registry_client,
    sha256_digest,
)

RUN = "registry.example.com/example/run:1.0"
MULTI = "registry.example.com/example/multi:2.0"
MIRROR_RUN = "mirror.example.org/example/run:1.0"
MIRROR_MULTI = "mirror.example.org/example/multi:2.0"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


pytestmark = pytest.mark.usefixtures("docker_config")


# --- helpers -------------------------------------------------------------------------------


def sync(capsys: pytest.CaptureFixture[str], builder: Path, *extra: str) -> Result:
    return inspector(capsys, "sync", "-c", str(builder), *extra)


def by_mirror(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["mirror"]: m for m in document["mirrors"]}


def manifest_bytes(registry: RegistryProcess, repo: str, ref: str) -> bytes:
    with registry_client() as client:
        response = client.get(
            f"{registry.url}/v2/{repo}/manifests/{ref}", headers={"Accept": MANIFEST_ACCEPT}
        )
    assert response.status_code == 200, response
    return response.content


def has_blob(
    registry: RegistryProcess, repo: str, digest: str, auth: tuple[str, str] | None = None
) -> bool:
    with registry_client(auth) as client:
        status = client.head(f"{registry.url}/v2/{repo}/blobs/{digest}").status_code
    assert status in (200, 404), status
    return status == 200


def blob_sizes(manifest: bytes) -> dict[str, int]:
    """digest -> size of the config and layers a manifest names."""
    document = json.loads(manifest)
    descriptors = [document["config"], *document["layers"]]
    return {d["digest"]: d["size"] for d in descriptors}


def image_blobs(*images: PushedImage) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for image in images:
        sizes.update(blob_sizes(image.manifest))
    return sizes


def writes(registry: RegistryProcess) -> list[tuple[str, str]]:
    return [(m, p) for m, p in inspector_requests(registry) if m in WRITES]


def seed_multi(registry: RegistryProcess) -> PushedIndex:
    amd = push_image(registry.url, "example/multi", None, oci=True, layer_seed="amd")
    arm = push_image(
        registry.url, "example/multi", None, oci=True, layer_seed="arm", platform=("linux", "arm64")
    )
    return push_index(registry.url, "example/multi", "2.0", [amd, arm])


def two_run_images(tmp_path: Path) -> Path:
    return builder_toml(tmp_path, (RUN, [MIRROR_RUN]), (MULTI, [MIRROR_MULTI]))


# --- copying --------------------------------------------------------------------------------


def test_stale_image_and_missing_index_become_identical(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror = registry_factory(), registry_factory()
    run = push_image(primary.url, "example/run", "1.0", layer_seed="new")
    stale = push_image(mirror.url, "example/run", "1.0", layer_seed="old")
    index = seed_multi(primary)
    flags = endpoints(registry_example_com=primary, mirror_example_org=mirror)

    result = sync(capsys, two_run_images(tmp_path), *flags, "--json")

    assert result.code == 0, result
    document = result.json()
    assert document["ok"] is True
    rows = by_mirror(document)
    assert rows[MIRROR_RUN]["action"] == "copied"
    assert rows[MIRROR_RUN]["state"] == "stale"
    assert rows[MIRROR_RUN]["previous_digest"] == stale.digest
    assert rows[MIRROR_MULTI]["action"] == "copied"
    assert rows[MIRROR_MULTI]["state"] == "missing"
    # The target now serves exactly the source's bytes under the tag.
    assert served_digest(mirror, "example/run", "1.0") == run.digest
    assert served_digest(mirror, "example/multi", "2.0") == index.digest
    assert manifest_bytes(mirror, "example/multi", "2.0") == index.manifest
    # Every child manifest and every blob is there, by digest.
    for child in index.children:
        assert served_digest(mirror, "example/multi", child.digest) == child.digest
    for digest in image_blobs(*index.children):
        assert has_blob(mirror, "example/multi", digest)
    for digest in image_blobs(run):
        assert has_blob(mirror, "example/run", digest)
    # Bytes reported are the blobs the target lacked: all of them here.
    assert rows[MIRROR_RUN]["bytes"] == sum(image_blobs(run).values())
    assert rows[MIRROR_MULTI]["bytes"] == sum(image_blobs(*index.children).values())
    assert rows[MIRROR_MULTI]["digest"] == index.digest


def test_tag_is_pushed_last_after_every_manifest_by_digest(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror = registry_factory(), registry_factory()
    index = seed_multi(primary)
    builder = builder_toml(tmp_path, (MULTI, [MIRROR_MULTI]))
    flags = endpoints(registry_example_com=primary, mirror_example_org=mirror)

    result = sync(capsys, builder, *flags, "--json")

    assert result.code == 0, result
    puts = [p for m, p in writes(mirror) if m == "PUT" and "/manifests/" in p]
    expected = [f"/v2/example/multi/manifests/{c.digest}" for c in index.children]
    expected += [f"/v2/example/multi/manifests/{index.digest}", "/v2/example/multi/manifests/2.0"]
    assert puts == expected
    blob_puts = [i for i, (m, p) in enumerate(writes(mirror)) if "/blobs/uploads/" in p]
    first_manifest = writes(mirror).index(("PUT", expected[0]))
    assert blob_puts and max(blob_puts) < first_manifest


def test_blobs_the_target_has_are_skipped(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror = registry_factory(), registry_factory()
    # Same layer, different config: only the config blob is missing on the mirror.
    run = push_image(primary.url, "example/run", "1.0", labels={"v": "2"})
    push_image(mirror.url, "example/run", "1.0", labels={"v": "1"})
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN]))
    flags = endpoints(registry_example_com=primary, mirror_example_org=mirror)

    result = sync(capsys, builder, *flags, "--json")

    assert result.code == 0, result
    row = by_mirror(result.json())[MIRROR_RUN]
    assert row["bytes"] == image_blobs(run)[run.config_digest]
    assert row["blobs"] == {"total": 2, "present": 1, "mounted": 0, "uploaded": 1}
    uploads = [p for m, p in writes(mirror) if m == "PUT" and "/blobs/uploads/" in p]
    assert len(uploads) == 1 and run.config_digest.replace(":", "%3A") in uploads[0]
    assert served_digest(mirror, "example/run", "1.0") == run.digest


def test_dry_run_changes_nothing_and_reports_bytes(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror = registry_factory(), registry_factory()
    run = push_image(primary.url, "example/run", "1.0", labels={"v": "2"})
    stale = push_image(mirror.url, "example/run", "1.0", labels={"v": "1"})
    index = seed_multi(primary)
    flags = endpoints(registry_example_com=primary, mirror_example_org=mirror)

    result = sync(capsys, two_run_images(tmp_path), *flags, "--dry-run", "--json")

    assert result.code == 0, result
    document = result.json()
    assert document["dry_run"] is True
    rows = by_mirror(document)
    assert {r["action"] for r in rows.values()} == {"planned"}
    config_only = image_blobs(run)[run.config_digest]
    everything = sum(image_blobs(*index.children).values())
    assert rows[MIRROR_RUN]["bytes"] == config_only
    assert rows[MIRROR_MULTI]["bytes"] == everything
    assert document["bytes"] == config_only + everything
    # Nothing was written: old tag, no index, no new blob, no write request at all.
    assert served_digest(mirror, "example/run", "1.0") == stale.digest
    assert served_digest(mirror, "example/multi", "2.0") is None
    assert not has_blob(mirror, "example/run", run.config_digest)
    assert writes(mirror) == []
    assert writes(primary) == []


def test_dry_run_human_output_names_the_plan(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror = registry_factory(), registry_factory()
    run = push_image(primary.url, "example/run", "1.0")
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN]))
    flags = endpoints(registry_example_com=primary, mirror_example_org=mirror)

    result = sync(capsys, builder, *flags, "--dry-run")

    assert result.code == 0, result
    size = sum(image_blobs(run).values())
    assert f"{MIRROR_RUN}  missing  planned  {size} B" in result.out
    assert "Nothing was written (--dry-run)" in result.out
    assert served_digest(mirror, "example/run", "1.0") is None


def test_second_sync_moves_zero_bytes_and_says_up_to_date(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror = registry_factory(), registry_factory()
    push_image(primary.url, "example/run", "1.0", layer_seed="new")
    push_image(mirror.url, "example/run", "1.0", layer_seed="old")
    seed_multi(primary)
    builder = two_run_images(tmp_path)
    flags = endpoints(registry_example_com=primary, mirror_example_org=mirror)
    first = sync(capsys, builder, *flags, "--json")
    assert first.code == 0 and first.json()["bytes"] > 0, first
    written = len(writes(mirror))

    again = sync(capsys, builder, *flags, "--json")
    human = sync(capsys, builder, *flags)

    assert again.code == 0, again
    document = again.json()
    assert document["bytes"] == 0
    assert {m["action"] for m in document["mirrors"]} == {"up-to-date"}
    assert human.code == 0
    assert "Nothing to do: all 2 mirror(s) are up to date" in human.out
    assert len(writes(mirror)) == written  # not one write request more


# --- same registry: cross-repository mount ----------------------------------------------------


def test_same_registry_mirror_is_mounted_with_both_scopes(
    token_registry: tuple[RegistryProcess, TokenServer],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    docker_config: Path,
) -> None:
    registry, tokens = token_registry
    alice = ("alice", "s3cret")
    run = push_image(registry.url, "example/run", "1.0", auth=alice)
    write_docker_config(docker_config, "registry.example.com", *alice)
    mirror = "registry.example.com/mirror/run:1.0"
    builder = builder_toml(tmp_path, (RUN, [mirror]))
    tokens.reset()

    result = sync(capsys, builder, *endpoints(registry_example_com=registry), "--json")

    assert result.code == 0, result
    row = by_mirror(result.json())[mirror]
    assert row["method"] == "mount"
    assert row["blobs"] == {"total": 2, "present": 0, "mounted": 2, "uploaded": 0}
    mounts = [
        e
        for e in registry.access_log_lines()
        if e.method == "POST" and "mount=" in e.path and "from=example%2Frun" in e.path
    ]
    # The token asked for both scopes up front, so each mount succeeds at once.
    assert sorted(e.status for e in mounts) == [201, 201]
    assert not [p for m, p in writes(registry) if m in ("PUT", "PATCH") and "/blobs/" in p]
    assert served_digest(registry, "mirror/run", "1.0", alice) == run.digest
    for digest in image_blobs(run):
        assert has_blob(registry, "mirror/run", digest, alice)
    # The mount's token request named both repositories.
    both = {"repository:mirror/run:pull,push", "repository:example/run:pull"}
    assert any(both <= set(r["scopes"]) for r in tokens.requests), tokens.requests


# --- failures ---------------------------------------------------------------------------------


def test_refused_push_fails_cleanly_keeps_old_tag_and_others_still_sync(
    registry_factory: RegistryFactory,
    htpasswd_registry: tuple[RegistryProcess, tuple[str, str]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    primary, open_mirror = registry_factory(), registry_factory()
    locked, bob = htpasswd_registry
    run = push_image(primary.url, "example/run", "1.0", layer_seed="new")
    old = push_image(locked.url, "example/run", "1.0", layer_seed="old", auth=bob)
    locked_ref = "locked.example.net/example/run:1.0"
    builder = builder_toml(tmp_path, (RUN, [locked_ref, MIRROR_RUN]))
    flags = endpoints(
        registry_example_com=primary, locked_example_net=locked, mirror_example_org=open_mirror
    )

    result = sync(capsys, builder, *flags, "--json")

    assert result.code == 1, result
    document = result.json()
    assert document["ok"] is False
    rows = by_mirror(document)
    assert rows[locked_ref]["action"] == "failed"
    assert "401" in rows[locked_ref]["detail"]
    assert rows[MIRROR_RUN]["action"] == "copied"  # the failure did not stop the others
    assert served_digest(open_mirror, "example/run", "1.0") == run.digest
    assert served_digest(locked, "example/run", "1.0", bob) == old.digest
    assert not any(has_blob(locked, "example/run", d, bob) for d in image_blobs(run))
    assert result.err == ""


def test_readable_mirror_that_refuses_push_keeps_old_tag(
    registry_factory: RegistryFactory,
    token_registry: tuple[RegistryProcess, TokenServer],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    primary = registry_factory()
    target, tokens = token_registry  # anonymous pull on public/*, push needs alice
    run = push_image(primary.url, "example/run", "1.0", layer_seed="new")
    old = push_image(target.url, "public/run", "1.0", layer_seed="old", auth=("alice", "s3cret"))
    mirror = "mirror.example.org/public/run:1.0"
    builder = builder_toml(tmp_path, (RUN, [mirror]))
    flags = endpoints(registry_example_com=primary, mirror_example_org=target)
    tokens.reset()

    result = sync(capsys, builder, *flags, "--json")

    assert result.code == 1, result
    row = by_mirror(result.json())[mirror]
    assert (row["state"], row["action"]) == ("stale", "failed")
    assert "POST blob upload: HTTP 401" in row["detail"]
    assert served_digest(target, "public/run", "1.0") == old.digest
    assert not any(has_blob(target, "public/run", d) for d in image_blobs(run))
    # The auth flow asked for the push scope on its own (and was refused it).
    assert any("repository:public/run:pull,push" in r["scopes"] for r in tokens.requests)


def test_corrupt_source_blob_aborts_the_upload_and_keeps_old_tag(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror = registry_factory(), registry_factory()
    run = push_image(primary.url, "example/run", "1.0", layer_seed="new")
    old = push_image(mirror.url, "example/run", "1.0", layer_seed="old")
    layer = run.layer_digests[0]
    algorithm, hexdigest = layer.split(":")
    data = primary.storage_dir / "docker/registry/v2/blobs" / algorithm / hexdigest[:2]
    data = data / hexdigest / "data"
    data.write_bytes(bytes(len(data.read_bytes())))  # same size, other bytes
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN]))
    flags = endpoints(registry_example_com=primary, mirror_example_org=mirror)

    result = sync(capsys, builder, *flags, "--json")

    assert result.code == 1, result
    row = by_mirror(result.json())[MIRROR_RUN]
    assert row["action"] == "failed"
    assert "does not match digest" in row["detail"]
    assert not has_blob(mirror, "example/run", layer)
    assert served_digest(mirror, "example/run", "1.0") == old.digest


def test_missing_run_image_fails_its_mirrors(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror = registry_factory(), registry_factory()
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN]))
    flags = endpoints(registry_example_com=primary, mirror_example_org=mirror)

    result = sync(capsys, builder, *flags, "--json")

    assert result.code == 1, result
    row = by_mirror(result.json())[MIRROR_RUN]
    assert (row["action"], row["detail"]) == ("failed", "run image is missing")
    assert writes(mirror) == []


# --- streaming ----------------------------------------------------------------------------------


def push_big_image(registry: RegistryProcess, repo: str, tag: str, size: int) -> tuple[str, str]:
    """A one-layer image whose layer is ``size`` random bytes; (manifest digest, layer digest)."""
    return push_layer_image(registry.url, repo, tag, random.Random(size).randbytes(size))


def test_layers_are_streamed_not_held_in_memory(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror = registry_factory(), registry_factory()
    size = 24 * 1024 * 1024
    digest, layer = push_big_image(primary, "example/run", "1.0", size)
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN]))
    flags = endpoints(registry_example_com=primary, mirror_example_org=mirror)

    tracemalloc.start()
    try:
        result = sync(capsys, builder, *flags, "--json")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.code == 0, result
    assert by_mirror(result.json())[MIRROR_RUN]["bytes"] > size
    assert served_digest(mirror, "example/run", "1.0") == digest
    assert has_blob(mirror, "example/run", layer)
    assert peak < size // 4, f"peak Python allocation {peak} bytes for a {size}-byte layer"


# --- choosing mirrors and bad input ---------------------------------------------------------------


def test_only_syncs_the_named_mirror_as_written_or_normalized(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror = registry_factory(), registry_factory()
    run = push_image(primary.url, "example/run", "latest", layer_seed="new")
    builder = builder_toml(
        tmp_path,
        (
            "registry.example.com/example/run",
            ["mirror.example.org/a/run", "mirror.example.org/b/run"],
        ),
    )
    flags = endpoints(registry_example_com=primary, mirror_example_org=mirror)

    result = sync(capsys, builder, *flags, "--only", "mirror.example.org/a/run:latest", "--json")

    assert result.code == 0, result
    assert [m["mirror"] for m in result.json()["mirrors"]] == ["mirror.example.org/a/run"]
    assert served_digest(mirror, "a/run", "latest") == run.digest
    assert served_digest(mirror, "b/run", "latest") is None


def test_only_naming_no_mirror_is_bad_input(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary = registry_factory()
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN]))
    flags = endpoints(registry_example_com=primary, mirror_example_org=primary)

    result = sync(capsys, builder, *flags, "--only", "elsewhere.example/run")

    assert result.code == 2
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert "--only 'elsewhere.example/run'" in result.err and MIRROR_RUN in result.err
    assert inspector_requests(primary) == []  # refused before any request


def test_concurrency_below_two_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN]))

    result = sync(capsys, builder, "--concurrency", "1")

    assert result.code == 2
    assert "--concurrency" in result.err and result.err.count("\n") == 1


def test_http_client_sees_identical_manifest_bytes_after_sync(
    registry_factory: RegistryFactory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    http: httpx.Client,
) -> None:
    primary, mirror = registry_factory(), registry_factory()
    run = push_image(primary.url, "example/run", "1.0", oci=True)
    builder = builder_toml(tmp_path, (RUN, [MIRROR_RUN]))
    flags = endpoints(registry_example_com=primary, mirror_example_org=mirror)

    assert sync(capsys, builder, *flags).code == 0

    response = http.get(
        f"{mirror.url}/v2/example/run/manifests/1.0", headers={"Accept": MANIFEST_ACCEPT}
    )
    assert response.content == run.manifest
    assert response.headers["Content-Type"] == run.media_type


# --- a declined mount (no real registry declines one on demand: a scripted transport) -----------


def test_declined_mount_falls_back_to_the_upload_session_it_opened() -> None:
    import asyncio

    from inspector.reference import parse
    from inspector.registry import push
    from inspector.registry.client import RegistryClient
    from inspector.registry.hosts import HostConfig, RegistryHosts

    data = b"layer bytes " * 1000
    digest = sha256_digest(data)
    seen: list[tuple[str, str, dict[str, str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path, query = request.url.path, dict(request.url.params)
        seen.append((request.method, path, query))
        if path == "/v2/":
            return httpx.Response(200)
        if request.method == "POST":
            # distribution's answer when it will not mount: 202 and a fresh session.
            return httpx.Response(
                202, headers={"Location": "/v2/mirror/run/blobs/uploads/u1?_state=s"}
            )
        if request.method == "GET":
            return httpx.Response(200, content=data)
        if request.method == "PUT" and request.content == data:
            return httpx.Response(201, headers={"Docker-Content-Digest": digest})
        return httpx.Response(400)

    hosts = RegistryHosts({"reg.example": HostConfig(endpoint="http://127.0.0.1:9")})
    moved: list[int] = []

    async def copy() -> str:
        async with RegistryClient(hosts, transport=httpx.MockTransport(handler)) as client:
            return await push.copy_blob(
                client,
                parse("reg.example/example/run:1"),
                parse("reg.example/mirror/run:1"),
                push.Blob(digest, len(data)),
                moved.append,
            )

    assert asyncio.run(copy()) == "uploaded"
    post = next(s for s in seen if s[0] == "POST")
    assert post[2] == {"mount": digest, "from": "example/run"}
    put = next(s for s in seen if s[0] == "PUT")
    assert put[1] == "/v2/mirror/run/blobs/uploads/u1"
    assert put[2] == {"_state": "s", "digest": digest}  # the session state survives
    assert sum(moved) == len(data)
