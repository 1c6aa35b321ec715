"""Per-registry transport settings: where requests for a logical registry name really go.

An image keeps its logical name (``registry.example.com/example/run``) everywhere; only
the transport consults this table. ``docker.io``, ``index.docker.io`` and
``registry-1.docker.io`` all name Docker Hub here, whose API lives at
``registry-1.docker.io``.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from inspector import toml_file
from inspector.errors import ConfigError
from inspector.reference import DOCKER_HUB_ENDPOINT, DOCKER_HUB_HOSTS
from inspector.registry.ports import url_port_problem

WHAT = "registry config"
KEYS = ("endpoint", "ca-file", "insecure")
TOP_LEVEL = ("registries",)
# host[:port] or [ipv6][:port], as a reference's registry component spells it.
_REGISTRY_NAME = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?"
)
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


@functools.lru_cache(maxsize=256)  # asked for every request's host
def is_loopback_host(host: str) -> bool:
    """``localhost``, ``127.0.0.0/8`` or ``::1`` (brackets and port allowed; a bare ``::1``,
    as ``httpx.URL.host`` spells it, too)."""
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        pass
    try:
        hostname = httpx.URL(host if "://" in host else f"http://{host}").host
    except (httpx.InvalidURL, ValueError):
        return False
    if hostname.rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _address(hostname: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host name literally spells, as the system resolver reads it: besides
    the usual forms, ``127.1``, ``2130706433`` and ``0x7f.0.0.1`` are IPv4 literals to
    ``getaddrinfo`` (inet_aton), so an SSRF check must read them the same way."""
    text = hostname.strip("[]").rstrip(".")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        if not text or not all(c in "0123456789abcdefxABCDEFX." for c in text):
            return None
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_private_host(hostname: str) -> bool:
    """Any address that is not global — loopback, private, link-local (cloud metadata),
    shared, reserved, ``0.0.0.0`` (which reaches loopback) — or a ``localhost`` name: a
    token realm there may be an SSRF. Other names are not resolved: a public name that
    points at a private address is not caught (go-containerregistry draws the same line)."""
    name = hostname.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = _address(name)
    return address is not None and not address.is_global


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


def _redacted(url: str) -> str:
    """``url`` fit for an error message: user information (a password) hidden."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{path}"


def _check_endpoint(url: str, where: str) -> str:
    shown = repr(_redacted(url))
    try:
        parsed = httpx.URL(url)
        host = parsed.host  # decoded lazily: a malformed IDNA label raises only here
    except (httpx.InvalidURL, ValueError):  # idna's errors are ValueErrors
        raise ConfigError(f"{where}: invalid endpoint URL {shown}") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise ConfigError(f"{where}: endpoint {shown} must be an http:// or https:// URL")
    port_problem = url_port_problem(url)
    if port_problem:
        raise ConfigError(f"{where}: endpoint {shown}: {port_problem}")
    if parsed.userinfo:
        # Credentials belong in docker's config, where they are looked up per registry.
        raise ConfigError(f"{where}: endpoint {shown} must not contain credentials")
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        # The registry API lives at /v2/ on the host: a path would be silently ignored.
        raise ConfigError(f"{where}: endpoint {shown} must be scheme://host[:port] only")
    return url


def _is_file(path: str) -> bool:
    try:
        return Path(path).is_file()
    except (OSError, ValueError):  # e.g. a NUL byte in the name
        return False


def _is_registry_name(name: str) -> bool:
    found = _REGISTRY_NAME.fullmatch(name)
    port = found.group("port") if found else None
    return found is not None and (port is None or 1 <= int(port) <= 65535)


def _no_unknown(table: Mapping[str, object], known: tuple[str, ...], where: str, what: str) -> None:
    """Every key of ``table`` is one of ``known``: a misspelt table or key (``[registry]``
    for ``[registries]``) would be ignored silently and end in misleading DNS errors."""
    unknown = [key for key in table if key not in known]
    if unknown:
        close = difflib.get_close_matches(unknown[0], known, n=1, cutoff=0.6)
        meant = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"{where}: unknown {what} {unknown[0]!r} (expected {', '.join(known)}){meant}"
        )


def load(path: str | Path | None, overrides: Iterable[str] = ()) -> RegistryHosts:
    """The registry config file (optional) plus ``--endpoint REGISTRY=URL`` overrides."""
    hosts: dict[str, HostConfig] = {}
    if path is not None:
        where = f"{WHAT} {str(path)!r}"
        document = toml_file.Fields(toml_file.load(Path(path), WHAT), where)
        _no_unknown(document.table, TOP_LEVEL, where, "top-level key")
        registries = document.table_of("registries")
        for name in registries.table if registries else {}:
            assert registries is not None
            if not _is_registry_name(name):
                raise ConfigError(
                    f"{registries.where}: {name!r} is not a registry name (host[:port])"
                )
            entry = registries.table_of(name)
            assert entry is not None
            _no_unknown(entry.table, KEYS, entry.where, "key")
            endpoint = entry.string("endpoint")
            ca_file = entry.string("ca-file")
            if ca_file is not None and not _is_file(ca_file):
                raise ConfigError(f"{entry.where}: ca-file {ca_file!r}: no such file")
            hosts[canonical(name)] = HostConfig(
                endpoint=_check_endpoint(endpoint, entry.where) if endpoint else None,
                ca_file=ca_file,
                insecure=bool(entry.boolean("insecure")),
            )
    for override in overrides:
        name, equals, url = override.partition("=")
        shown = f"--endpoint {_redacted(override)!r}"
        if not equals or not name or not url:
            raise ConfigError(f"{shown}: expected REGISTRY=URL")
        if not _is_registry_name(name):
            raise ConfigError(f"{shown}: {name!r} is not a registry name (host[:port])")
        previous = hosts.get(canonical(name), HostConfig())
        hosts[canonical(name)] = HostConfig(
            endpoint=_check_endpoint(url, shown),
            ca_file=previous.ca_file,
            insecure=previous.insecure,
        )
    return RegistryHosts(hosts)
