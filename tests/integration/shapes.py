"""Image shapes found in the wild, pushed to real registries, and independent readers.

Two pushers on purpose: the project's own seeding helpers (plain httpx) and oras-py (an
independent OCI client), so that what inspector reads and repairs is not only what its
own code wrote. skopeo (Debian) reads manifests back; blobs are read back with HEADs.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devtools.localregistry import (
    MANIFEST_ACCEPT,
    OCI_INDEX,
    OCI_MANIFEST,
    RegistryProcess,
    push_blob,
    push_manifest,
    registry_client,
    sha256_digest,
)

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ZSTD_LAYER = "application/vnd.oci.image.layer.v1.tar+zstd"
IN_TOTO = "application/vnd.in-toto+json"


@dataclass(frozen=True)
class Child:
    """An image manifest in a repository and the index entry that names it."""

    digest: str
    size: int
    platform: dict[str, Any]
    blobs: tuple[str, ...]  # config first, then layers
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def layers(self) -> tuple[str, ...]:
        return self.blobs[1:]

    def entry(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "mediaType": OCI_MANIFEST,
            "digest": self.digest,
            "size": self.size,
            "platform": self.platform,
        }
        if self.annotations:
            found["annotations"] = self.annotations
        return found


def platform(text: str, **extra: Any) -> dict[str, Any]:
    """``linux/arm64/v8`` plus e.g. ``os_version="10.0.17763.5329"``."""
    os_name, arch, *variant = text.split("/")
    found: dict[str, Any] = {"architecture": arch, "os": os_name}
    if variant:
        found["variant"] = variant[0]
    for key, value in extra.items():
        found[key.replace("_", ".")] = value
    return found


def _layer(seed: str) -> bytes:
    content = f"layer seed: {seed}\n".encode()
    info = tarfile.TarInfo("seed.txt")
    info.size, info.mtime, info.mode = len(content), 0, 0o644
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(content))
    return gzip.compress(buffer.getvalue(), mtime=0)


def _image_parts(
    seed: str, where: dict[str, Any], layer_type: str
) -> tuple[bytes, bytes, dict[str, Any]]:
    layer = _layer(seed)
    config = json.dumps(
        {
            "architecture": where["architecture"],
            "os": where["os"],
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(gzip.decompress(layer))]},
        },
        sort_keys=True,
    ).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256_digest(config), "size": len(config)},
        "layers": [{"mediaType": layer_type, "digest": sha256_digest(layer), "size": len(layer)}],
    }
    return layer, config, manifest


def image(
    registry: RegistryProcess,
    repo: str,
    seed: str,
    where: dict[str, Any],
    *,
    zstd: bool = False,
    annotations: dict[str, str] | None = None,
) -> Child:
    """An OCI image manifest pushed by digest with the project's seeding helpers."""
    layer, config, document = _image_parts(seed, where, ZSTD_LAYER if zstd else GZIP_LAYER)
    body = json.dumps(document).encode()  # as oras-py serialises it: the same digests
    with registry_client() as client:
        push_blob(client, registry.url, repo, layer)
        push_blob(client, registry.url, repo, config)
        digest = push_manifest(client, registry.url, repo, sha256_digest(body), body, OCI_MANIFEST)
    blobs = (sha256_digest(config), sha256_digest(layer))
    return Child(digest, len(body), where, blobs, dict(annotations or {}))


def oras_image(registry: RegistryProcess, repo: str, seed: str, where: dict[str, Any]) -> Child:
    """The same image pushed by oras-py (blobs and manifest), an independent client."""
    import oras.provider

    layer, config, document = _image_parts(seed, where, GZIP_LAYER)
    client = oras.provider.Registry(insecure=True)
    with tempfile.TemporaryDirectory() as scratch:
        for data, descriptor in ((layer, document["layers"][0]), (config, document["config"])):
            path = Path(scratch) / descriptor["digest"].replace(":", "-")
            path.write_bytes(data)
            response = client.upload_blob(str(path), f"{registry.host}/{repo}", descriptor)
            assert response.status_code in (200, 201), response.text
    # oras-py PUTs the manifest as requests' json= serialisation; tag it to learn the digest.
    tag = "oras-" + sha256_digest(seed.encode() + json.dumps(where).encode())[7:19]
    container = client.get_container(f"{registry.host}/{repo}:{tag}")
    response = client.upload_manifest(document, container)
    assert response.status_code == 201, response.text
    digest = response.headers["Docker-Content-Digest"]
    size = len(json.dumps(document).encode())
    assert sha256_digest(json.dumps(document).encode()) == digest
    return Child(digest, size, where, (sha256_digest(config), sha256_digest(layer)))


