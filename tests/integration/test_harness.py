"""The harness itself, checked against a real distribution registry (v2.8).

These tests also pin down real-registry behaviour the inspector must cope with; each quirk is
stated in the test that shows it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from cli_support import RegistryFactory

from devtools.localregistry import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    MANIFEST_ACCEPT,
    MISSING_BINARY,
    OCI_INDEX,
    OCI_MANIFEST,
    RegistryNotFoundError,
    RegistryProcess,
    TokenServer,
    delete_blob,
    delete_manifest,
    parse_challenge,
    push_image,
    push_index,
    retag,
)


def head_manifest(
    http: httpx.Client, registry: RegistryProcess, repo: str, ref: str, accept: str
) -> httpx.Response:
    return http.head(f"{registry.url}/v2/{repo}/manifests/{ref}", headers={"Accept": accept})


def test_docker_registry_is_installed() -> None:
    # A plain assertion, so a machine without the binary FAILS here rather than skipping.
    assert shutil.which("docker-registry") is not None, MISSING_BINARY


def test_missing_binary_raises_with_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(RegistryNotFoundError, match="apt-get install -y docker-registry"):
        RegistryProcess(workdir=tmp_path).start()


def test_docker_image_reads_back_with_computed_digest(
    registry: RegistryProcess, http: httpx.Client
) -> None:
    image = push_image(registry.url, "library/app", "v1", labels={"io.example": "yes"})

    response = head_manifest(http, registry, "library/app", "v1", DOCKER_MANIFEST)

    assert response.status_code == 200
    assert response.headers["Docker-Content-Digest"] == image.digest
    assert response.headers["Content-Type"] == DOCKER_MANIFEST
    assert int(response.headers["Content-Length"]) == len(image.manifest)
    body = http.get(
        f"{registry.url}/v2/library/app/manifests/{image.digest}",
        headers={"Accept": DOCKER_MANIFEST},
    )
    assert body.content == image.manifest
    config = http.get(f"{registry.url}/v2/library/app/blobs/{image.config_digest}").json()
    assert config["config"]["Labels"] == {"io.example": "yes"}
    assert (config["os"], config["architecture"]) == image.platform
    assert len(config["rootfs"]["diff_ids"]) == len(image.layer_digests) == 1


def test_docker_manifest_without_accept_is_400(
    registry: RegistryProcess, http: httpx.Client
) -> None:
    # Quirk: with no schema2 type in Accept, distribution tries to down-convert to schema1
    # and answers 400 MANIFEST_INVALID (also for "Accept: */*"). Clients must send Accept.
    push_image(registry.url, "app", "v1")

    for headers in ({}, {"Accept": "*/*"}):
        response = http.get(f"{registry.url}/v2/app/manifests/v1", headers=headers)
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "MANIFEST_INVALID"


def test_oci_manifest_is_404_unless_accept_names_oci(
    registry: RegistryProcess, http: httpx.Client
) -> None:
    # Quirk: an OCI manifest exists, yet HEAD/GET without the OCI type in Accept is 404
    # MANIFEST_UNKNOWN ("OCI manifest found, but accept header does not support OCI
    # manifests"). A checker that sends Docker-only Accept would call the image missing.
    image = push_image(registry.url, "app", "oci", oci=True)

    assert head_manifest(http, registry, "app", "oci", DOCKER_MANIFEST).status_code == 404
    missing = http.get(f"{registry.url}/v2/app/manifests/oci", headers={"Accept": DOCKER_MANIFEST})
    assert missing.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    found = head_manifest(http, registry, "app", "oci", f"{DOCKER_MANIFEST}, {OCI_MANIFEST}")
    assert found.status_code == 200
    assert found.headers["Docker-Content-Digest"] == image.digest
    assert found.headers["Content-Type"] == OCI_MANIFEST


def test_oci_index_with_two_platforms(registry: RegistryProcess, http: httpx.Client) -> None:
    amd64 = push_image(registry.url, "multi", None, oci=True, layer_seed="a")
    arm64 = push_image(
        registry.url, "multi", None, oci=True, layer_seed="b", platform=("linux", "arm64", "v8")
    )
    index = push_index(registry.url, "multi", "latest", [amd64, arm64])

    # Likewise an OCI index needs the index type in Accept.
    assert head_manifest(http, registry, "multi", "latest", OCI_MANIFEST).status_code == 404
    response = http.get(
        f"{registry.url}/v2/multi/manifests/latest", headers={"Accept": MANIFEST_ACCEPT}
    )
    assert response.status_code == 200
    assert response.headers["Docker-Content-Digest"] == index.digest
    assert response.headers["Content-Type"] == OCI_INDEX
    entries = response.json()["manifests"]
    assert [e["digest"] for e in entries] == [amd64.digest, arm64.digest]
    assert entries[1]["platform"] == {"os": "linux", "architecture": "arm64", "variant": "v8"}
    for child in (amd64, arm64):
        assert head_manifest(http, registry, "multi", child.digest, OCI_MANIFEST).status_code == 200


def test_docker_manifest_list_is_rewritten_for_old_clients(
    registry: RegistryProcess, http: httpx.Client
) -> None:
    # Quirk: asking for a manifest list tag with only the schema2 type in Accept returns the
    # linux/amd64 child instead (its digest, 200), not the list.
    amd64 = push_image(registry.url, "multi", None)
    arm64 = push_image(registry.url, "multi", None, platform=("linux", "arm64"))
    manifest_list = push_index(registry.url, "multi", "latest", [amd64, arm64], oci=False)

    as_list = head_manifest(http, registry, "multi", "latest", MANIFEST_ACCEPT)
    assert as_list.headers["Docker-Content-Digest"] == manifest_list.digest
    assert as_list.headers["Content-Type"] == DOCKER_MANIFEST_LIST
    as_child = head_manifest(http, registry, "multi", "latest", DOCKER_MANIFEST)
    assert as_child.status_code == 200
    assert as_child.headers["Docker-Content-Digest"] == amd64.digest


def test_same_arguments_give_same_digests(registry_factory: RegistryFactory) -> None:
    first, second = registry_factory(), registry_factory()

    a = push_image(first.url, "app", "v1", layer_seed="s")
    b = push_image(second.url, "app", "v1", layer_seed="s")
    c = push_image(second.url, "app", "v2", layer_seed="t")

    assert first.url != second.url
    assert a == b  # frozen dataclass equality: digests, bytes and all
    assert c.layer_digests != a.layer_digests
    assert c.digest != a.digest


def test_retag_and_delete(registry: RegistryProcess, http: httpx.Client) -> None:
    image = push_image(registry.url, "app", "v1", oci=True)

    assert retag(registry.url, "app", "v1", "stable") == image.digest
    assert head_manifest(http, registry, "app", "stable", MANIFEST_ACCEPT).status_code == 200

    # Quirk: DELETE by tag is refused with 400 DIGEST_INVALID; delete by digest is 202
    # and takes every tag pointing at it along.
    by_tag = http.delete(f"{registry.url}/v2/app/manifests/v1")
    assert by_tag.status_code == 400
    assert by_tag.json()["errors"][0]["code"] == "DIGEST_INVALID"
    delete_manifest(registry.url, "app", image.digest)
    for tag in ("v1", "stable"):
        assert head_manifest(http, registry, "app", tag, MANIFEST_ACCEPT).status_code == 404

    layer = image.layer_digests[0]
    delete_blob(registry.url, "app", layer)
    assert http.head(f"{registry.url}/v2/app/blobs/{layer}").status_code == 404


def test_htpasswd_registry_requires_basic_auth(
    htpasswd_registry: tuple[RegistryProcess, tuple[str, str]],
    http: httpx.Client,
) -> None:
    registry, (user, password) = htpasswd_registry

    anonymous = http.get(f"{registry.url}/v2/")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Basic realm="inspector-test-registry"'
    assert http.get(f"{registry.url}/v2/", auth=(user, password)).status_code == 200
    assert http.get(f"{registry.url}/v2/", auth=(user, "wrong")).status_code == 401

    image = push_image(registry.url, "private/app", "v1", auth=(user, password))
    response = http.head(
        f"{registry.url}/v2/private/app/manifests/v1",
        headers={"Accept": DOCKER_MANIFEST},
        auth=(user, password),
    )
    assert response.headers["Docker-Content-Digest"] == image.digest


def fetch_token(
    http: httpx.Client, server: TokenServer, challenge: str, auth: tuple[str, str] | None = None
) -> httpx.Response:
    """Follow a Bearer challenge by hand, exactly as a client would."""
    scheme, params = parse_challenge(challenge)
    assert scheme == "bearer"
    assert params["realm"] == server.realm
    return http.get(
        params["realm"],
        params={"service": params["service"], "scope": params["scope"]},
        auth=auth,
    )


def test_token_registry_anonymous_pull_on_public_repo(
    token_registry: tuple[RegistryProcess, TokenServer],
    http: httpx.Client,
) -> None:
    registry, server = token_registry
    image = push_image(registry.url, "public/x", "v1", auth=("alice", "s3cret"))
    server.reset()  # count only what follows

    challenged = head_manifest(http, registry, "public/x", "v1", DOCKER_MANIFEST)
    assert challenged.status_code == 401
    assert challenged.headers["WWW-Authenticate"] == (
        f'Bearer realm="{server.realm}",service="{server.service}",scope="repository:public/x:pull"'
    )
    token = fetch_token(http, server, challenged.headers["WWW-Authenticate"])
    assert token.status_code == 200
    assert token.json()["expires_in"] == 300
    response = http.head(
        f"{registry.url}/v2/public/x/manifests/v1",
        headers={"Accept": DOCKER_MANIFEST, "Authorization": f"Bearer {token.json()['token']}"},
    )

    assert response.status_code == 200
    assert response.headers["Docker-Content-Digest"] == image.digest
    assert [(r["user"], r["scopes"]) for r in server.requests] == [
        (None, ["repository:public/x:pull"])
    ]


def test_token_registry_private_repo_needs_credentials(
    token_registry: tuple[RegistryProcess, TokenServer],
    http: httpx.Client,
) -> None:
    registry, server = token_registry
    push_image(registry.url, "private/x", "v1", auth=("alice", "s3cret"))
    server.reset()

    challenge = head_manifest(http, registry, "private/x", "v1", DOCKER_MANIFEST).headers[
        "WWW-Authenticate"
    ]
    # Anonymous: the token server still answers 200, but the token grants nothing, so the
    # registry says 401 with error="insufficient_scope" (as Docker Hub does).
    anonymous = fetch_token(http, server, challenge).json()["token"]
    denied = http.head(
        f"{registry.url}/v2/private/x/manifests/v1",
        headers={"Accept": DOCKER_MANIFEST, "Authorization": f"Bearer {anonymous}"},
    )
    assert denied.status_code == 401
    assert 'error="insufficient_scope"' in denied.headers["WWW-Authenticate"]
    # A bad password is refused by the token server itself.
    assert fetch_token(http, server, challenge, auth=("alice", "nope")).status_code == 401
    alice = fetch_token(http, server, challenge, auth=("alice", "s3cret")).json()["token"]
    allowed = http.head(
        f"{registry.url}/v2/private/x/manifests/v1",
        headers={"Accept": DOCKER_MANIFEST, "Authorization": f"Bearer {alice}"},
    )

    assert allowed.status_code == 200
    assert [(r["user"], r["status"]) for r in server.requests] == [
        (None, 200),
        ("alice", 401),
        ("alice", 200),
    ]


def test_access_log_counts_manifest_requests(registry: RegistryProcess, http: httpx.Client) -> None:
    image = push_image(registry.url, "app", "v1")
    assert registry.manifest_requests("PUT") == 1
    before = registry.manifest_requests()

    for _ in range(3):
        head_manifest(http, registry, "app", "v1", DOCKER_MANIFEST)
    http.get(f"{registry.url}/v2/app/manifests/{image.digest}", headers={"Accept": DOCKER_MANIFEST})
    head_manifest(http, registry, "other", "v1", DOCKER_MANIFEST)  # 404s are logged and counted too
    http.get(f"{registry.url}/v2/app/blobs/{image.config_digest}")  # not a manifest request

    # No sleep needed: the line is logged before the response reaches the client.
    assert registry.manifest_requests() - before == 5
    assert registry.manifest_requests("HEAD") == 4
    assert registry.manifest_requests("HEAD", repo="app") == 3
    assert registry.manifest_requests("get") == 1
    last = registry.access_log_lines()[-1]
    blob_path = f"/v2/app/blobs/{image.config_digest}"
    assert (last.method, last.path, last.status) == ("GET", blob_path, 200)
    assert last.user_agent.startswith("python-httpx/")


def test_registry_stops_and_frees_its_port(
    registry_factory: RegistryFactory, http: httpx.Client
) -> None:
    registry = registry_factory()
    url = registry.url
    registry.stop()

    with pytest.raises(httpx.TransportError):
        http.get(f"{url}/v2/", timeout=1.0)
