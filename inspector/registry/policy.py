"""Where requests and credentials may go: plain-HTTP rules, credentials kept on their
origin, and the token realm (named by the registry, so untrusted) checked on every hop.

* Plain HTTP only to loopback or an ``http://`` endpoint the user configured, so a
  redirect (or a token realm) cannot downgrade a request to another host
  (:class:`PlainHttpPolicy`, an httpx request hook: it sees redirects and token requests).
* Credentials and tokens travel over HTTPS, or plain HTTP only to loopback
  (:func:`may_send_secret`), and only to the registry's own origin (:func:`same_origin`).
* A token realm must be HTTPS unless the registry itself is plain HTTP, and may not point
  at a loopback or private address unless the registry does too (go-containerregistry
  fixed this SSRF); a token request that carries a secret in its body (an identity token
  POST) never follows a redirect to another origin (:func:`check_token_request`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from inspector.registry.errors import TOKEN_REQUEST, AuthError, RegistryError
from inspector.registry.hosts import RegistryHosts, canonical, is_loopback_host, is_private_host
from inspector.registry.model import Status

log = logging.getLogger("inspector.registry")

OriginKey = tuple[str, str, int | None]


def origin_key(url: httpx.URL) -> OriginKey:
    """Scheme, host and port with the scheme's default port spelled out."""
    return url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme)


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return origin_key(a) == origin_key(b)


def may_send_secret(url: httpx.URL) -> bool:
    """Credentials travel over HTTPS, or plain HTTP only to loopback."""
    return url.scheme == "https" or is_loopback_host(str(url.host))


class PlainHttpPolicy:
    """The request hook that refuses plain HTTP except where the user allowed it."""

    def __init__(self, hosts: RegistryHosts) -> None:
        origins = set()
        for host in hosts.hosts.values():
            if host.endpoint and host.endpoint.startswith("http://"):
                url = httpx.URL(host.endpoint)
                origins.add((url.host, url.port or 80))
        self.origins = frozenset(origins)

    async def __call__(self, request: httpx.Request) -> None:
        url = request.url
        if url.scheme != "http" or is_loopback_host(url.host):
            return
        if (url.host, url.port or 80) not in self.origins:
            raise RegistryError(
                Status.ERROR,
                f"refused plain-HTTP request to {url.host} (only http:// endpoints and "
                "loopback may use plain HTTP)",
            )


def check_realm(realm: str, endpoint: httpx.URL) -> httpx.URL:
    """``realm`` as a URL the registry at ``endpoint`` may send us to for a token."""
    try:
        url = httpx.URL(realm)
        host = url.host  # decoded lazily: a malformed IDNA label raises only here
    except (httpx.InvalidURL, ValueError):  # idna's errors are ValueErrors
        raise AuthError(401, "token realm is not a valid URL") from None
    if url.scheme not in ("https", "http") or not host:
        raise AuthError(401, "token realm is not an http(s) URL")
    if url.scheme == "http" and endpoint.scheme != "http":
        raise AuthError(401, f"refused plain-HTTP token realm {host} for an HTTPS registry")
    if is_private_host(host) and not is_private_host(endpoint.host):
        raise AuthError(401, f"refused token realm on private address {host}")
    return url


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """Carried by a token request (extension ``TOKEN_REQUEST``), and by every redirect
    httpx builds from it: the registry it is for, and the first hop's origin and method."""

    endpoint: httpx.URL
    origin: OriginKey
    method: str


async def check_token_request(request: httpx.Request) -> None:
    """The request hook for token requests and their redirects (httpx drops the
    ``Authorization`` header itself when a redirect leaves the origin)."""
    token = request.extensions.get(TOKEN_REQUEST)
    if not isinstance(token, TokenRequest):
        return
    check_realm(str(request.url), token.endpoint)
    if token.method != "GET" and origin_key(request.url) != token.origin:
        # The body (an identity token) would go to the other origin.
        raise AuthError(
            502,
            f"token server redirected a {token.method} to another origin "
            f"({request.url.host}); not followed",
        )


def warn_other_host(hosts: RegistryHosts, registry: str, base: str) -> None:
    """Credentials stored for ``registry`` are about to go to an endpoint override on
    another host, which a registry config from elsewhere could have set: say so."""
    endpoint = hosts.config(registry).endpoint
    if not endpoint:
        return
    host = httpx.URL(base).host
    named = httpx.URL(f"https://{registry}").host
    if canonical(named) != canonical(host):  # Docker Hub's aliases are one host
        log.warning(
            "credentials for %s go to endpoint %s, another host (set by --endpoint "
            "or the registry config)",
            registry,
            host,
        )
