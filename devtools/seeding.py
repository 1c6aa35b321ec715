"""Put images into a registry with plain synchronous httpx (deliberately not via inspector).

Real-registry rules these helpers respect:

* a manifest is PUT with ``Content-Type`` equal to its ``mediaType``;
* GETting/HEADing an OCI manifest or index needs the OCI types in ``Accept`` (distribution
  answers 404 MANIFEST_UNKNOWN otherwise), so ``MANIFEST_ACCEPT`` lists all four types;
* an index/manifest list may only reference manifests already in the same repository.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import io
import json
import re
import ssl
import tarfile
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MANIFEST_ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST])

# (os, architecture) or (os, architecture, variant)
Platform = tuple[str, str] | tuple[str, str, str]
# Credentials (user, password), a ready httpx.Auth, or None for anonymous.
AuthArg = tuple[str, str] | httpx.Auth | None


class SeedError(RuntimeError):
    """The registry refused a seeding request."""


class RegistryAuthError(RuntimeError):
    """The token endpoint named in a Bearer challenge refused us."""


@dataclass(frozen=True)
class PushedImage:
    repo: str
    tag: str | None  # None: pushed by digest only (e.g. an index child)
    digest: str  # sha256 of ``manifest``
    media_type: str
    manifest: bytes
    config_digest: str
    layer_digests: tuple[str, ...]
    platform: Platform


@dataclass(frozen=True)
class PushedIndex:
    repo: str
    tag: str | None
    digest: str
    media_type: str
    manifest: bytes
    children: tuple[PushedImage, ...]


class RegistryAuth(httpx.Auth):
    """Answer registry 401 challenges the way docker/oras clients do.

    ``Basic`` challenges get the credentials; ``Bearer`` challenges trigger a token request to
    the challenge's realm (with the credentials as Basic auth, if any) for exactly the scope the
    registry asked for. The last Authorization header is reused preemptively; a fresh 401 (e.g.
    a pull token used for a push) simply fetches a new token.
    """

    requires_response_body = True

    def __init__(self, username: str | None = None, password: str | None = None) -> None:
        self._basic: str | None = None
        if username is not None and password is not None:
            pair = f"{username}:{password}".encode()
            self._basic = "Basic " + base64.b64encode(pair).decode("ascii")
        self._authorization: str | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._authorization is not None:
            request.headers["Authorization"] = self._authorization
        response = yield request
        if response.status_code != 401:
            return
        scheme, params = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "basic" and self._basic is not None:
            self._authorization = self._basic
        elif scheme == "bearer" and "realm" in params:
            token_response = yield self._token_request(params)
            if token_response.status_code != 200:
                raise RegistryAuthError(
                    f"token request to {params['realm']} failed: "
                    f"{token_response.status_code} {token_response.text}"
                )
            body = token_response.json()
            self._authorization = f"Bearer {body.get('token') or body['access_token']}"
        else:
            return
        request.headers["Authorization"] = self._authorization
        yield request

    def _token_request(self, params: dict[str, str]) -> httpx.Request:
        query: dict[str, str] = {key: params[key] for key in ("service", "scope") if key in params}
        headers = {"Authorization": self._basic} if self._basic is not None else {}
        return httpx.Request("GET", params["realm"], params=query, headers=headers)


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="r",scope="repository:a:pull,push"`` -> ("bearer", {...}).

    Values are quoted and may contain commas, hence a regex instead of ``split(",")``.
    """
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(re.findall(r'(\w+)="([^"]*)"', rest))


def registry_client(auth: AuthArg = None) -> httpx.Client:
    """An httpx client for seeding; a (user, password) pair handles Basic and Bearer registries."""
    if isinstance(auth, tuple):
        auth = RegistryAuth(*auth)
    return httpx.Client(auth=auth or RegistryAuth(), timeout=10.0, verify=_ssl_context())


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # httpx loads the CA bundle anew for every Client (~35 ms); every helper makes a client.
    return ssl.create_default_context()


def trust(ca_file: str) -> None:
    """Also trust ``ca_file`` when seeding (a TLS test registry's own CA), from now on."""
    _ssl_context().load_verify_locations(cafile=ca_file)


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(client: httpx.Client, base_url: str, repo: str, data: bytes) -> str:
    """Monolithic upload (POST then PUT ?digest=); skipped if the blob is already there."""
    digest = sha256_digest(data)
    if client.head(f"{base_url}/v2/{repo}/blobs/{digest}").status_code == 200:
        return digest
    started = _expect(client.post(f"{base_url}/v2/{repo}/blobs/uploads/"), 202)
    # Location may be absolute or relative and already carries query state (_state=...).
    location = httpx.URL(base_url).join(started.headers["Location"])
    _expect(
        client.put(
            location.copy_merge_params({"digest": digest}),
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        ),
        201,
    )
    return digest


