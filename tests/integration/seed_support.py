"""Seeding and reading local registries beyond ``devtools.localregistry``: an image of given
layer bytes whose descriptor may claim another size, and the digest a registry serves."""

from __future__ import annotations

import json

from devtools.localregistry import (
    DOCKER_MANIFEST,
    MANIFEST_ACCEPT,
    RegistryProcess,
    push_blob,
    push_manifest,
    registry_client,
    sha256_digest,
)

CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'


def push_layer_image(
    base_url: str, repo: str, tag: str, layer: bytes, *, size: int | None = None
) -> tuple[str, str]:
    """A one-layer Docker image of ``layer``; its descriptor says ``size`` bytes (default the
    real size: distribution does not check descriptor sizes on a manifest PUT).
    Returns (manifest digest, layer digest)."""
    with registry_client() as client:
        layer_digest = push_blob(client, base_url, repo, layer)
        config_digest = push_blob(client, base_url, repo, CONFIG)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": DOCKER_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "digest": config_digest,
                    "size": len(CONFIG),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        "digest": layer_digest,
                        "size": len(layer) if size is None else size,
                    }
                ],
            }
        ).encode()
        digest = push_manifest(client, base_url, repo, tag, manifest, DOCKER_MANIFEST)
    assert digest == sha256_digest(manifest)
    return digest, layer_digest


def served_digest(
    registry: RegistryProcess, repo: str, ref: str, auth: tuple[str, str] | None = None
) -> str | None:
    """The digest the registry serves for ``repo:ref`` (None: 404)."""
    with registry_client(auth) as client:
        response = client.head(
            f"{registry.url}/v2/{repo}/manifests/{ref}", headers={"Accept": MANIFEST_ACCEPT}
        )
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response
    return response.headers["Docker-Content-Digest"]
