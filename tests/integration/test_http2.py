"""HTTPS registries are offered HTTP/2. A real ``docker-registry`` serving TLS (Go offers
h2 over TLS, as Docker Hub and the other public registries do) answers every request of
a check on the one connection the ping opened; ``sync`` stays on HTTP/1.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from devtools import seeding
from devtools.localregistry import RegistryProcess, push_image
from tests.integration.cli_support import Result, builder_toml, inspector

NAME = "registry.example.com"
MIRRORS = 11


pytestmark = pytest.mark.usefixtures("docker_config")


@pytest.fixture
def tls_registry(tmp_path: Path) -> Iterator[tuple[RegistryProcess, Path]]:
    """A TLS docker-registry with a throwaway CA; yields it and the CA file."""
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file, ca_file = (tmp_path / n for n in ("cert.pem", "key.pem", "ca.pem"))
    cert_file.write_bytes(b"".join(blob.bytes() for blob in certificate.cert_chain_pems))
    certificate.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    seeding.trust(str(ca_file))
    with RegistryProcess(tls=(str(cert_file), str(key_file))) as registry:
        yield registry, ca_file


def run(
    capsys: pytest.CaptureFixture[str],
    command: str,
    builder: Path,
    tls_registry: tuple[RegistryProcess, Path],
) -> Result:
    """``inspector COMMAND -c BUILDER --json`` with NAME sent to the TLS registry."""
    registry, ca_file = tls_registry
    config = builder.parent / "registries.toml"
    config.write_text(f'[registries."{NAME}"]\nendpoint = "{registry.url}"\nca-file = "{ca_file}"')
    args = ["-c", str(builder), "--no-pack-config", "--registry-config", str(config), "--json"]
    return inspector(capsys, command, *args)


def inspector_requests(registry: RegistryProcess) -> list[tuple[str, str]]:
    return [
        (entry.method, entry.protocol)
        for entry in registry.access_log_lines()
        if entry.user_agent.startswith("inspector/")
    ]


def test_a_check_over_https_shares_one_http2_connection(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tls_registry: tuple[RegistryProcess, Path],
) -> None:
    registry, _ = tls_registry
    for index in range(MIRRORS + 1):
        push_image(registry.url, f"example/run-{index}", "1.0")
    refs = [f"{NAME}/example/run-{index}:1.0" for index in range(MIRRORS + 1)]

    result = run(capsys, "mirrors", builder_toml(tmp_path, (refs[0], refs[1:])), tls_registry)

    assert result.code == 0, result.err
    [group] = result.json()["run_images"]
    assert [m["in_sync"] for m in group["mirrors"]] == [True] * MIRRORS
    sent = inspector_requests(registry)
    assert sent == [("GET", "HTTP/2.0")] + [("HEAD", "HTTP/2.0")] * (MIRRORS + 1)
    # One TCP and TLS handshake for the ping and all twelve HEADs, not one per HEAD.
    assert len(registry.client_addresses("inspector/")) == 1


def test_sync_copies_over_http1(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tls_registry: tuple[RegistryProcess, Path],
) -> None:
    registry, _ = tls_registry
    image = push_image(registry.url, "example/run", "1.0")
    builder = builder_toml(tmp_path, (f"{NAME}/example/run:1.0", [f"{NAME}/mirror/run:1.0"]))

    result = run(capsys, "sync", builder, tls_registry)

    assert result.code == 0, result.err
    with seeding.registry_client() as client:
        copied = client.head(
            f"{registry.url}/v2/mirror/run/manifests/1.0",
            headers={"Accept": seeding.DOCKER_MANIFEST},
        )
    assert copied.headers["docker-content-digest"] == image.digest
    protocols = {protocol for _, protocol in inspector_requests(registry)}
    assert protocols == {"HTTP/1.1"}
