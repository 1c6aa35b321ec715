"""Registry authentication as an ``httpx.Auth`` flow (the distribution token protocol).

On a 401 the registry names a scheme in ``WWW-Authenticate``: ``Basic`` (send the user's
credentials) or ``Bearer realm=…,service=…,scope=…`` (get a token from the realm,
anonymously or with the user's credentials, then retry once). Tokens are cached per
(service, scope) for the run, honouring ``expires_in``, and one lock per key makes
concurrent requests share a single token fetch.

The realm is named by the registry, so it is untrusted: it must be HTTPS unless the
registry itself is plain HTTP, and it may not point at a loopback or private address
unless the registry does too (go-containerregistry fixed this SSRF). Credentials are
never sent over plain HTTP to a non-loopback host.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

import httpx

from inspector.errors import InspectorError
from inspector.registry.credentials import Credential
from inspector.registry.hosts import is_loopback_host, is_private_host

DEFAULT_TOKEN_LIFETIME = 60  # seconds, per the token spec when expires_in is absent
TOKEN_EXPIRY_MARGIN = 5  # refresh a little early so a token never dies in flight
CLIENT_ID = "inspector"
_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')
_REPOSITORY_PATH = re.compile(r"^/v2/(?P<repo>.+?)/(?:manifests|blobs|tags)/")


class AuthError(InspectorError):
    """The registry or its token server refused us; ``status`` is the HTTP status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # lower case: "bearer" or "basic"
    params: dict[str, str] = field(default_factory=dict)


def parse_challenge(header: str | None) -> Challenge | None:
    """Parse a ``WWW-Authenticate`` value; ``None`` for anything unusable."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme not in ("bearer", "basic"):
        return None
    params = {
        key.lower(): (quoted.replace('\\"', '"') if quoted is not None else bare)
        for key, quoted, bare in _PARAM.findall(rest)
    }
    return Challenge(scheme, params)


def scope_for(request: httpx.Request) -> str | None:
    """The token scope a request needs: its repository, pull for reads, push for writes."""
    match = _REPOSITORY_PATH.match(request.url.path)
    if match is None:
        return None
    actions = "pull" if request.method in ("GET", "HEAD") else "pull,push"
    return f"repository:{match['repo']}:{actions}"


def may_send_secret(url: httpx.URL) -> bool:
    """Credentials travel over HTTPS, or plain HTTP only to loopback."""
    return url.scheme == "https" or is_loopback_host(str(url.host))


class RegistryAuth(httpx.Auth):
    """Authentication for one registry; shared by every request to it in a run."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        endpoint: httpx.URL,
        credential: Credential | None,
    ) -> None:
        self._client = client
        self._endpoint = endpoint
        self._credential = credential
        self.challenge: Challenge | None = None
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.token_requests = 0

    def learn(self, response: httpx.Response) -> None:
        """Remember the registry's challenge (from the ``/v2/`` ping or any 401)."""
        if response.status_code == 401:
            self.challenge = parse_challenge(response.headers.get("www-authenticate"))

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        scope = scope_for(request)
        sent_token = await self._authorize(request, self.challenge, scope, refresh=False)
        response = yield request
        if response.status_code != 401:
            return
        challenge = parse_challenge(response.headers.get("www-authenticate"))
        if challenge is None:
            return
        self.challenge = challenge
        # A 401 for a token we just sent means it lacks a scope: ask for the one named.
        wanted = challenge.params.get("scope") or scope
        if not await self._authorize(request, challenge, wanted, refresh=sent_token):
            return
        yield request

    async def _authorize(
        self,
        request: httpx.Request,
        challenge: Challenge | None,
        scope: str | None,
        *,
        refresh: bool,
    ) -> bool:
        """Set the Authorization header the challenge asks for; False when there is none."""
        if challenge is None:
            return False
        if challenge.scheme == "basic":
            credential = self._credential
            if credential is None or not may_send_secret(request.url):
                return False
            request.headers["Authorization"] = httpx.BasicAuth(
                credential.username, credential.password
            )._auth_header
            return True
        token = await self._token(challenge, scope or "", refresh=refresh)
        request.headers["Authorization"] = f"Bearer {token}"
        return True

    async def _token(self, challenge: Challenge, scope: str, *, refresh: bool) -> str:
        service = challenge.params.get("service", "")
        key = (service, scope)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(key)
            if cached and not refresh and cached[1] > time.monotonic():
                return cached[0]
            token, lifetime = await self._fetch_token(challenge, service, scope)
            self._tokens[key] = (token, time.monotonic() + lifetime - TOKEN_EXPIRY_MARGIN)
            return token

    def _check_realm(self, realm: str) -> httpx.URL:
        try:
            url = httpx.URL(realm)
        except httpx.InvalidURL:
            raise AuthError(401, "token realm is not a valid URL") from None
        if url.scheme not in ("https", "http") or not url.host:
            raise AuthError(401, "token realm is not an http(s) URL")
        if url.scheme == "http" and self._endpoint.scheme != "http":
            raise AuthError(401, f"refused plain-HTTP token realm {url.host} for an HTTPS registry")
        if is_private_host(url.host) and not is_private_host(self._endpoint.host):
            raise AuthError(401, f"refused token realm on private address {url.host}")
        return url

    async def _fetch_token(self, challenge: Challenge, service: str, scope: str) -> tuple[str, int]:
        realm = challenge.params.get("realm")
        if not realm:
            raise AuthError(401, "bearer challenge without a realm")
        url = self._check_realm(realm)
        credential = self._credential if may_send_secret(url) else None
        if credential is not None and credential.registry_token:
            return credential.registry_token, DEFAULT_TOKEN_LIFETIME
        # A challenge may name several scopes, space-separated: one parameter each.
        pairs: list[tuple[str, str | int | float | bool | None]] = [("service", service)]
        pairs.extend(("scope", item) for item in scope.split())
        params = httpx.QueryParams([p for p in pairs if p[1]])
        if credential is not None and credential.identity_token:
            # An identity token is an OAuth2 refresh token (docker login with a helper).
            form = {
                "grant_type": "refresh_token",
                "refresh_token": credential.identity_token,
                "client_id": CLIENT_ID,
                "service": service,
                "scope": scope,
            }
            request = self._client.build_request("POST", url, data=form)
        else:
            request = self._client.build_request("GET", url, params=params)
            if credential is not None and (credential.username or credential.password):
                request.headers["Authorization"] = httpx.BasicAuth(
                    credential.username, credential.password
                )._auth_header
        self.token_requests += 1
        response = await self._client.send(request)
        if response.status_code in (401, 403):
            who = "the credentials" if credential else "anonymous access"
            raise AuthError(response.status_code, f"token server refused {who} for {scope}")
        if response.status_code != 200:
            raise AuthError(response.status_code, f"token server answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise AuthError(502, "token server answered with invalid JSON") from None
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError(502, "token server answered without a token")
        lifetime = body.get("expires_in")
        if not isinstance(lifetime, int) or lifetime <= TOKEN_EXPIRY_MARGIN:
            lifetime = DEFAULT_TOKEN_LIFETIME
        return token, lifetime
