"""The auth flow stepped by hand, as httpx's own tests step theirs: ``flow.asend(response)``
hands the flow each answer and gets back the next request it wants sent — the registry
request, or a token request yielded from the flow. No network, no transport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import pytest

from inspector.registry import policy
from inspector.registry.auth import SCOPE_EXTENSION, RegistryAuth
from inspector.registry.credentials import Credential
from inspector.registry.errors import TOKEN_REQUEST, AuthError
from inspector.registry.retry import RETRY_ATTEMPTS
from inspector.registry.transport import BODY_LIMIT

ENDPOINT = httpx.URL("https://registry.example.com")
MANIFEST = "https://registry.example.com/v2/team/manifests/tool/manifests/1.0"
REALM = "https://auth.example.com/token"
CHALLENGE = {"WWW-Authenticate": f'Bearer realm="{REALM}",service="registry.example.com"'}
SCOPE = "repository:team/manifests/tool:pull"

Flow = AsyncGenerator[httpx.Request, httpx.Response]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every retry sleep, recorded and cut to nothing."""
    recorded: list[float] = []

    async def sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return recorded


def registry_request() -> httpx.Request:
    return httpx.Request("HEAD", MANIFEST, extensions={SCOPE_EXTENSION: SCOPE})


def answer(request: httpx.Request, status: int, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, request=request, **kwargs)


def run(steps: Any) -> Any:
    return asyncio.run(steps())


def test_token_request_is_yielded_retried_on_503_and_counted(waits: list[float]) -> None:
    counted: list[str] = []
    auth = RegistryAuth(ENDPOINT, None, on_token_request=lambda: counted.append("token"))

    anonymous: list[bool] = []

    async def steps() -> list[httpx.Request]:
        request = registry_request()
        flow: Flow = auth.async_auth_flow(request)
        sent = [await flow.__anext__()]
        anonymous.append("authorization" not in sent[0].headers)  # the flow edits it later
        sent.append(await flow.asend(answer(sent[-1], 401, headers=CHALLENGE)))
        sent.append(await flow.asend(answer(sent[-1], 503, headers={"Retry-After": "1"})))
        sent.append(await flow.asend(answer(sent[-1], 200, json={"token": "t0k"})))
        with pytest.raises(StopAsyncIteration):
            await flow.asend(answer(sent[-1], 200))
        return sent

    first, token, again, retried = run(steps)

    assert anonymous == [True]  # nothing learnt yet: anonymous
    assert (token.method, token.url.copy_with(query=None)) == ("GET", httpx.URL(REALM))
    # The scope is the data the request carried, not a guess from its URL.
    assert token.url.params.get_list("scope") == [SCOPE]
    assert token.url.params["service"] == "registry.example.com"
    assert again.url == token.url and retried is first
    assert retried.headers["authorization"] == "Bearer t0k"
    assert waits == [1.0]  # the token server's Retry-After, as for a registry
    assert auth.token_requests == 2 and counted == ["token", "token"]


def test_a_token_server_that_stays_unavailable_fails_after_the_retry_budget(
    waits: list[float],
) -> None:
    auth = RegistryAuth(ENDPOINT, None)

    async def steps() -> AuthError:
        flow: Flow = auth.async_auth_flow(registry_request())
        request = await flow.__anext__()
        request = await flow.asend(answer(request, 401, headers=CHALLENGE))
        for _ in range(RETRY_ATTEMPTS - 1):
            request = await flow.asend(answer(request, 503))
        with pytest.raises(AuthError) as caught:
            await flow.asend(answer(request, 503))
        return caught.value

    error = run(steps)

    assert (error.status, str(error)) == (503, "token server answered 503")
    assert auth.token_requests == RETRY_ATTEMPTS and len(waits) == RETRY_ATTEMPTS - 1


