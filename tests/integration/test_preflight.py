"""``inspector preflight`` end to end against real registries.

The push check must leave nothing behind: each test that runs it compares the registry's
catalog, the app repository's tags and the blob store on disk before and after.
"""

from __future__ import annotations

import json
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

from devtools.localregistry import RegistryProcess, TokenServer, push_image, push_index

RUN = "registry.example.com/example/run"
MIRROR = "mirror.example.org/example/run"


pytestmark = pytest.mark.usefixtures("docker_config")


def preflight(capsys: pytest.CaptureFixture[str], app: str, *flags: str) -> Result:
    return inspector(capsys, "preflight", app, *flags, "--json")


def results(document: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["result"] for c in document["checks"]}


def reason(document: dict[str, Any], check_id: str) -> str:
    return next(c["reason"] for c in document["checks"] if c["id"] == check_id)


def storage_state(registry: RegistryProcess, auth: tuple[str, str] | None = None) -> dict[str, Any]:
    """What a push would change: catalog, the app's tags, every blob and repository link
    on disk (upload sessions excluded: see ``upload_leftovers``)."""
    root = registry.storage_dir / "docker/registry/v2"
    files = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and "/_uploads/" not in str(p)
    )
    with httpx.Client(auth=auth, timeout=5) as http:
        catalog = http.get(f"{registry.url}/v2/_catalog").json()
        tags = http.get(f"{registry.url}/v2/acme/app/tags/list")
    return {"catalog": catalog, "tags": (tags.status_code, tags.text), "files": files}


def upload_leftovers(registry: RegistryProcess) -> list[str]:
    root = registry.storage_dir / "docker/registry/v2/repositories"
    return sorted(
        str(p.relative_to(root)).split("/_uploads/")[1].split("/", 1)[1]
        for p in root.rglob("*")
        if p.is_file() and "/_uploads/" in str(p)
    )


def assert_nothing_left(
    registry: RegistryProcess, before: dict[str, Any], auth: tuple[str, str] | None = None
) -> None:
    after = storage_state(registry, auth)
    assert after == before
    assert not any(f.startswith("blobs/") for f in set(after["files"]) - set(before["files"]))
    # distribution 2.8 re-writes an upload's hash state after DELETE cancels it (its
    # closeResources runs Close() after Cancel(); "error closing blobwriter" in its log).
    # That orphan state file is all that remains: no data, no blob, no link, no tag.
    assert set(upload_leftovers(registry)) <= {"hashstates/sha256/0"}


def seed_run(registry: RegistryProcess, mirror: RegistryProcess, *, stale: bool = False) -> None:
    push_image(registry.url, "example/run", "latest", layer_seed="run")
    push_image(mirror.url, "example/run", "latest", layer_seed="old-run" if stale else "run")