def push_manifest(
    client: httpx.Client, base_url: str, repo: str, ref: str, body: bytes, media_type: str
) -> str:
    """PUT a manifest under ``ref`` (tag or digest); returns its digest."""
    digest = sha256_digest(body)
    response = _expect(
        client.put(
            f"{base_url}/v2/{repo}/manifests/{ref}",
            content=body,
            headers={"Content-Type": media_type},
        ),
        201,
    )
    if response.headers.get("Docker-Content-Digest") != digest:
        raise SeedError(f"registry stored {repo}@{digest} under a different digest: {response}")
    return digest


def push_image(
    base_url: str,
    repo: str,
    tag: str | None,
    *,
    oci: bool = False,
    layer_seed: str = "layer",
    labels: dict[str, str] | None = None,
    platform: Platform = ("linux", "amd64"),
    auth: AuthArg = None,
) -> PushedImage:
    """Push a one-layer image; same arguments give the same digests."""
    layer = _layer_tar_gz(layer_seed)
    os_name, arch, *variant = platform
    config: dict[str, Any] = {
        "architecture": arch,
        "os": os_name,
        "config": {"Labels": dict(labels or {})},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(gzip.decompress(layer))]},
    }
    if variant:
        config["variant"] = variant[0]
    config_bytes = _json_bytes(config)
    media_type = OCI_MANIFEST if oci else DOCKER_MANIFEST
    with registry_client(auth) as client:
        layer_digest = push_blob(client, base_url, repo, layer)
        config_digest = push_blob(client, base_url, repo, config_bytes)
        manifest = _json_bytes(
            {
                "schemaVersion": 2,
                "mediaType": media_type,
                "config": _descriptor(OCI_CONFIG if oci else DOCKER_CONFIG, config_bytes),
                "layers": [_descriptor(OCI_LAYER if oci else DOCKER_LAYER, layer)],
            }
        )
        digest = sha256_digest(manifest)
        push_manifest(client, base_url, repo, tag or digest, manifest, media_type)
    return PushedImage(
        repo=repo,
        tag=tag,
        digest=digest,
        media_type=media_type,
        manifest=manifest,
        config_digest=config_digest,
        layer_digests=(layer_digest,),
        platform=platform,
    )


def push_index(
    base_url: str,
    repo: str,
    tag: str | None,
    children: Sequence[PushedImage],
    *,
    oci: bool = True,
    auth: AuthArg = None,
) -> PushedIndex:
    """Push an OCI index (or a Docker manifest list) over ``children`` already in ``repo``."""
    if any(child.repo != repo for child in children):
        raise ValueError("index children must already be pushed to the same repository")
    media_type = OCI_INDEX if oci else DOCKER_MANIFEST_LIST
    manifests: list[dict[str, Any]] = []
    for child in children:
        os_name, arch, *variant = child.platform
        platform = {"architecture": arch, "os": os_name}
        if variant:
            platform["variant"] = variant[0]
        manifests.append({**_descriptor(child.media_type, child.manifest), "platform": platform})
    body = _json_bytes({"schemaVersion": 2, "mediaType": media_type, "manifests": manifests})
    digest = sha256_digest(body)
    with registry_client(auth) as client:
        push_manifest(client, base_url, repo, tag or digest, body, media_type)
    return PushedIndex(repo, tag, digest, media_type, body, tuple(children))


def retag(base_url: str, repo: str, src_ref: str, new_tag: str, *, auth: AuthArg = None) -> str:
    """Give an existing manifest another tag (byte-identical, so same digest); returns it."""
    with registry_client(auth) as client:
        response = _expect(
            client.get(
                f"{base_url}/v2/{repo}/manifests/{src_ref}", headers={"Accept": MANIFEST_ACCEPT}
            ),
            200,
        )
        media_type = response.headers["Content-Type"]
        return push_manifest(client, base_url, repo, new_tag, response.content, media_type)


def delete_manifest(base_url: str, repo: str, digest: str, *, auth: AuthArg = None) -> None:
    """Delete by digest (distribution refuses DELETE by tag); all tags on it disappear."""
    with registry_client(auth) as client:
        _expect(client.delete(f"{base_url}/v2/{repo}/manifests/{digest}"), 202)


def delete_blob(base_url: str, repo: str, digest: str, *, auth: AuthArg = None) -> None:
    """Unlink a blob from ``repo`` (e.g. to fake a mirror that lost a layer)."""
    with registry_client(auth) as client:
        _expect(client.delete(f"{base_url}/v2/{repo}/blobs/{digest}"), 202)


def _expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        request = response.request
        raise SeedError(
            f"{request.method} {request.url}: expected {status}, got {response.status_code} "
            f"{response.text[:500]}"
        )
    return response


def _descriptor(media_type: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256_digest(data), "size": len(data)}


def _json_bytes(value: dict[str, Any]) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True).encode()


def _layer_tar_gz(seed: str) -> bytes:
    """A real gzip'd tar with one file; fixed mtimes/owners make it a pure function of seed."""
    content = f"layer seed: {seed}\n".encode()
    info = tarfile.TarInfo("seed.txt")
    info.size = len(content)
    info.mtime = 0
    info.mode = 0o644
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(content))
    return gzip.compress(buffer.getvalue(), mtime=0)
