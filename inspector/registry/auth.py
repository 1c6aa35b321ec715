"""Registry authentication as an ``httpx.Auth`` flow (the distribution token protocol).

On a 401 the registry names a scheme in ``WWW-Authenticate``: ``Basic`` (send the user's
credentials) or ``Bearer realm=…,service=…,scope=…`` (get a token from the realm,
anonymously or with the user's credentials, then retry once). Tokens are cached per
(service, scope) for the run, honouring ``expires_in``, and one lock per key makes
concurrent requests share a single token fetch.

The realm is named by the registry, so it is untrusted: it must be HTTPS unless the registry
itself is plain HTTP, and it may not point at a loopback or private address unless the
registry does too (go-containerregistry fixed this SSRF); a redirect from the token server
must pass the same checks, and a token request that carries a secret in its body (an
identity token POST) never follows a redirect to another origin (httpx would re-send the
body on a 307/308); see :mod:`inspector.registry.policy`. Only the user's credentials for
*this* registry ever go to its realm. A credential or token that is not a valid header value
(a stray newline, CR, NUL or surrounding space) is refused before it is sent, by a message
that does not quote it. No ``Authorization`` header (credentials or token) is sent over
plain HTTP to a non-loopback host, and a challenge from another origin (after a redirect) is
not followed. Tokens live in this object only, for the run.

The token request is yielded from the flow, as httpx's own flows do: it goes through the
client's hooks (the plain-HTTP and realm policy, on every redirect too), is retried by the
one retry policy (a token server's 503 is waited out like a registry's), is counted, and the
flow can be stepped in tests with ``flow.asend()``, no network. Its body is capped by the
transport (``BODY_LIMIT`` extension).

The token scope of a request is carried as data, in the request's ``SCOPE_EXTENSION``
extension (set by the client from the reference, as go-containerregistry's
``Repository.Scope``): a repository named ``team/manifests/tool`` gets its own name.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from enum import Enum

import httpx

from inspector.registry.credentials import Credential
from inspector.registry.defaults import DEFAULT_TIMEOUT
from inspector.registry.errors import TOKEN_REQUEST, AuthError, RealmUnreachableError
from inspector.registry.policy import (
    TokenRequest,
    check_realm,
    may_send_secret,
    origin_key,
    same_origin,
)
from inspector.registry.retry import delay, should_retry
from inspector.registry.transport import BODY_LIMIT

__all__ = [  # AuthError and its kin live in errors.py; importable from here as before
    "AuthError",
    "RealmUnreachableError",
    "RegistryAuth",
    "may_send_secret",
    "parse_challenge",
    "repository_scope",
    "scope_for",
]

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


class RegistryAuth(httpx.Auth):
    """Authentication for one registry; shared by every request to it in a run.
    ``on_token_request`` is called for every token request sent (retries included)."""

    def __init__(
        self,
        endpoint: httpx.URL,
        credential: Credential | None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        on_token_request: Callable[[], None] | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._credential = credential
        self._timeout = timeout
        self._on_token_request = on_token_request
        self.challenge: Challenge | None = None
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.token_requests = 0

    def learn(self, response: httpx.Response) -> None:
        """Remember the registry's challenge (from the ``/v2/`` ping or any 401) — only
        the registry's own: a ping redirected elsewhere may not say where credentials go."""
        if response.status_code == 401 and same_origin(response.request.url, self._endpoint):
            self.challenge = parse_challenge(response.headers.get("www-authenticate"))

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        scope = scope_for(request)
        first = _Outcome()
        steps = self._authorize(request, self.challenge, scope, first, refresh=False)
        async with contextlib.aclosing(steps):
            step = await anext(steps, None)
            while step is not None:
                step = await _asend(steps, (yield step))
        response = yield request
        if response.status_code != 401:
            return
        if not same_origin(response.request.url, request.url):
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
        if first.sent is Sent.FRESH_TOKEN and wanted == scope:
            return
        second = _Outcome()
        refresh = first.sent is not Sent.NOTHING
        steps = self._authorize(request, challenge, wanted, second, refresh=refresh)
        async with contextlib.aclosing(steps):
            step = await anext(steps, None)
            while step is not None:
                step = await _asend(steps, (yield step))
        if second.sent is Sent.NOTHING:
            return
        yield request

    async def _authorize(
        self,
        request: httpx.Request,
        challenge: Challenge | None,
        scope: str | None,
        outcome: _Outcome,
        *,
        refresh: bool,
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Set the Authorization header the challenge asks for, yielding the token
        requests that takes, and record in ``outcome`` what was set."""
        if challenge is None:
            return
        credential = self._credential
        if challenge.scheme == "basic" and credential is None:
            return
        if not may_send_secret(request.url):
            raise AuthError(
                401, f"not sending credentials or tokens over plain HTTP to {request.url.host}"
            )
        if challenge.scheme == "basic":
            assert credential is not None
            request.headers["Authorization"] = httpx.BasicAuth(
                credential.username, credential.password
            )._auth_header
            outcome.sent = Sent.BASIC
            return
        scope = scope or ""
        service = challenge.params.get("service", "")
        key = (service, scope)
        async with self._locks.setdefault(key, asyncio.Lock()):
            cached = self._tokens.get(key)
            if cached and not refresh and cached[1] > time.monotonic():
                token, outcome.sent = cached[0], Sent.CACHED_TOKEN
            else:
                fetched = _Token()
                steps = self._fetch_token(challenge, service, scope, fetched)
                async with contextlib.aclosing(steps):
                    step = await anext(steps, None)
                    while step is not None:
                        step = await _asend(steps, (yield step))
                token, lifetime = fetched.value, fetched.lifetime
                self._tokens[key] = (token, time.monotonic() + lifetime - TOKEN_EXPIRY_MARGIN)
                outcome.sent = Sent.FRESH_TOKEN
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

    def _is_registry_token(self, token: str) -> bool:
        credential = self._credential
        return credential is not None and credential.registry_token == token

    def _token_request(
        self, url: httpx.URL, service: str, scope: str, credential: Credential | None
    ) -> httpx.Request:
        # Marked, so the policy hook checks it and every redirect of it (httpx copies
        # extensions to a redirect), and the transport caps its body.
        extensions: dict[str, object] = {
            BODY_LIMIT: MAX_TOKEN_RESPONSE_BYTES + 1,
            # Built here, not by the client: the connect and read bounds must be set too.
            "timeout": httpx.Timeout(self._timeout).as_dict(),
        }
        if credential is not None and credential.identity_token:
            # An identity token is an OAuth2 refresh token (docker login with a helper).
            form = {
                "grant_type": "refresh_token",
                "refresh_token": credential.identity_token,
                "client_id": CLIENT_ID,
                "service": service,
                "scope": scope,
            }
            extensions[TOKEN_REQUEST] = TokenRequest(self._endpoint, origin_key(url), "POST")
            return httpx.Request("POST", url, data=form, extensions=extensions)
        # A challenge may name several scopes, space-separated: one parameter each.
        pairs: list[tuple[str, str | int | float | bool | None]] = [("service", service)]
        pairs.extend(("scope", item) for item in scope.split())
        params = httpx.QueryParams([p for p in pairs if p[1]])
        extensions[TOKEN_REQUEST] = TokenRequest(self._endpoint, origin_key(url), "GET")
        request = httpx.Request("GET", url, params=params, extensions=extensions)
        if credential is not None and (credential.username or credential.password):
            request.headers["Authorization"] = httpx.BasicAuth(
                credential.username, credential.password
            )._auth_header
        return request

    async def _fetch_token(
        self, challenge: Challenge, service: str, scope: str, fetched: _Token
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Yield the token request (again after a retryable answer, or to follow a
        redirect httpx did not follow) until the token server answers; fill ``fetched``."""
        realm = challenge.params.get("realm")
        if not realm:
            raise AuthError(401, "bearer challenge without a realm")
        url = check_realm(realm, self._endpoint)
        credential = self._credential if may_send_secret(url) else None
        if credential is not None and credential.registry_token:
            fetched.value, fetched.lifetime = credential.registry_token, DEFAULT_TOKEN_LIFETIME
            return
        request = self._token_request(url, service, scope, credential)
        attempt, hops = 1, 0
        while True:
            self.token_requests += 1
            if self._on_token_request is not None:
                self._on_token_request()
            response = yield request
            following = response.next_request  # set only when httpx did not follow it
            # Read (capped by the transport), not closed: httpx reads it after us.
            if following is not None and hops < MAX_TOKEN_REDIRECTS:
                await response.aread()
                if not same_origin(following.url, request.url):
                    following.headers.pop("Authorization", None)
                request, hops = following, hops + 1
                continue
            if following is not None:
                raise AuthError(502, "token server redirected too many times")
            if should_retry(request.method, response, attempt):
                await response.aread()
                await asyncio.sleep(delay(attempt, response, self._timeout))
                attempt += 1
                continue
            fetched.value, fetched.lifetime = await _read_token(response, credential, scope)
            return


@dataclass
class _Outcome:
    """What :meth:`RegistryAuth._authorize` put on a request."""

    sent: Sent = Sent.NOTHING


@dataclass
class _Token:
    value: str = ""
    lifetime: int = DEFAULT_TOKEN_LIFETIME


async def _asend(
    steps: AsyncGenerator[httpx.Request, httpx.Response], response: httpx.Response
) -> httpx.Request | None:
    """The next request ``steps`` yields for ``response``; ``None`` once it is done."""
    try:
        return await steps.asend(response)
    except StopAsyncIteration:
        return None


async def _read_token(
    response: httpx.Response, credential: Credential | None, scope: str
) -> tuple[str, int]:
    """The token and its lifetime from the token server's answer (at most 1 MiB)."""
    try:
        content = await response.aread()
    except httpx.TimeoutException:
        raise RealmUnreachableError(0, f"token server {response.url.host}: timed out") from None
    except (httpx.TransportError, httpx.DecodingError) as error:
        raise AuthError(502, f"token server answer cut short ({type(error).__name__})") from None
    finally:
        await response.aclose()
    if len(content) > MAX_TOKEN_RESPONSE_BYTES:
        raise AuthError(502, "token server answer is too large")
    status = response.status_code
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