def test_safe_publish_passes_and_writes_nothing(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    registry, mirror = registry_factory(), registry_factory()
    seed_run(registry, mirror)
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    flags = [
        "-c",
        str(builder),
        *endpoints(mirror_example_org=mirror, registry_example_com=registry),
    ]
    before = storage_state(mirror)

    result = preflight(capsys, "mirror.example.org/acme/app:1.0", *flags)

    assert result.code == 0, result.out + result.err
    document = result.json()
    assert document["selected"] == MIRROR
    assert document["ok"] is True
    assert results(document) == {
        "run-image-registry": "pass",
        "run-image-readable": "pass",
        "run-image-in-sync": "pass",
        "app-push-access": "pass",
        "app-tag-exists": "pass",
    }
    assert set(document["checks"][0]) == {"id", "name", "result", "reason"}
    assert document["push"]["cancelled"] is True
    assert document["check"]["selected"] == MIRROR
    requests = inspector_requests(mirror)
    posts = [path for method, path in requests if method == "POST"]
    deletes = [path for method, path in requests if method == "DELETE"]
    assert posts == ["/v2/acme/app/blobs/uploads/"]
    assert len(deletes) == 1 and deletes[0].startswith("/v2/acme/app/blobs/uploads/")
    assert not [m for m, _ in requests if m in ("PUT", "PATCH")]
    assert_nothing_left(mirror, before)


def test_existing_tag_is_info_and_human_output_lists_every_check(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    registry = registry_factory()
    push_image(registry.url, "example/run", "latest", layer_seed="run")
    app = push_image(registry.url, "acme/app", "1.0", layer_seed="app")
    builder = builder_toml(tmp_path, (RUN, []))
    flags = ["-c", str(builder), *endpoints(registry_example_com=registry)]

    document = preflight(capsys, "registry.example.com/acme/app:1.0", *flags).json()
    human = inspector(capsys, "preflight", "registry.example.com/acme/app:1.0", *flags)

    assert results(document)["app-tag-exists"] == "info"
    assert app.digest in reason(document, "app-tag-exists")
    assert "overwrite" in reason(document, "app-tag-exists")
    assert document["ok"] is True
    assert human.code == 0
    for line in ("PASS", "INFO", "app repository accepts a push", "OK: publishing"):
        assert line in human.out


def test_stale_mirror_fails(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    registry, mirror = registry_factory(), registry_factory()
    seed_run(registry, mirror, stale=True)
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    flags = [
        "-c",
        str(builder),
        *endpoints(mirror_example_org=mirror, registry_example_com=registry),
    ]

    result = preflight(capsys, "mirror.example.org/acme/app", *flags)

    assert result.code == 1
    document = result.json()
    assert document["ok"] is False
    assert results(document)["run-image-in-sync"] == "fail"
    assert reason(document, "run-image-in-sync").startswith(f"stale: {MIRROR} serves sha256:")
    assert results(document)["run-image-readable"] == "pass"


def test_stale_platform_of_an_index_mirror_is_named(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    registry, mirror = registry_factory(), registry_factory()
    for target, arm_seed in ((registry, "arm"), (mirror, "arm-old")):
        amd = push_image(target.url, "example/run", None, layer_seed="amd")
        arm = push_image(
            target.url, "example/run", None, layer_seed=arm_seed, platform=("linux", "arm64")
        )
        push_index(target.url, "example/run", "latest", [amd, arm])
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    flags = [
        "-c",
        str(builder),
        *endpoints(mirror_example_org=mirror, registry_example_com=registry),
    ]

    document = preflight(capsys, "mirror.example.org/acme/app", *flags).json()

    assert results(document)["run-image-in-sync"] == "fail"
    assert "platforms differing: linux/arm64" in reason(document, "run-image-in-sync")
    assert "linux/amd64" not in reason(document, "run-image-in-sync").split("differing")[1]


def test_missing_mirror_that_pack_would_pick_fails(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    registry, mirror = registry_factory(), registry_factory()
    push_image(registry.url, "example/run", "latest", layer_seed="run")
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    flags = [
        "-c",
        str(builder),
        *endpoints(mirror_example_org=mirror, registry_example_com=registry),
    ]

    result = preflight(capsys, "mirror.example.org/acme/app", *flags)

    assert result.code == 1
    document = result.json()
    assert document["selected"] == MIRROR  # pack counts the 404 as readable
    assert results(document)["run-image-readable"] == "fail"
    assert "missing" in reason(document, "run-image-readable")
    assert results(document)["run-image-in-sync"] == "info"


def test_builder_image_with_preflight(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = registry_factory()
    push_image(registry.url, "example/run", "latest", layer_seed="run")
    metadata = {"images": [{"image": RUN, "mirrors": [MIRROR]}]}
    push_image(
        registry.url,
        "example/builder",
        "latest",
        labels={"io.buildpacks.builder.metadata": json.dumps(metadata)},
    )
    flags = [
        "--builder",
        "registry.example.com/example/builder",
        *endpoints(registry_example_com=registry),
    ]

    result = preflight(capsys, "registry.example.com/acme/app", *flags)

    assert result.code == 0, result.out + result.err
    assert result.json()["selected"] == RUN
    assert results(result.json())["run-image-in-sync"] == "pass"


def test_digest_app_reference_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    builder = builder_toml(tmp_path, (RUN, []))
    app = "registry.example.com/acme/app@sha256:" + "a" * 64
    result = inspector(capsys, "preflight", app, "-c", str(builder))
    assert result.code == 2
    assert "is not a tag reference" in result.err


# --- the push check against registries that need credentials ---------------------------------


def test_push_refused_without_credentials_and_allowed_with_them(
    registry_factory: RegistryFactory,
    htpasswd_registry: tuple[RegistryProcess, tuple[str, str]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    docker_config: Path,
) -> None:
    registry = registry_factory()
    private, (user, password) = htpasswd_registry
    push_image(registry.url, "example/run", "latest", layer_seed="run")
    push_image(private.url, "example/run", "latest", layer_seed="run", auth=(user, password))
    builder = builder_toml(tmp_path, (RUN, ["private.example.com/example/run"]))
    flags = [
        "-c",
        str(builder),
        *endpoints(registry_example_com=registry, private_example_com=private),
    ]
    app = "private.example.com/acme/app"
    before = storage_state(private, (user, password))

    anonymous = preflight(capsys, app, *flags)
    after_anonymous = storage_state(private, (user, password))
    write_docker_config(docker_config, "private.example.com", user, password)
    logged_in = preflight(capsys, app, *flags)

    assert anonymous.code == 1
    document = anonymous.json()
    assert results(document)["app-push-access"] == "fail"
    assert "HTTP 401" in reason(document, "app-push-access")
    # The mirror on the app's registry answers 401: pack drops it and takes the run image.
    assert document["selected"] == RUN
    assert results(document)["run-image-registry"] == "warn"
    assert "private.example.com/example/run is on private.example.com but not readable" in (
        reason(document, "run-image-registry")
    )
    assert after_anonymous == before

    assert logged_in.code == 0, logged_in.out
    document = logged_in.json()
    assert document["selected"] == "private.example.com/example/run"
    assert set(results(document).values()) == {"pass"}
    assert document["push"]["cancelled"] is True
    assert_nothing_left(private, before, (user, password))
    assert password not in logged_in.out + logged_in.err + anonymous.out + anonymous.err


def test_token_registry_grants_push_only_to_the_user(
    token_registry: tuple[RegistryProcess, TokenServer],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    docker_config: Path,
) -> None:
    registry, tokens = token_registry
    push_image(registry.url, "public/run", "latest", layer_seed="run", auth=("alice", "s3cret"))
    builder = builder_toml(tmp_path, ("registry.example.com/public/run", []))
    flags = ["-c", str(builder), *endpoints(registry_example_com=registry)]
    app = "registry.example.com/public/app"

    anonymous = preflight(capsys, app, *flags)
    write_docker_config(docker_config, "registry.example.com", "alice", "s3cret")
    alice = preflight(capsys, app, *flags)

    assert anonymous.code == 1
    assert results(anonymous.json())["app-push-access"] == "fail"
    assert results(anonymous.json())["run-image-readable"] == "pass"  # anonymous pull works
    assert alice.code == 0, alice.out
    assert results(alice.json())["app-push-access"] == "pass"
    push_scopes = [r for r in tokens.requests if "repository:public/app:pull,push" in r["scopes"]]
    assert push_scopes, tokens.requests
