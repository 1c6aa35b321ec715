"""An image's config read straight from its registry: manifest → platform → config blob.

Shared by builder images (``io.buildpacks.builder.metadata``) and app images
(``io.buildpacks.lifecycle.metadata``). No Docker daemon: one manifest GET (two for an
index), one blob GET. The config blob is capped and its digest verified, so a registry
cannot feed us a different or endless document. Every failure is a :class:`ConfigError`
naming the image; labels hold JSON written by others, so :class:`JsonObject` reads it with
a type check at every step (a wrong type is an error, never a crash).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from inspector.reference import Reference
from inspector.registry.client import (
    CEILING_FACTOR,
    DOCKER_SCHEMA1,
    DOCKER_SCHEMA1_SIGNED,
    RegistryClient,
    RegistryError,
    read_capped,
)
from inspector.registry.model import Status
from inspector.sources.model import ConfigError

DEFAULT_PLATFORM = "linux/amd64"
MAX_CONFIG_BYTES = 8 * 1024 * 1024  # real configs are a few KiB; builders' labels tens of KiB
_DIGEST = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
_PLATFORM_PART = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """What the registry holds for one platform of an image.

    ``digest`` is what the reference serves (the index digest for a multi-platform
    image); ``manifest_digest`` is the chosen platform's manifest. ``platform`` is
    ``os/arch[/variant]`` from the config itself.
    """

    reference: Reference
    digest: str
    manifest_digest: str
    config_digest: str
    platform: str
    labels: dict[str, str] = field(default_factory=dict)
    diff_ids: tuple[str, ...] = ()
    is_index: bool = False
    platforms: tuple[str, ...] = ()  # every platform of the index, for messages

    @property
    def top_layer(self) -> str | None:
        """The uncompressed digest of the top layer (lifecycle's ``topLayer``)."""
        return self.diff_ids[-1] if self.diff_ids else None


def check_platform(text: str) -> str:
    """``os/arch[/variant]``, or a ConfigError naming the value."""
    parts = text.split("/")
    if not 2 <= len(parts) <= 3 or not all(_PLATFORM_PART.match(p) for p in parts):
        raise ConfigError(f"invalid platform {text!r}: want os/arch[/variant], e.g. linux/amd64")
    return text


def pick_platform(available: dict[str, str], wanted: str) -> str | None:
    """The key of ``available`` that serves ``wanted``, containerd-style: exact first;
    a wanted platform without variant takes the first child of that os/arch; ``arm64``
    and ``arm64/v8`` are the same platform."""
    if wanted in available:
        return wanted
    os_name, arch, *variant = wanted.split("/")
    os_arch = f"{os_name}/{arch}"
    if not variant:
        same = [key for key in available if key.startswith(os_arch + "/")]
        return same[0] if same else None
    if arch == "arm64" and variant == ["v8"] and os_arch in available:
        return os_arch
    return None


def _error(what: str, ref: Reference, detail: str) -> ConfigError:
    return ConfigError(f"{what} {ref.original!r}: {detail}")


def _registry_detail(error: RegistryError) -> str:
    if error.status is Status.MISSING:
        return f"not found ({error.detail})"
    if error.status is Status.UNAUTHORIZED:
        return f"access denied ({error.detail}); check your docker credentials"
    return f"{error.status.value}: {error.detail}"


async def fetch(
    client: RegistryClient,
    ref: Reference,
    platform: str = DEFAULT_PLATFORM,
    *,
    what: str = "image",
    identifier: str | None = None,
) -> ImageConfig:
    """The config of ``ref`` (``identifier`` overrides its tag/digest) for ``platform``."""
    check_platform(platform)
    try:
        top = await client.get_manifest(ref, identifier)
        index_platforms: tuple[str, ...] = ()
        manifest = top
        if top.is_index:
            available = top.platforms()
            index_platforms = tuple(available)
            key = pick_platform(available, platform)
            if key is None:
                listed = ", ".join(sorted(available)) or "none"
                raise _error(what, ref, f"no {platform} image in the index (has: {listed})")
            manifest = await client.get_manifest(ref, available[key])
            if manifest.is_index:
                raise _error(what, ref, f"the {key} entry is itself an index")
        if manifest.media_type in (DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED):
            raise _error(what, ref, "schema 1 manifest (no config blob); push it as schema 2/OCI")
        config_digest = _config_digest(manifest.json(), what, ref)
        body = await _get_blob(client, ref, config_digest, what)
    except RegistryError as error:
        raise _error(what, ref, _registry_detail(error)) from None
    return _parse_config(
        body,
        ImageConfig(
            reference=ref,
            digest=top.digest,
            manifest_digest=manifest.digest,
            config_digest=config_digest,
            platform="",
            is_index=top.is_index,
            platforms=index_platforms,
        ),
        what,
    )


def _config_digest(document: Any, what: str, ref: Reference) -> str:
    config = document.get("config") if isinstance(document, dict) else None
    digest = config.get("digest") if isinstance(config, dict) else None
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise _error(what, ref, "manifest has no valid config descriptor")
    size = config.get("size") if isinstance(config, dict) else None
    if isinstance(size, int) and size > MAX_CONFIG_BYTES:
        raise _error(what, ref, f"config blob of {size} bytes exceeds {MAX_CONFIG_BYTES}")
    return digest


async def _get_blob(client: RegistryClient, ref: Reference, digest: str, what: str) -> bytes:
    response = await client.request(
        ref.registry,
        "GET",
        f"/v2/{ref.repository}/blobs/{digest}",
        stream=True,
        kind="blob GET",
        repository=ref.repository,
    )
    try:
        if response.status_code != 200:
            error = await RegistryError.from_response(response)
            raise _error(what, ref, f"config blob {digest}: {_registry_detail(error)}")
        # Cut like a manifest body: a registry trickling a byte at a time gets the same
        # per-request ceiling (each read alone would pass --timeout).
        ceiling = client.timeout * CEILING_FACTOR
        try:
            async with asyncio.timeout(ceiling):
                body = await read_capped(response, MAX_CONFIG_BYTES, "config blob")
        except RegistryError as error:
            raise _error(what, ref, error.detail) from None
        except TimeoutError:
            raise _error(
                what, ref, f"timed out: config blob not complete in {ceiling:g} s"
            ) from None
    finally:
        await response.aclose()
    algorithm, _, expected = digest.partition(":")
    if hashlib.new(algorithm, body).hexdigest() != expected:
        raise _error(what, ref, f"config blob does not hash to {digest}")
    return body


def _parse_config(body: bytes, partial: ImageConfig, what: str) -> ImageConfig:
    where = f"{what} {partial.reference.original!r}: config blob"
    document = JsonObject.parse(body, where)
    inner = document.object("config")
    labels: dict[str, str] = {}
    if inner is not None:
        raw = inner.object("Labels")
        if raw is not None:
            for key, value in raw.value.items():
                if value is None:  # Go decodes null into a map[string]string as ""
                    value = ""
                if not isinstance(value, str):
                    raise ConfigError(f"{raw.where}: label {key!r} must be a string")
                labels[well_formed(key)] = well_formed(value)
    rootfs = document.object("rootfs")
    diff_ids = rootfs.strings("diff_ids") if rootfs is not None else ()
    os_name, arch = document.string("os"), document.string("architecture")
    variant = document.string("variant")
    platform = "/".join(p for p in (os_name, arch, variant) if p)
    return ImageConfig(
        reference=partial.reference,
        digest=partial.digest,
        manifest_digest=partial.manifest_digest,
        config_digest=partial.config_digest,
        platform=platform,
        labels=labels,
        diff_ids=diff_ids,
        is_index=partial.is_index,
        platforms=partial.platforms,
    )


# -- JSON written by others ------------------------------------------------------------------


def well_formed(text: str) -> str:
    """``text`` with every lone surrogate (JSON's ``"\\ud800"``, which no encoder writes
    out) replaced by U+FFFD; surrogate pairs become the character they spell, as in Go."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


class JsonObject:
    """Typed reads from one JSON object, as Go's ``encoding/json`` would decode it into a
    struct: a missing key or ``null`` is the zero value, any other wrong type is an error
    whose message names ``where`` and the key."""

    def __init__(self, value: dict[str, Any], where: str) -> None:
        self.value = value
        self.where = where

    @classmethod
    def parse(cls, text: str | bytes, where: str) -> JsonObject:
        try:
            document = json.loads(text)
        except (ValueError, RecursionError) as error:
            detail = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deeply"
            raise ConfigError(f"{where}: invalid JSON ({detail})") from None
        if not isinstance(document, dict):
            raise ConfigError(f"{where}: must be a JSON object, not {_json_type(document)}")
        return cls(document, where)

    def _wrong(self, key: str, want: str) -> ConfigError:
        return ConfigError(f"{self.where}: {key} must be {want}, not {_json_type(self.value[key])}")

    def string(self, key: str) -> str:
        value = self.value.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self._wrong(key, "a string")
        return well_formed(value)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.value.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._wrong(key, "an array of strings")
        return tuple(well_formed(item) for item in value)

    def object(self, key: str) -> JsonObject | None:
        value = self.value.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._wrong(key, "an object")
        return JsonObject(value, f"{self.where}: {key}")

    def objects(self, key: str) -> list[JsonObject]:
        value = self.value.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self._wrong(key, "an array of objects")
        return [JsonObject(item, f"{self.where}: {key}[{i}]") for i, item in enumerate(value)]