def test_a_token_refusal_is_not_retried(waits: list[float]) -> None:
    auth = RegistryAuth(ENDPOINT, None)

    async def steps() -> AuthError:
        flow: Flow = auth.async_auth_flow(registry_request())
        request = await flow.asend(answer(await flow.__anext__(), 401, headers=CHALLENGE))
        with pytest.raises(AuthError) as caught:
            await flow.asend(answer(request, 401))
        return caught.value

    error = run(steps)

    assert "token server refused anonymous access" in str(error)
    assert auth.token_requests == 1 and waits == []


def test_the_token_is_cached_per_scope_and_the_challenge_remembered() -> None:
    auth = RegistryAuth(ENDPOINT, None)

    async def steps() -> httpx.Request:
        flow: Flow = auth.async_auth_flow(registry_request())
        request = await flow.asend(answer(await flow.__anext__(), 401, headers=CHALLENGE))
        request = await flow.asend(answer(request, 200, json={"token": "t0k"}))
        with pytest.raises(StopAsyncIteration):
            await flow.asend(answer(request, 200))
        # A second request for the same scope: the token goes out on the first try.
        second: Flow = auth.async_auth_flow(registry_request())
        return await second.__anext__()

    request = run(steps)

    assert request.headers["authorization"] == "Bearer t0k"
    assert auth.token_requests == 1


def test_token_requests_are_marked_for_the_policy_hook_and_the_body_cap() -> None:
    auth = RegistryAuth(ENDPOINT, Credential("bob", "hunter2"))

    async def steps() -> httpx.Request:
        flow: Flow = auth.async_auth_flow(registry_request())
        return await flow.asend(answer(await flow.__anext__(), 401, headers=CHALLENGE))

    token = run(steps)

    marker = token.extensions[TOKEN_REQUEST]
    assert isinstance(marker, policy.TokenRequest)
    assert (marker.endpoint, marker.method) == (ENDPOINT, "GET")
    assert token.extensions[BODY_LIMIT] > 1024 * 1024
    assert token.headers["authorization"].startswith("Basic ")  # the user's, to its realm


def test_a_redirect_httpx_did_not_follow_is_followed_by_the_flow_without_credentials() -> None:
    auth = RegistryAuth(ENDPOINT, Credential("bob", "hunter2"))
    elsewhere = "https://tokens.example.net/token"

    async def steps() -> tuple[httpx.Request, httpx.Request]:
        flow: Flow = auth.async_auth_flow(registry_request())
        token = await flow.asend(answer(await flow.__anext__(), 401, headers=CHALLENGE))
        moved = answer(token, 307, headers={"Location": elsewhere})
        # What httpx hands back when it does not follow (an upload's send): next_request.
        moved.next_request = httpx.Request(
            "GET", elsewhere, headers=token.headers, extensions=token.extensions
        )
        return token, await flow.asend(moved)

    token, followed = run(steps)

    assert followed.url == httpx.URL(elsewhere)
    assert "authorization" in token.headers and "authorization" not in followed.headers
    assert followed.extensions[TOKEN_REQUEST] is token.extensions[TOKEN_REQUEST]


@pytest.mark.parametrize(
    ("url", "method", "refusal"),
    [
        ("https://169.254.169.254/token", "GET", "private address"),
        ("http://auth.example.com/token", "GET", "plain-HTTP token realm"),
        ("https://tokens.example.net/token", "POST", "redirected a POST to another origin"),
    ],
)
def test_the_policy_hook_checks_every_hop_of_a_token_request(
    url: str, method: str, refusal: str
) -> None:
    marker = policy.TokenRequest(ENDPOINT, policy.origin_key(httpx.URL(REALM)), method)
    hop = httpx.Request("GET", url, extensions={TOKEN_REQUEST: marker})

    with pytest.raises(AuthError, match=refusal):
        asyncio.run(policy.check_token_request(hop))


def test_the_policy_hook_lets_the_realm_and_other_requests_through() -> None:
    marker = policy.TokenRequest(ENDPOINT, policy.origin_key(httpx.URL(REALM)), "POST")
    asyncio.run(
        policy.check_token_request(httpx.Request("POST", REALM, extensions={TOKEN_REQUEST: marker}))
    )
    asyncio.run(policy.check_token_request(httpx.Request("GET", "http://10.0.0.1/v2/")))
