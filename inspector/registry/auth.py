"""Registry authentication as an ``httpx.Auth`` flow (the distribution token protocol).

On a 401 the registry names a scheme in ``WWW-Authenticate``: ``Basic`` (send the user's
credentials) or ``Bearer realm=…,service=…,scope=…`` (get a token from the realm,
anonymously or with the user's credentials, then retry once). Tokens are cached per
(service, scope) for the run, honouring ``expires_in``, and one lock per key makes
concurrent requests share a single token fetch.

The realm is named by the registry, so it is untrusted: it must be HTTPS unless the
registry itself is plain HTTP, and it may not point at a loopback or private address
unless the registry does too (go-containerregistry fixed this SSRF); a redirect from the
token server must pass the same checks, and a token request that carries a secret in its
body (an identity token POST) never follows a redirect to another origin (httpx would
re-send the body on a 307/308). Only the user's credentials for *this* registry
ever go to its realm. A credential or token that is not a valid header value (a stray
newline, CR, NUL or surrounding space) is refused before it is sent, by a message that
does not quote it. No ``Authorization`` header (credentials or token) is sent over
plain HTTP to a non-loopback host, and a challenge from another origin (after a
redirect) is not followed. Tokens live in this object only, for the run.

The token scope of a request is carried as data, in the request's ``SCOPE_EXTENSION``
extension (set by the client from the reference, as go-containerregistry's
``Repository.Scope``): a repository named ``team/manifests/tool`` gets its own name.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from enum import Enum

import httpx

from inspector.errors import InspectorError
from inspector.registry.credentials import Credential
from inspector.registry.hosts import is_loopback_host, is_private_host

MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024  # a token answer is a few KiB; a realm is untrusted
MAX_TOKEN_REDIRECTS = 5
DEFAULT_TOKEN_LIFETIME = 60  # seconds, per the token spec when expires_in is absent
TOKEN_EXPIRY_MARGIN = 5  # refresh a little early so a token never dies in flight
CLIENT_ID = "inspector"
_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')
SCOPE_EXTENSION = "inspector.scope"
# Printable ASCII and tabs inside, no surrounding space: what h11 accepts, minus obs-text.
_HEADER_VALUE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?")


class Sent(Enum):
    """What :meth:`RegistryAuth._authorize` put on a request."""

    NOTHING = "nothing"
    BASIC = "basic"
    CACHED_TOKEN = "cached token"
    FRESH_TOKEN = "fresh token"


class AuthError(InspectorError):
    """The registry or its token server refused us; ``status`` is the HTTP status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class RealmUnreachableError(AuthError):
    """The token server could not be reached at all (a network failure, not a refusal)."""


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
        # group 2 is None (not "") when the value is a bare token
        match[1].lower(): (re.sub(r"\\(.)", r"\1", match[2]) if match[2] is not None else match[3])
        for match in _PARAM.finditer(rest)
    }
    return Challenge(scheme, params)


def repository_scope(repository: str, method: str, mount_from: str | None = None) -> str:
    """The token scope a request on ``repository`` needs: pull for reads, pull+push for
    writes; a cross-repository mount also reads ``mount_from`` (asked for up front rather
    than after the registry's 401 naming it)."""
    actions = "pull" if method in ("GET", "HEAD") else "pull,push"
    scope = f"repository:{repository}:{actions}"
    if mount_from:
        scope += f" repository:{mount_from}:pull"
    return scope


def scope_for(request: httpx.Request) -> str | None:
    """The scope the caller attached to ``request`` (``None``: none; a token is then asked
    for the scope the registry's challenge names)."""
    scope = request.extensions.get(SCOPE_EXTENSION)
    return scope if isinstance(scope, str) else None


def valid_header_value(value: str) -> bool:
    return _HEADER_VALUE.fullmatch(value) is not None


