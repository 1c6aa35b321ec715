"""``sync`` repairs what a top-level digest check cannot see: a mount that answered 201
without linking the blob (distribution does this for sha512), and an index listing one
child twice. Read back from the target registry itself."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from cli_support import builder_toml, endpoints, inspector, isolate
from shapes import image, index, missing_content, platform

from devtools.localregistry import OCI_MANIFEST, RegistryProcess, push_manifest, sha256_digest

RegistryFactory = Callable[..., RegistryProcess]


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


def upload(
    client: httpx.Client, registry: RegistryProcess, repo: str, data: bytes, digest: str
) -> None:
    location = client.post(f"{registry.url}/v2/{repo}/blobs/uploads/").headers["location"]
    url = httpx.URL(registry.url).join(location).copy_merge_params({"digest": digest})
    assert client.put(url, content=data).status_code == 201


def test_unlinked_sha512_mount_is_confirmed_by_head_and_uploaded(
    registry: RegistryProcess, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    layer = b"a layer addressed by sha512"
    layer_digest = "sha512:" + hashlib.sha512(layer).hexdigest()
    config = b"{}"
    with httpx.Client(timeout=10.0) as client:
        upload(client, registry, "example/run", layer, layer_digest)
        upload(client, registry, "example/run", config, sha256_digest(config))
        # What the repair guards against, seen first hand: 201, yet nothing linked.
        mount = client.post(
            f"{registry.url}/v2/probe/run/blobs/uploads/",
            params={"mount": layer_digest, "from": "example/run"},
        )
        assert mount.status_code == 201
        assert client.head(f"{registry.url}/v2/probe/run/blobs/{layer_digest}").status_code == 404
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256_digest(config),
            "size": len(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": layer_digest,
                "size": len(layer),
            }
        ],
    }
    body = json.dumps(document).encode()
    with httpx.Client() as client:
        top = push_manifest(client, registry.url, "example/run", "1.0", body, OCI_MANIFEST)
    mirror = "registry.example.com/mirror/run:1.0"
    builder = builder_toml(tmp_path, ("registry.example.com/example/run:1.0", [mirror]))
    flags = endpoints(registry_example_com=registry)

    result = inspector(capsys, "sync", "-c", str(builder), *flags, "--json")

    assert result.code == 0, result.out
    [row] = result.json()["mirrors"]
    assert row["blobs"] == {"total": 2, "present": 0, "mounted": 1, "uploaded": 1}
    with httpx.Client(timeout=10.0) as client:
        assert client.head(f"{registry.url}/v2/mirror/run/blobs/{layer_digest}").status_code == 200
        assert client.get(f"{registry.url}/v2/mirror/run/blobs/{layer_digest}").content == layer
    assert missing_content(registry, "mirror/run", top) == []
    deep = inspector(capsys, "mirrors", "-c", str(builder), *flags, "--deep", "--json")
    assert deep.code == 0, deep.out
    assert deep.json()["run_images"][0]["mirrors"][0]["sync"] == "identical"


def test_child_listed_twice_is_copied_once(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    origin, target = registry_factory(), registry_factory()
    amd = image(origin, "example/run", "amd64", platform("linux/amd64"))
    arm = image(origin, "example/run", "arm64", platform("linux/arm64"))
    top, _ = index(origin, "example/run", "1.0", [amd.entry(), arm.entry(), amd.entry()])
    builder = builder_toml(
        tmp_path, ("registry.example.com/example/run:1.0", ["mirror.example.org/example/run:1.0"])
    )
    flags = endpoints(registry_example_com=origin, mirror_example_org=target)

    plan = inspector(capsys, "sync", "-c", str(builder), *flags, "--dry-run", "--json")
    result = inspector(capsys, "sync", "-c", str(builder), *flags, "--json")

    assert plan.json()["mirrors"][0]["manifests"] == 4  # 2 children, the index, the tag
    assert result.code == 0, result.out
    assert result.json()["mirrors"][0]["manifests"] == 4
    puts = [
        e.path
        for e in target.access_log_lines()
        if e.method == "PUT" and "/manifests/" in e.path and e.user_agent.startswith("inspector/")
    ]
    assert puts.count(f"/v2/example/run/manifests/{amd.digest}") == 1
    assert missing_content(target, "example/run", "1.0") == []
    assert missing_content(target, "example/run", top) == []
    check = inspector(capsys, "mirrors", "-c", str(builder), *flags, "--json")
    entry = check.json()["run_images"][0]["mirrors"][0]
    assert (check.code, entry["sync"]) == (0, "identical")
    # The duplicate entry is a duplicate platform too: matched as a multiset.
    assert [p["state"] for p in entry["platforms"]] == ["same", "same", "same"]
