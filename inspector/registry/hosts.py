"""Per-registry transport settings: where requests for a logical registry name really go.

An image keeps its logical name (``registry.example.com/example/run``) everywhere; only
the transport consults this table. ``docker.io``, ``index.docker.io`` and
``registry-1.docker.io`` all name Docker Hub here, whose API lives at
``registry-1.docker.io``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from inspector.reference import DOCKER_HUB_ENDPOINT, DOCKER_HUB_HOSTS
from inspector.sources import toml_file
from inspector.sources.model import ConfigError

WHAT = "registry config"
HUB_KEY = "index.docker.io"  # the key Docker Hub settings are stored under


@dataclass(frozen=True, slots=True)
class HostConfig:
    """How to reach one registry. ``endpoint`` is a URL with scheme, or ``None``."""

    endpoint: str | None = None
    ca_file: str | None = None
    insecure: bool = False


def canonical(registry: str) -> str:
    """Docker Hub's aliases share one settings entry."""
    return HUB_KEY if registry in DOCKER_HUB_HOSTS else registry


def is_loopback_host(host: str) -> bool:
    """``localhost``, ``127.0.0.0/8`` or ``::1`` (brackets and port allowed)."""
    hostname = httpx.URL(f"http://{host}").host if "://" not in host else httpx.URL(host).host
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def is_private_host(hostname: str) -> bool:
    """Loopback, link-local or private addresses (a token realm there may be an SSRF)."""
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(hostname.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local or address.is_reserved


@dataclass(frozen=True, slots=True)
class RegistryHosts:
    """The settings table, keyed by canonical registry name."""

    hosts: Mapping[str, HostConfig]

    def config(self, registry: str) -> HostConfig:
        return self.hosts.get(canonical(registry), HostConfig())

    def base_urls(self, registry: str) -> list[str]:
        """URLs to try in order: an endpoint as given; else HTTPS, then plain HTTP for
        loopback only (as docker does)."""
        host = self.config(registry)
        if host.endpoint:
            return [host.endpoint.rstrip("/")]
        target = DOCKER_HUB_ENDPOINT if registry in DOCKER_HUB_HOSTS else registry
        urls = [f"https://{target}"]
        if is_loopback_host(target):
            urls.append(f"http://{target}")
        return urls


def _check_endpoint(url: str, where: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise ConfigError(f"{where}: invalid endpoint {url!r}: {error}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"{where}: endpoint {url!r} must be an http:// or https:// URL")
    return url


def load(path: str | Path | None, overrides: Iterable[str] = ()) -> RegistryHosts:
    """The registry config file (optional) plus ``--endpoint REGISTRY=URL`` overrides."""
    hosts: dict[str, HostConfig] = {}
    if path is not None:
        where = f"{WHAT} {str(path)!r}"
        document = toml_file.Fields(toml_file.load(Path(path), WHAT), where)
        registries = document.table_of("registries")
        for name in registries.table if registries else {}:
            assert registries is not None
            entry = registries.table_of(name)
            assert entry is not None
            endpoint = entry.string("endpoint")
            ca_file = entry.string("ca-file")
            if ca_file is not None and not Path(ca_file).is_file():
                raise ConfigError(f"{entry.where}: ca-file {ca_file!r}: no such file")
            hosts[canonical(name)] = HostConfig(
                endpoint=_check_endpoint(endpoint, entry.where) if endpoint else None,
                ca_file=ca_file,
                insecure=bool(entry.boolean("insecure")),
            )
    for override in overrides:
        name, equals, url = override.partition("=")
        if not equals or not name or not url:
            raise ConfigError(f"--endpoint {override!r}: expected REGISTRY=URL")
        previous = hosts.get(canonical(name), HostConfig())
        hosts[canonical(name)] = HostConfig(
            endpoint=_check_endpoint(url, f"--endpoint {override!r}"),
            ca_file=previous.ca_file,
            insecure=previous.insecure,
        )
    return RegistryHosts(hosts)
