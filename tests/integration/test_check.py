"""``inspector check`` end to end against real distribution registries.

Each test seeds registries with the push helpers, runs the real CLI in-process
(``inspector.cli.main``) with ``--endpoint`` mapping the logical registry names to the local
processes, and compares what it reports with what was pushed: the exact digest the registry
serves, the status, pack's online pick and the exit code. The registry's own access log and
the token server's request list count what the client sent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_support import (
    Result,
    builder_toml,
    endpoints,
    inspector,
    inspector_requests,
    isolate,
    write_docker_config,
)

from devtools.localregistry import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    RegistryProcess,
    TokenServer,
    free_port,
    push_image,
    push_index,
)

RegistryFactory = Callable[..., RegistryProcess]
APP = "registry.example.com/acme/app"


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


def check(capsys: pytest.CaptureFixture[str], builder: Path, *extra: str, app: str = APP) -> Result:
    return inspector(capsys, "check", app, "-c", str(builder), *extra, "--json")


def by_reference(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["reference"]: c for c in document["candidates"]}


# --- statuses and digests ----------------------------------------------------------------------


def test_all_available_and_in_sync_exits_0(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror = registry_factory(), registry_factory()
    pushed = push_image(primary.url, "example/run", "1.0")
    copy = push_image(mirror.url, "example/run", "1.0")
    builder = builder_toml(
        tmp_path, ("registry.example.com/example/run:1.0", ["mirror.example.org/example/run:1.0"])
    )

    result = check(
        capsys, builder, *endpoints(registry_example_com=primary, mirror_example_org=mirror)
    )

    assert result.code == 0, result.err
    document = result.json()
    assert copy.digest == pushed.digest
    assert document["selected"] == "registry.example.com/example/run:1.0"
    assert document["in_sync"] is True
    assert document["run_image_digest"] == pushed.digest
    assert [
        (c["rank"], c["status"], c["digest"], c["in_sync"], c["selected"])
        for c in document["candidates"]
    ] == [(1, "available", pushed.digest, True, True), (2, "available", pushed.digest, True, False)]
    assert document["verdict"].startswith(
        "OK: pack would pick registry.example.com/example/run:1.0"
    )
    # The logical name stays in the output; the loopback endpoint appears nowhere.
    assert primary.host not in result.out and mirror.host not in result.out


def test_missing_repository_and_missing_tag_and_pack_picks_the_404(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    origin, preferred = registry_factory(), registry_factory()
    run = push_image(origin.url, "example/run", "1.0")
    push_image(preferred.url, "example/run", "0.9")  # the repository exists, the tag does not
    builder = builder_toml(
        tmp_path,
        (
            "mirror.example.org/example/run:1.0",
            ["registry.example.com/example/run:1.0", "registry.example.com/nothing/run:1.0"],
        ),
    )

    result = check(
        capsys, builder, *endpoints(mirror_example_org=origin, registry_example_com=preferred)
    )

    assert result.code == 1
    document = result.json()
    candidates = by_reference(document)
    assert candidates["mirror.example.org/example/run:1.0"]["status"] == "available"
    assert candidates["mirror.example.org/example/run:1.0"]["digest"] == run.digest
    for missing in ("registry.example.com/example/run:1.0", "registry.example.com/nothing/run:1.0"):
        assert candidates[missing]["status"] == "missing"
        assert candidates[missing]["digest"] is None
        assert candidates[missing]["in_sync"] is None
        assert candidates[missing]["http_status"] == 404
    # pack's access check counts a 404 as readable, so it picks the missing tag on the
    # preferred registry: the build would fail at pull. That is the finding.
    assert document["selected"] == "registry.example.com/example/run:1.0"
    assert candidates["registry.example.com/example/run:1.0"]["readable"] is True
    assert (
        "pack would pick registry.example.com/example/run:1.0, but it is missing"
        in (document["verdict"])
    )
    assert document["in_sync"] is False


def test_stale_mirror_is_out_of_sync_with_both_digests_exact(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    origin, stale = registry_factory(), registry_factory()
    current = push_image(origin.url, "example/run", "1.0", layer_seed="v2")
    old = push_image(stale.url, "example/run", "1.0", layer_seed="v1")
    builder = builder_toml(
        tmp_path, ("registry.example.com/example/run:1.0", ["mirror.example.org/example/run:1.0"])
    )

    result = check(
        capsys,
        builder,
        *endpoints(registry_example_com=origin, mirror_example_org=stale),
        app="mirror.example.org/acme/app",
    )

    assert result.code == 1
    document = result.json()
    assert old.digest != current.digest
    candidates = by_reference(document)
    assert candidates["registry.example.com/example/run:1.0"]["digest"] == current.digest
    assert candidates["registry.example.com/example/run:1.0"]["in_sync"] is True
    assert candidates["mirror.example.org/example/run:1.0"]["status"] == "available"
    assert candidates["mirror.example.org/example/run:1.0"]["digest"] == old.digest
    assert candidates["mirror.example.org/example/run:1.0"]["in_sync"] is False
    assert document["selected"] == "mirror.example.org/example/run:1.0"
    assert candidates["mirror.example.org/example/run:1.0"]["sync"] == "stale"
    assert "stale" in document["verdict"] and document["verdict"].startswith("FAIL")
    assert document["in_sync"] is False


def test_oci_only_manifest_is_found_thanks_to_the_accept_header(
    registry: RegistryProcess,
    http: httpx.Client,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    image = push_image(registry.url, "example/run", "1.0", oci=True)
    # What a client without the OCI types in Accept sees: distribution says "unknown".
    naive = http.head(
        f"{registry.url}/v2/example/run/manifests/1.0", headers={"Accept": DOCKER_MANIFEST}
    )
    assert naive.status_code == 404
    builder = builder_toml(tmp_path, ("registry.example.com/example/run:1.0", []))

    result = check(capsys, builder, *endpoints(registry_example_com=registry))

    assert result.code == 0, result.out
    [candidate] = result.json()["candidates"]
    assert candidate["status"] == "available"
    assert candidate["digest"] == image.digest
    assert candidate["media_type"] == OCI_MANIFEST


@pytest.mark.parametrize("oci", [True, False], ids=["oci-index", "docker-manifest-list"])
def test_multi_platform_index_digest_and_differing_platforms(
    registry_factory: RegistryFactory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    oci: bool,
) -> None:
    origin, mirror = registry_factory(), registry_factory()

    def seed(registry: RegistryProcess, repo: str, arm_seed: str) -> Any:
        amd = push_image(registry.url, repo, None, oci=oci, layer_seed="amd64")
        arm = push_image(
            registry.url, repo, None, oci=oci, layer_seed=arm_seed, platform=("linux", "arm64")
        )
        return push_index(registry.url, repo, "1.0", [amd, arm], oci=oci)

    current = seed(origin, "example/run", "arm64-v2")
    same = seed(mirror, "example/run", "arm64-v2")
    stale = seed(mirror, "stale/run", "arm64-v1")
    builder = builder_toml(
        tmp_path,
        (
            "registry.example.com/example/run:1.0",
            ["mirror.example.org/example/run:1.0", "mirror.example.org/stale/run:1.0"],
        ),
    )

    result = check(
        capsys, builder, *endpoints(registry_example_com=origin, mirror_example_org=mirror)
    )

    assert result.code == 1
    document = result.json()
    candidates = by_reference(document)
    image = candidates["registry.example.com/example/run:1.0"]
    # The index digest, not a platform's: the registry must not have resolved the index.
    assert image["digest"] == current.digest
    assert image["media_type"] == (OCI_INDEX if oci else current.media_type)
    assert (
        candidates["mirror.example.org/example/run:1.0"]["digest"] == same.digest == current.digest
    )
    assert candidates["mirror.example.org/example/run:1.0"]["in_sync"] is True
    amd_now, arm_now = current.children
    amd_old, arm_old = stale.children
    assert candidates["mirror.example.org/example/run:1.0"]["sync"] == "identical"
    assert [
        (p["platform"], p["state"])
        for p in candidates["mirror.example.org/example/run:1.0"]["platforms"]
    ] == [("linux/amd64", "same"), ("linux/arm64", "same")]
    lagging = candidates["mirror.example.org/stale/run:1.0"]
    assert lagging["digest"] == stale.digest != current.digest
    assert (lagging["in_sync"], lagging["sync"], lagging["problems"]) == (False, "stale", [])
    assert lagging["platforms"] == [
        {
            "platform": "linux/amd64",
            "digest": amd_old.digest,
            "run_image_digest": amd_now.digest,
            "state": "same",
        },
        {
            "platform": "linux/arm64",
            "digest": arm_old.digest,
            "run_image_digest": arm_now.digest,
            "state": "different",
        },
    ]

    table = inspector(
        capsys,
        "check",
        APP,
        "-c",
        str(builder),
        *endpoints(registry_example_com=origin, mirror_example_org=mirror),
    )
    stale_row = next(line for line in table.out.splitlines() if "stale/run" in line)
    assert "NO: stale (linux/arm64)" in stale_row


# --- Docker Hub names and endpoints -----------------------------------------------------------


@pytest.mark.parametrize(
    "how", ["--endpoint docker.io", "config docker.io", "config index.docker.io"]
)
def test_docker_hub_named_image_goes_to_the_mapped_endpoint(
    registry: RegistryProcess,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    how: str,
) -> None:
    image = push_image(registry.url, "example/run", "latest")
    builder = builder_toml(tmp_path, ("example/run", []))
    if how.startswith("--endpoint"):
        flags = ["--endpoint", f"docker.io={registry.url}"]
    else:
        key = how.split()[1]
        config = tmp_path / "registries.toml"
        config.write_text(f'[registries."{key}"]\nendpoint = "{registry.url}"\n')
        flags = ["--registry-config", str(config)]

    result = check(capsys, builder, *flags, app="docker.io/acme/app")

    assert result.code == 0, result.err
    document = result.json()
    [candidate] = document["candidates"]
    assert candidate["reference"] == "example/run"
    assert candidate["normalized"] == "index.docker.io/example/run:latest"
    assert candidate["registry"] == "index.docker.io"
    assert candidate["status"] == "available"
    assert candidate["digest"] == image.digest
    assert document["app_registry"] == "index.docker.io"
    assert registry.manifest_requests("HEAD", repo="example/run") == 1


# --- authentication ------------------------------------------------------------------------------


def test_htpasswd_registry_401_then_available_with_docker_config(
    htpasswd_registry: tuple[RegistryProcess, tuple[str, str]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    docker_config: Path,
) -> None:
    registry, (user, password) = htpasswd_registry
    image = push_image(registry.url, "example/run", "1.0", auth=(user, password))
    builder = builder_toml(tmp_path, ("registry.example.com/example/run:1.0", []))
    flags = endpoints(registry_example_com=registry)

    anonymous = check(capsys, builder, *flags)

    assert anonymous.code == 1
    [candidate] = anonymous.json()["candidates"]
    assert (candidate["status"], candidate["digest"], candidate["http_status"]) == (
        "unauthorized",
        None,
        401,
    )
    assert candidate["readable"] is False

    # Credentials are looked up by the logical name, not by the loopback endpoint.
    write_docker_config(docker_config, "registry.example.com", user, password)
    logged_in = check(capsys, builder, *flags)

    assert logged_in.code == 0, logged_in.out
    [candidate] = logged_in.json()["candidates"]
    assert (candidate["status"], candidate["digest"]) == ("available", image.digest)
    assert password not in logged_in.out + logged_in.err


def test_token_registry_anonymous_pull_one_token_per_repository(
    token_registry: tuple[RegistryProcess, TokenServer],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    registry, tokens = token_registry
    first = push_image(registry.url, "public/run", "1.0", auth=("alice", "s3cret"))
    second = push_image(registry.url, "public/run", "1.1", layer_seed="b", auth=("alice", "s3cret"))
    tokens.reset()
    builder = builder_toml(
        tmp_path,
        ("registry.example.com/public/run:1.0", ["registry.example.com/public/run:1.1"]),
    )

    result = check(capsys, builder, *endpoints(registry_example_com=registry))

    document = result.json()
    statuses = [(c["status"], c["digest"]) for c in document["candidates"]]
    assert statuses == [("available", first.digest), ("available", second.digest)]
    assert result.code == 1  # the two tags differ: the mirror is stale
    # Both candidates live in one repository: one anonymous token serves both.
    assert [(r["user"], r["scopes"], r["status"]) for r in tokens.requests] == [
        (None, ["repository:public/run:pull"], 200)
    ]
    # The challenge is learnt from the /v2/ ping: no manifest request is wasted on a 401.
    # pack's pick (the run image) is verified down to its blobs: one GET, one HEAD each.
    assert sorted(inspector_requests(registry)) == sorted(
        [
            ("GET", "/v2/"),
            ("HEAD", "/v2/public/run/manifests/1.0"),
            ("HEAD", "/v2/public/run/manifests/1.1"),
            ("GET", f"/v2/public/run/manifests/{first.digest}"),
            ("HEAD", f"/v2/public/run/blobs/{first.config_digest}"),
            ("HEAD", f"/v2/public/run/blobs/{first.layer_digests[0]}"),
        ]
    )


def test_token_registry_private_repository_needs_credentials(
    token_registry: tuple[RegistryProcess, TokenServer],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    docker_config: Path,
) -> None:
    registry, tokens = token_registry
    image = push_image(registry.url, "private/run", "1.0", auth=("alice", "s3cret"))
    builder = builder_toml(tmp_path, ("registry.example.com/private/run:1.0", []))
    flags = endpoints(registry_example_com=registry)
    tokens.reset()

    anonymous = check(capsys, builder, *flags)

    assert anonymous.code == 1
    [candidate] = anonymous.json()["candidates"]
    assert (candidate["status"], candidate["digest"], candidate["http_status"]) == (
        "unauthorized",
        None,
        401,
    )
    assert all(r["user"] is None for r in tokens.requests)
    assert {s for r in tokens.requests for s in r["scopes"]} == {"repository:private/run:pull"}
    # One token, refused: a token fetched just now for this very scope is not fetched
    # again (only a cached one, which may have expired, is refreshed and retried).
    assert len(tokens.requests) == 1
    assert registry.manifest_requests("HEAD", repo="private/run") == 1

    tokens.reset()
    write_docker_config(docker_config, "registry.example.com", "alice", "s3cret")
    logged_in = check(capsys, builder, *flags)

    assert logged_in.code == 0, logged_in.out
    [candidate] = logged_in.json()["candidates"]
    assert (candidate["status"], candidate["digest"]) == ("available", image.digest)
    assert [(r["user"], r["scopes"], r["status"]) for r in tokens.requests] == [
        ("alice", ["repository:private/run:pull"], 200)
    ]
    assert registry.manifest_requests("HEAD", repo="private/run") == 1 + 1


# --- pack's online selection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("with_404_mirror", "with_readable_elsewhere", "expected", "verdict"),
    [
        (True, True, "registry.example.com/public/run:1.0", "FAIL: {}, but it is missing"),
        # Readable and there, but the run image itself is unreadable: nothing to compare.
        (False, True, "mirror.example.org/example/run:1.0", "WARN: {}; cannot tell whether"),
        (False, False, "registry.example.com/private/run:1.0", "FAIL: {}, but it is unauthorized"),
    ],
    ids=["404-on-preferred", "first-readable", "run-image-fallback"],
)
def test_online_selection_skips_401_and_unreachable_but_not_404(
    token_registry: tuple[RegistryProcess, TokenServer],
    registry: RegistryProcess,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    with_404_mirror: bool,
    with_readable_elsewhere: bool,
    expected: str,
    verdict: str,
) -> None:
    preferred, _ = token_registry
    push_image(preferred.url, "private/run", "1.0", auth=("alice", "s3cret"))
    elsewhere = push_image(registry.url, "example/run", "1.0")
    mirrors = ["down.example.net/example/run:1.0"]
    if with_404_mirror:
        mirrors.insert(0, "registry.example.com/public/run:1.0")  # readable: 404
    if with_readable_elsewhere:
        mirrors.append("mirror.example.org/example/run:1.0")
    builder = builder_toml(tmp_path, ("registry.example.com/private/run:1.0", mirrors))
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    result = check(
        capsys,
        builder,
        *endpoints(
            registry_example_com=preferred, mirror_example_org=registry, down_example_net=closed
        ),
    )

    assert result.code == 1
    document = result.json()
    candidates = by_reference(document)
    assert candidates["registry.example.com/private/run:1.0"]["status"] == "unauthorized"
    assert candidates["registry.example.com/private/run:1.0"]["readable"] is False
    down = candidates["down.example.net/example/run:1.0"]
    assert (down["status"], down["readable"], down.get("http_status")) == (
        "unreachable",
        False,
        None,
    )
    assert down["detail"]
    if with_404_mirror:
        assert candidates["registry.example.com/public/run:1.0"]["status"] == "missing"
        assert candidates["registry.example.com/public/run:1.0"]["readable"] is True
    if with_readable_elsewhere:
        assert candidates["mirror.example.org/example/run:1.0"]["digest"] == elsewhere.digest
    assert document["selected"] == expected
    assert [c["reference"] for c in document["candidates"] if c["selected"]] == [expected]
    assert document["verdict"].startswith(verdict.format(f"pack would pick {expected}"))


# --- output, exit codes, request counts -------------------------------------------------------


def test_table_lists_candidates_in_rank_order_with_statuses(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hub, preferred = registry_factory(), registry_factory()
    image = push_image(hub.url, "example/run", "latest", layer_seed="new")
    push_image(preferred.url, "example/run", "latest", layer_seed="old")
    builder = builder_toml(
        tmp_path,
        (
            "example/run",
            ["registry.example.com/example/run", "registry.example.com/gone/run"],
        ),
    )

    result = inspector(
        capsys,
        "check",
        APP,
        "-c",
        str(builder),
        *endpoints(docker_io=hub, registry_example_com=preferred),
    )

    assert result.code == 1
    lines = result.out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("#"))
    rows = [line.split() for line in lines[header + 1 : header + 4]]
    assert [row[:2] for row in rows] == [
        ["1", "example/run"],
        ["2", "registry.example.com/example/run"],
        ["3", "registry.example.com/gone/run"],
    ]
    assert [row[4] for row in rows] == ["available", "available", "missing:"]
    assert "missing: repository not found" in lines[header + 3]
    assert rows[0][5] == image.digest.removeprefix("sha256:")[:12]
    assert lines[header + 2].endswith("<- pack's pick")
    assert lines[header + 4].startswith("registry.example.com/example/run: stale: serves sha256:")
    assert lines[-1].startswith("FAIL: pack would pick registry.example.com/example/run")
    assert "\x1b[" not in result.out  # plain text when stdout is not a terminal


def test_one_manifest_request_per_unique_candidate(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hub, preferred, mirror = registry_factory(), registry_factory(), registry_factory()
    push_image(hub.url, "example/run", "latest")
    push_image(preferred.url, "example/run", "latest")
    # Seven candidates, three distinct after normalization.
    builder = builder_toml(
        tmp_path,
        (
            "example/run",
            [
                "docker.io/example/run",
                "index.docker.io/example/run:latest",
                "registry.example.com/example/run",
                "registry.example.com/example/run:latest",
                "mirror.example.org/example/run",
            ],
        ),
    )
    pack_config = tmp_path / "pack.toml"
    pack_config.write_text(
        '[[run-images]]\nimage = "example/run"\n'
        'mirrors = ["registry.example.com/example/run:latest"]\n'
    )

    result = check(
        capsys,
        builder,
        "--pack-config",
        str(pack_config),
        *endpoints(docker_io=hub, registry_example_com=preferred, mirror_example_org=mirror),
    )

    document = result.json()
    assert len(document["candidates"]) == 7
    assert document["candidates"][0]["source"] == "user-mirror"
    assert {c["normalized"] for c in document["candidates"]} == {
        "index.docker.io/example/run:latest",
        "registry.example.com/example/run:latest",
        "mirror.example.org/example/run:latest",
    }
    # One ping and one manifest HEAD on Docker Hub; no GET of a manifest at all.
    assert sorted(m for m, _ in inspector_requests(hub)) == ["GET", "HEAD"]
    assert ("GET", "/v2/") in inspector_requests(hub)
    # The missing one costs one more: tags/list, to say what is missing.
    assert sorted(inspector_requests(mirror)) == [
        ("GET", "/v2/"),
        ("GET", "/v2/example/run/tags/list?n=1"),
        ("HEAD", "/v2/example/run/manifests/latest"),
    ]
    # pack's pick (on the preferred registry) is verified down to its two blobs.
    picked = inspector_requests(preferred)
    assert sorted(m for m, _ in picked) == ["GET", "GET", "HEAD", "HEAD", "HEAD"]
    assert sum(1 for m, p in picked if m == "HEAD" and "/blobs/" in p) == 2
    assert hub.manifest_requests("HEAD", repo="example/run") == 1
    assert preferred.manifest_requests("HEAD", repo="example/run") == 1
    assert mirror.manifest_requests("HEAD", repo="example/run") == 1
    assert result.code == 1  # the mirror is missing


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["check", "Not A Reference", "-c", "BUILDER"], "Not A Reference"),
        (["check", APP, "-c", "NO_SUCH_FILE"], "NO_SUCH_FILE"),
        (["check", APP, "-c", "BUILDER", "--endpoint", "no-equals-sign"], "no-equals-sign"),
        (["check", APP, "-c", "BUILDER", "--endpoint", "r.example.com=ftp://x"], "ftp://x"),
        (["check", APP, "-c", "BUILDER", "--registry-config", "BAD_TOML"], "BAD_TOML"),
        (["check", APP], "--builder"),
    ],
    ids=[
        "bad-reference",
        "missing-builder",
        "endpoint-syntax",
        "endpoint-scheme",
        "bad-toml",
        "no-builder",
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], names: str
) -> None:
    builder = builder_toml(tmp_path, ("registry.example.com/example/run", []))
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[registries\n")
    substitutions = {
        "BUILDER": str(builder),
        "NO_SUCH_FILE": str(tmp_path / "nope.toml"),
        "BAD_TOML": str(bad_toml),
    }
    argv = [substitutions.get(a, a) for a in args]

    result = inspector(capsys, *argv, "--json")

    assert result.code == 2
    [line] = result.err.splitlines()
    assert result.json() == {
        "schema_version": "1.0",
        "error": {"message": line.removeprefix("inspector: error: ")},
    }
    assert line.startswith("inspector: error:")
    assert substitutions.get(names, names) in line
    assert "Traceback" not in result.err