def may_send_secret(url: httpx.URL) -> bool:
    """Credentials travel over HTTPS, or plain HTTP only to loopback."""
    return url.scheme == "https" or is_loopback_host(str(url.host))


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


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
        """Remember the registry's challenge (from the ``/v2/`` ping or any 401) — only
        the registry's own: a ping redirected elsewhere may not say where credentials go."""
        if response.status_code == 401 and _origin(response.request.url) == _origin(self._endpoint):
            self.challenge = parse_challenge(response.headers.get("www-authenticate"))

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        scope = scope_for(request)
        sent = await self._authorize(request, self.challenge, scope, refresh=False)
        response = yield request
        if response.status_code != 401:
            return
        if _origin(response.request.url) != _origin(request.url):
            return  # a redirect's target may not name where our credentials go
        challenge = parse_challenge(response.headers.get("www-authenticate"))
        if challenge is None:
            return
        # Free the 401's connection before fetching a token: with a small pool the token
        # request would otherwise wait for it.
        await response.aread()
        self.challenge = challenge
        # A 401 for a token we sent means it lacks a scope: ask for the one named. A token
        # fetched just now for that very scope was already refused: fetching it again
        # with the same credentials gets the same grants and only costs round trips.
        wanted = challenge.params.get("scope") or scope
        if sent is Sent.FRESH_TOKEN and wanted == scope:
            return
        if not await self._authorize(request, challenge, wanted, refresh=sent is not Sent.NOTHING):
            return
        yield request

    async def _authorize(
        self,
        request: httpx.Request,
        challenge: Challenge | None,
        scope: str | None,
        *,
        refresh: bool,
    ) -> Sent:
        """Set the Authorization header the challenge asks for, and say what was set."""
        if challenge is None:
            return Sent.NOTHING
        credential = self._credential
        if challenge.scheme == "basic" and credential is None:
            return Sent.NOTHING
        if not may_send_secret(request.url):
            raise AuthError(
                401, f"not sending credentials or tokens over plain HTTP to {request.url.host}"
            )
        if challenge.scheme == "basic":
            assert credential is not None
            request.headers["Authorization"] = httpx.BasicAuth(
                credential.username, credential.password
            )._auth_header
            return Sent.BASIC
        token, fresh = await self._token(challenge, scope or "", refresh=refresh)
        if not valid_header_value(token):
            # Never quoted: h11's own error would print the whole header, token included.
            where = "token from the token server"
            if self._is_registry_token(token):
                where = "registrytoken in the docker config"
            raise AuthError(
                401,
                f"the {where} is not a valid HTTP header value "
                "(control character or surrounding space); not sent",
            )
        request.headers["Authorization"] = f"Bearer {token}"
        return Sent.FRESH_TOKEN if fresh else Sent.CACHED_TOKEN

    async def _token(self, challenge: Challenge, scope: str, *, refresh: bool) -> tuple[str, bool]:
        """A token for ``scope``, and whether it was fetched by this call."""
        service = challenge.params.get("service", "")
        key = (service, scope)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(key)
            if cached and not refresh and cached[1] > time.monotonic():
                return cached[0], False
            token, lifetime = await self._fetch_token(challenge, service, scope)
            self._tokens[key] = (token, time.monotonic() + lifetime - TOKEN_EXPIRY_MARGIN)
            return token, True

    def _is_registry_token(self, token: str) -> bool:
        credential = self._credential
        return credential is not None and credential.registry_token == token

    def _check_realm(self, realm: str) -> httpx.URL:
        try:
            url = httpx.URL(realm)
            host = url.host  # decoded lazily: a malformed IDNA label raises only here
        except (httpx.InvalidURL, ValueError):  # idna's errors are ValueErrors
            raise AuthError(401, "token realm is not a valid URL") from None
        if url.scheme not in ("https", "http") or not host:
            raise AuthError(401, "token realm is not an http(s) URL")
        if url.scheme == "http" and self._endpoint.scheme != "http":
            raise AuthError(401, f"refused plain-HTTP token realm {host} for an HTTPS registry")
        if is_private_host(host) and not is_private_host(self._endpoint.host):
            raise AuthError(401, f"refused token realm on private address {host}")
        return url

    async def _send_token_request(self, request: httpx.Request) -> tuple[int, bytes]:
        """Send, following redirects only to URLs that pass the realm checks (httpx drops
        the Authorization header when one leaves the origin); read at most 1 MiB."""
        for _ in range(MAX_TOKEN_REDIRECTS + 1):
            try:
                response = await self._client.send(request, stream=True, follow_redirects=False)
            except httpx.TimeoutException:
                raise RealmUnreachableError(
                    0, f"token server {request.url.host}: timed out"
                ) from None
            except httpx.TransportError as error:
                raise RealmUnreachableError(
                    0, f"token server {request.url.host}: {type(error).__name__}"
                ) from None
            try:
                following = response.next_request
                if following is not None:
                    self._check_realm(str(following.url))
                    if _origin(following.url) != _origin(request.url):
                        if request.method != "GET":
                            # The body (an identity token) would go to the other origin.
                            raise AuthError(
                                502,
                                f"token server redirected a {request.method} to another "
                                f"origin ({following.url.host}); not followed",
                            )
                        following.headers.pop("Authorization", None)
                    request = following
                    continue
                return response.status_code, await _read_limited(response)
            finally:
                await response.aclose()
        raise AuthError(502, "token server redirected too many times")

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
        status, content = await self._send_token_request(request)
        if status in (401, 403):
            who = "the credentials" if credential else "anonymous access"
            raise AuthError(status, f"token server refused {who} for {scope}")
        if status != 200:
            raise AuthError(status, f"token server answered {status}")
        try:
            body = json.loads(content)
        except (ValueError, RecursionError):
            raise AuthError(502, "token server answered with invalid JSON") from None
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError(502, "token server answered without a token")
        lifetime = body.get("expires_in")
        if not isinstance(lifetime, int) or lifetime <= TOKEN_EXPIRY_MARGIN:
            lifetime = DEFAULT_TOKEN_LIFETIME
        return token, lifetime


async def _read_limited(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_TOKEN_RESPONSE_BYTES:
                raise AuthError(502, "token server answer is too large")
            chunks.append(chunk)
    except httpx.TimeoutException:
        raise RealmUnreachableError(0, "token server: timed out") from None
    except (httpx.TransportError, httpx.DecodingError) as error:
        raise AuthError(502, f"token server answer cut short ({type(error).__name__})") from None
    return b"".join(chunks)