def attestation(registry: RegistryProcess, repo: str, of: Child) -> Child:
    """A buildx-style attestation manifest (in-toto layer) for ``of``."""
    statement = json.dumps({"_type": "https://in-toto.io/Statement/v0.1", "of": of.digest})
    layer = statement.encode()
    config = b"{}"
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256_digest(config), "size": len(config)},
        "layers": [{"mediaType": IN_TOTO, "digest": sha256_digest(layer), "size": len(layer)}],
    }
    body = json.dumps(document, sort_keys=True).encode()
    with registry_client() as client:
        push_blob(client, registry.url, repo, layer)
        push_blob(client, registry.url, repo, config)
        digest = push_manifest(client, registry.url, repo, sha256_digest(body), body, OCI_MANIFEST)
    return Child(
        digest,
        len(body),
        {"architecture": "unknown", "os": "unknown"},
        (sha256_digest(config), sha256_digest(layer)),
        {
            "vnd.docker.reference.digest": of.digest,
            "vnd.docker.reference.type": "attestation-manifest",
        },
    )


def index(
    registry: RegistryProcess,
    repo: str,
    tag: str | None,
    entries: list[dict[str, Any]],
    *,
    annotations: dict[str, str] | None = None,
) -> tuple[str, int]:
    """An OCI index over ``entries`` (children already in ``repo``); (digest, size)."""
    document: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    if annotations:
        document["annotations"] = annotations
    body = json.dumps(document, sort_keys=True).encode()
    with registry_client() as client:
        digest = push_manifest(
            client, registry.url, repo, tag or sha256_digest(body), body, OCI_INDEX
        )
    return digest, len(body)


def index_entry(digest: str, size: int, where: dict[str, Any] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"mediaType": OCI_INDEX, "digest": digest, "size": size}
    if where:
        found["platform"] = where
    return found


# -- independent readers -------------------------------------------------------------------


def skopeo() -> str:
    found = shutil.which("skopeo")
    assert found, "skopeo not found: apt-get install -y skopeo"
    return found


def skopeo_raw(registry: RegistryProcess, repo: str, ref: str) -> bytes | None:
    """The manifest bytes as skopeo reads them; ``None`` when skopeo cannot read it."""
    sep = "@" if ref.startswith("sha256:") else ":"
    result = subprocess.run(
        [
            skopeo(),
            "inspect",
            "--raw",
            "--tls-verify=false",
            f"docker://{registry.host}/{repo}{sep}{ref}",
        ],
        capture_output=True,
        timeout=60,
    )
    return result.stdout if result.returncode == 0 else None


def skopeo_copy_one_platform(
    source: RegistryProcess, target: RegistryProcess, repo: str, tag: str, arch: str = "amd64"
) -> None:
    """What ``skopeo copy`` without ``--all`` makes: a single-platform copy."""
    subprocess.run(
        [
            skopeo(),
            "copy",
            "--override-os",
            "linux",
            "--override-arch",
            arch,
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            f"docker://{source.host}/{repo}:{tag}",
            f"docker://{target.host}/{repo}:{tag}",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def missing_content(registry: RegistryProcess, repo: str, ref: str) -> list[str]:
    """Walk the image at ``ref`` as skopeo reads it (manifests) and HEAD every blob:
    what is referenced but absent. Empty: every manifest and blob reads back."""
    absent: list[str] = []
    with httpx.Client(timeout=10.0) as client:

        def walk(reference: str, depth: int) -> None:
            body = skopeo_raw(registry, repo, reference)
            if body is None:
                absent.append(f"manifest {reference}")
                return
            if reference.startswith("sha256:"):
                assert sha256_digest(body) == reference, "skopeo read other bytes"
            document = json.loads(body)
            for child in document.get("manifests", []):
                assert depth < 10
                walk(child["digest"], depth + 1)
            for blob in [document.get("config"), *document.get("layers", [])]:
                if not blob:
                    continue
                url = f"{registry.url}/v2/{repo}/blobs/{blob['digest']}"
                if client.head(url).status_code != 200:
                    absent.append(f"blob {blob['digest']}")

        walk(ref, 0)
    return absent


def garbage_collect(registry: RegistryProcess) -> str:
    """Stop the registry, run ``docker-registry garbage-collect --delete-untagged`` on its
    storage, and start it again on the same storage (a new port). Returns GC's output."""
    registry.stop()
    config = registry.workdir / "config.yml"
    result = subprocess.run(
        ["docker-registry", "garbage-collect", "--delete-untagged", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    registry.start()
    return result.stdout + result.stderr


def head_manifest(registry: RegistryProcess, repo: str, ref: str) -> int:
    with httpx.Client(timeout=10.0) as client:
        url = f"{registry.url}/v2/{repo}/manifests/{ref}"
        return client.head(url, headers={"Accept": MANIFEST_ACCEPT}).status_code
