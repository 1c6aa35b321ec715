"""Push cosign-shaped signatures, attestations and SBOMs, and OCI 1.1 referrers, the way
cosign and oras lay them out (no cosign binary: the layout is public and simple).

* cosign signature: tag ``sha256-<hex>.sig``, an OCI manifest whose layers are
  ``application/vnd.dev.cosign.simplesigning.v1+json`` payloads, each signature in the
  layer annotation ``dev.cosignproject.cosign/signature``;
* cosign attestation: tag ``sha256-<hex>.att``, layers ``application/vnd.dsse.envelope.v1+json``
  (a DSSE envelope around an in-toto statement), annotation ``predicateType``;
* cosign SBOM: tag ``sha256-<hex>.sbom``, one ``text/spdx+json`` layer;
* OCI 1.1 referrer: a manifest with ``artifactType`` and ``subject``, pushed by digest, and,
  because distribution 2.8.2 has no referrers API, listed in the index under the fallback tag
  ``sha256-<hex>`` — merged into what is there, as every client must.

The signatures are not cryptographically valid: only the registry layout matters here.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import httpx

from devtools.seeding import (
    MANIFEST_ACCEPT,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    AuthArg,
    push_blob,
    push_manifest,
    registry_client,
    sha256_digest,
)

SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE = "application/vnd.dsse.envelope.v1+json"
SPDX = "text/spdx+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
EMPTY = "application/vnd.oci.empty.v1+json"
EMPTY_BLOB = b"{}"


@dataclass(frozen=True)
class PushedArtifact:
    repo: str
    tag: str | None  # the cosign tag; None for a referrer (pushed by digest)
    digest: str
    manifest: bytes
    blob_digests: tuple[str, ...]
    artifact_type: str | None = None


def tag_for(digest: str, suffix: str = "") -> str:
    """``sha256:abc…`` -> ``sha256-abc….sig`` (cosign) or ``sha256-abc…`` (fallback tag)."""
    algorithm, _, hexdigest = digest.partition(":")
    return f"{algorithm}-{hexdigest}{'.' + suffix if suffix else ''}"


def _bytes(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def _descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256_digest(data), "size": len(data), **extra}


def _push_manifest_with(
    client: httpx.Client,
    base_url: str,
    repo: str,
    ref: str | None,
    config: tuple[str, bytes],
    layers: list[tuple[str, bytes, dict[str, str]]],
    **fields: Any,
) -> tuple[str, bytes, tuple[str, ...]]:
    blobs = [push_blob(client, base_url, repo, config[1])]
    descriptors = []
    for media_type, data, notes in layers:
        blobs.append(push_blob(client, base_url, repo, data))
        extra = {"annotations": notes} if notes else {}
        descriptors.append(_descriptor(media_type, data, **extra))
    manifest = _bytes(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": _descriptor(*config),
            "layers": descriptors,
            **fields,
        }
    )
    digest = sha256_digest(manifest)
    push_manifest(client, base_url, repo, ref or digest, manifest, OCI_MANIFEST)
    return digest, manifest, tuple(blobs)


def _cosign_config(seed: str) -> tuple[str, bytes]:
    return OCI_CONFIG, _bytes(
        {"architecture": "", "os": "", "config": {}, "rootfs": {"type": "layers", "diff_ids": []}}
        | ({"created": f"2026-01-01T00:00:00Z/{seed}"} if seed else {})
    )


def push_signature(
    base_url: str,
    repo: str,
    subject: str,
    *,
    identity: str = "registry.example.com/example/run",
    signatures: int = 1,
    seed: str = "sig",
    auth: AuthArg = None,
) -> PushedArtifact:
    """``sha256-<hex>.sig`` for ``subject`` with ``signatures`` simplesigning layers."""
    layers = []
    for number in range(signatures):
        payload = _bytes(
            {
                "critical": {
                    "identity": {"docker-reference": identity},
                    "image": {"docker-manifest-digest": subject},
                    "type": "cosign container image signature",
                },
                "optional": {"seed": f"{seed}-{number}"},
            }
        )
        signature = base64.b64encode(f"MEUCIQ-{seed}-{number}".encode()).decode()
        layers.append((SIMPLESIGNING, payload, {SIGNATURE_ANNOTATION: signature}))
    tag = tag_for(subject, "sig")
    with registry_client(auth) as client:
        digest, manifest, blobs = _push_manifest_with(
            client, base_url, repo, tag, _cosign_config(seed), layers
        )
    return PushedArtifact(repo, tag, digest, manifest, blobs)


def push_attestation(
    base_url: str,
    repo: str,
    subject: str,
    *,
    predicate_type: str = "https://slsa.dev/provenance/v1",
    seed: str = "att",
    auth: AuthArg = None,
) -> PushedArtifact:
    """``sha256-<hex>.att``: one DSSE envelope around an in-toto statement."""
    statement = _bytes(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": repo, "digest": {"sha256": subject.partition(":")[2]}}],
            "predicateType": predicate_type,
            "predicate": {"seed": seed},
        }
    )
    envelope = _bytes(
        {
            "payloadType": "application/vnd.in-toto+json",
            "payload": base64.b64encode(statement).decode(),
            "signatures": [{"keyid": "", "sig": base64.b64encode(seed.encode()).decode()}],
        }
    )
    tag = tag_for(subject, "att")
    with registry_client(auth) as client:
        digest, manifest, blobs = _push_manifest_with(
            client,
            base_url,
            repo,
            tag,
            _cosign_config(seed),
            [(DSSE, envelope, {"predicateType": predicate_type})],
        )
    return PushedArtifact(repo, tag, digest, manifest, blobs)


def push_sbom(
    base_url: str, repo: str, subject: str, *, seed: str = "sbom", auth: AuthArg = None
) -> PushedArtifact:
    """``sha256-<hex>.sbom``: one SPDX document (``cosign attach sbom``)."""
    document = _bytes({"spdxVersion": "SPDX-2.3", "name": seed, "SPDXID": "SPDXRef-DOCUMENT"})
    tag = tag_for(subject, "sbom")
    with registry_client(auth) as client:
        digest, manifest, blobs = _push_manifest_with(
            client, base_url, repo, tag, _cosign_config(seed), [(SPDX, document, {})]
        )
    return PushedArtifact(repo, tag, digest, manifest, blobs)


def push_referrer(
    base_url: str,
    repo: str,
    subject: tuple[str, str, int],
    *,
    artifact_type: str = "application/spdx+json",
    seed: str = "referrer",
    fallback: bool = True,
    auth: AuthArg = None,
) -> PushedArtifact:
    """An OCI 1.1 artifact whose ``subject`` is ``(digest, media type, size)``, pushed by
    digest; with ``fallback`` also added to the index under the tag ``sha256-<hex>``."""
    digest_of_subject, subject_type, subject_size = subject
    content = _bytes({"seed": seed, "artifactType": artifact_type})
    with registry_client(auth) as client:
        digest, manifest, blobs = _push_manifest_with(
            client,
            base_url,
            repo,
            None,
            (EMPTY, EMPTY_BLOB),
            [(artifact_type, content, {})],
            artifactType=artifact_type,
            subject={
                "mediaType": subject_type,
                "digest": digest_of_subject,
                "size": subject_size,
            },
            annotations={"org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
        )
        if fallback:
            entry = {
                "mediaType": OCI_MANIFEST,
                "digest": digest,
                "size": len(manifest),
                "artifactType": artifact_type,
            }
            merge_fallback(client, base_url, repo, digest_of_subject, [entry])
    return PushedArtifact(repo, None, digest, manifest, blobs, artifact_type)


def fallback_index(base_url: str, repo: str, subject: str) -> dict[str, Any] | None:
    """The index under ``sha256-<hex>`` (None: no such tag)."""
    with registry_client() as client:
        response = client.get(
            f"{base_url}/v2/{repo}/manifests/{tag_for(subject)}",
            headers={"Accept": MANIFEST_ACCEPT},
        )
    if response.status_code == 404:
        return None
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def merge_fallback(
    client: httpx.Client,
    base_url: str,
    repo: str,
    subject: str,
    entries: list[dict[str, Any]],
) -> str:
    """Add ``entries`` to the fallback index of ``subject`` (creating it); returns its digest."""
    tag = tag_for(subject)
    response = client.get(
        f"{base_url}/v2/{repo}/manifests/{tag}", headers={"Accept": MANIFEST_ACCEPT}
    )
    if response.status_code == 200:
        index = response.json()
    else:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    listed = {entry["digest"] for entry in index["manifests"]}
    index["manifests"] += [entry for entry in entries if entry["digest"] not in listed]
    return push_manifest(client, base_url, repo, tag, _bytes(index), OCI_INDEX)


def image_subject(manifest: bytes, media_type: str) -> tuple[str, str, int]:
    """(digest, media type, size) of a pushed image, as a ``subject`` descriptor wants."""
    return sha256_digest(manifest), media_type, len(manifest)
