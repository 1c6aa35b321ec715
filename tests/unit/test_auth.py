"""The registry auth flow: challenges, token realms as untrusted input, where credentials go.

respx stands in for registries and token servers, so the realm can be anything a hostile
registry might name: plain HTTP, loopback in its many spellings, link-local metadata
addresses, a redirect to any of those. Hypothesis feeds ``WWW-Authenticate`` values to the
parser and through the whole flow: neither ever raises.

Examples per run: ``test_parse_challenge_never_raises`` 1000,
``test_parse_challenge_reads_generated_parameters`` 300,
``test_hostile_challenge_through_the_flow_is_a_status`` 200 (``-s`` prints the counts).
"""

from __future__ import annotations

import asyncio
import base64
import json
import string
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.reference import parse
from inspector.registry.auth import (
    MAX_TOKEN_RESPONSE_BYTES,
    SCOPE_EXTENSION,
    parse_challenge,
    repository_scope,
    scope_for,
)
from inspector.registry.client import DOCKER_MANIFEST, RegistryClient
from inspector.registry.credentials import Credential, Keychain
from inspector.registry.hosts import HostConfig, RegistryHosts
from inspector.registry.model import Probe, Status

RAN: Counter[str] = Counter()
FAST = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

REGISTRY = "registry.example.com"
BASE = f"https://{REGISTRY}"
REF = parse(f"{REGISTRY}/example/run:1.0")
MANIFEST = f"{BASE}/v2/example/run/manifests/1.0"
REALM = "https://auth.example.com/token"
DIGEST = "sha256:" + "a" * 64
SECRET = Credential("bob", "hunter2")
BASIC = "Basic " + base64.b64encode(b"bob:hunter2").decode()


@pytest.fixture(scope="module", autouse=True)
def report_counts() -> Iterator[None]:
    yield
    for name, count in sorted(RAN.items()):
        print(f"\n{name}: {count} examples")


def bearer(realm: str = REALM, **params: str) -> str:
    extra = "".join(f',{key}="{value}"' for key, value in params.items())
    return f'Bearer realm="{realm}",service="registry"{extra}'


def registry_with(router: respx.Router, challenge: str, base: str = BASE) -> respx.Route:
    """A registry whose ping and anonymous requests get ``challenge``; with a Bearer
    token it serves the manifest. Returns the manifest route."""
    router.get(f"{base}/v2/").respond(401, headers={"WWW-Authenticate": challenge})
    path = f"{base}/v2/example/run/manifests/1.0"

    def manifest(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization", "").startswith(("Bearer ", "Basic ")):
            return httpx.Response(
                200, headers={"Docker-Content-Digest": DIGEST, "Content-Type": DOCKER_MANIFEST}
            )
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})

    return router.head(path).mock(side_effect=manifest)


def token_ok(token: str = "tok-123") -> httpx.Response:
    return httpx.Response(200, json={"token": token, "expires_in": 300})


def keychain(**credentials: Credential) -> Keychain:
    chain = Keychain({})
    for registry, credential in credentials.items():
        chain._cache[registry.replace("_", ".")] = credential
    return chain


def probe(
    router: respx.Router,
    ref: Any = REF,
    *,
    chain: Keychain | None = None,
    hosts: RegistryHosts | None = None,
) -> Probe:
    async def go() -> Probe:
        transport = httpx.MockTransport(router.async_handler)
        async with RegistryClient(
            hosts or RegistryHosts({}), chain, timeout=2.0, transport=transport
        ) as client:
            return await client.probe(ref)

    return asyncio.run(go())


# --- parse_challenge ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "scheme", "params"),
    [
        (
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:library/ubuntu:pull"',
            "bearer",
            {
                "realm": "https://auth.docker.io/token",
                "service": "registry.docker.io",
                "scope": "repository:library/ubuntu:pull",
            },
        ),
        ('Basic realm="Registry Realm"', "basic", {"realm": "Registry Realm"}),
        (
            "BEARER realm=https://a/t , service=x",
            "bearer",
            {"realm": "https://a/t", "service": "x"},
        ),
        (r'Bearer realm="a\"b"', "bearer", {"realm": 'a"b'}),
        (
            'Bearer scope="repository:a:pull repository:b:pull"',
            "bearer",
            {"scope": "repository:a:pull repository:b:pull"},
        ),
        ("Bearer", "bearer", {}),
    ],
)
def test_parse_challenge_reads_real_headers(
    header: str, scheme: str, params: dict[str, str]
) -> None:
    challenge = parse_challenge(header)

    assert challenge is not None
    assert (challenge.scheme, challenge.params) == (scheme, params)


@pytest.mark.parametrize("header", [None, "", "   ", "Negotiate abc", "Digest realm=x", "realm=x"])
def test_parse_challenge_ignores_unusable_headers(header: str | None) -> None:
    assert parse_challenge(header) is None


@settings(FAST, max_examples=1000)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet='BearerBasic ="\\,realmscope\t\n:/'),
        st.binary().map(lambda b: b.decode("latin-1")),
    )
)
def test_parse_challenge_never_raises(header: str) -> None:
    RAN["test_parse_challenge_never_raises"] += 1
    challenge = parse_challenge(header)
    assert challenge is None or challenge.scheme in ("bearer", "basic")
    if challenge is not None:
        assert all(isinstance(v, str) for v in challenge.params.values())


_TOKEN = st.builds(
    str.__add__,
    st.sampled_from(string.ascii_letters),
    st.text(alphabet=string.ascii_letters + string.digits + "_-", max_size=11),
)
_VALUE = st.text(
    alphabet=st.characters(codec="ascii", exclude_characters='"\\', exclude_categories=["Cc"]),
    max_size=40,
)


@settings(FAST, max_examples=300)
@given(st.sampled_from(["Bearer", "bearer", "Basic"]), st.dictionaries(_TOKEN, _VALUE, max_size=5))
def test_parse_challenge_reads_generated_parameters(scheme: str, params: dict[str, str]) -> None:
    RAN["test_parse_challenge_reads_generated_parameters"] += 1
    header = scheme + " " + ", ".join(f'{key}="{value}"' for key, value in params.items())

    challenge = parse_challenge(header)

    assert challenge is not None and challenge.scheme == scheme.lower()
    expected: dict[str, str] = {}
    for key, value in params.items():
        expected[key.lower()] = value
    assert challenge.params == expected


@settings(FAST, max_examples=200)
@given(
    st.one_of(st.text(max_size=200), st.builds(lambda realm: bearer(realm), st.text(max_size=80)))
)
def test_hostile_challenge_through_the_flow_is_a_status(header: str) -> None:
    RAN["test_hostile_challenge_through_the_flow_is_a_status"] += 1
    raw = header.encode("utf-8")  # as a server would put it on the wire
    router = respx.Router(assert_all_called=False)
    router.get(f"{BASE}/v2/").respond(401, headers=[(b"WWW-Authenticate", raw)])
    router.head(MANIFEST).respond(401, headers=[(b"WWW-Authenticate", raw)])
    router.route().respond(401)  # any realm the header names refuses

    result = probe(router)

    assert result.status in (Status.UNAUTHORIZED, Status.ERROR, Status.UNREACHABLE)
    assert result.detail


# --- scopes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "repository", "mount_from", "scope"),
    [
        ("HEAD", "example/run", None, "repository:example/run:pull"),
        ("GET", "a/b/c", None, "repository:a/b/c:pull"),
        ("GET", "team/manifests/tool", None, "repository:team/manifests/tool:pull"),
        ("PUT", "example/run", None, "repository:example/run:pull,push"),
        ("POST", "x/y", "a/b", "repository:x/y:pull,push repository:a/b:pull"),
    ],
)
def test_repository_scope_names_the_repository_and_actions(
    method: str, repository: str, mount_from: str | None, scope: str
) -> None:
    assert repository_scope(repository, method, mount_from) == scope


def test_scope_is_read_from_the_request_never_from_its_url() -> None:
    path = f"{BASE}/v2/team/manifests/tool/manifests/1.0"
    assert scope_for(httpx.Request("GET", path)) is None
    scope = repository_scope("team/manifests/tool", "GET")
    assert scope_for(httpx.Request("GET", path, extensions={SCOPE_EXTENSION: scope})) == scope


# --- the token flow ----------------------------------------------------------------------------


def test_anonymous_token_flow_sends_no_credentials() -> None:
    router = respx.Router(assert_all_called=False)
    manifest = registry_with(router, bearer())
    token = router.get(REALM).mock(return_value=token_ok())

    result = probe(router)

    assert result.status is Status.AVAILABLE
    request = token.calls.last.request
    assert "authorization" not in request.headers
    assert request.url.params.get_list("scope") == ["repository:example/run:pull"]
    assert request.url.params["service"] == "registry"
    assert manifest.calls.last.request.headers["authorization"] == "Bearer tok-123"


def test_credentials_go_to_the_realm_of_their_own_registry_only() -> None:
    router = respx.Router(assert_all_called=False)
    registry_with(router, bearer())
    other = "https://other.example.org"
    registry_with(router, bearer("https://auth.example.org/token"), base=other)
    mine = router.get(REALM).mock(return_value=token_ok())
    theirs = router.get("https://auth.example.org/token").mock(return_value=token_ok())
    chain = keychain(registry_example_com=SECRET)

    first = probe(router, chain=chain)
    second = probe(router, parse("other.example.org/example/run:1.0"), chain=chain)

    assert first.status is second.status is Status.AVAILABLE
    assert mine.calls.last.request.headers["authorization"] == BASIC
    assert "authorization" not in theirs.calls.last.request.headers


def test_identity_token_is_posted_as_an_oauth_refresh_token() -> None:
    router = respx.Router(assert_all_called=False)
    registry_with(router, bearer(scope="repository:example/run:pull"))
    token = router.post(REALM).mock(
        return_value=httpx.Response(200, json={"access_token": "acc-1"})
    )

    result = probe(router, chain=keychain(registry_example_com=Credential(identity_token="rt-9")))

    assert result.status is Status.AVAILABLE
    form = dict(x.split("=", 1) for x in token.calls.last.request.content.decode().split("&"))
    assert form["grant_type"] == "refresh_token" and form["refresh_token"] == "rt-9"
    assert "authorization" not in token.calls.last.request.headers


@pytest.mark.parametrize(
    ("realm", "detail"),
    [
        ("http://auth.example.com/token", "refused plain-HTTP token realm auth.example.com"),
        ("https://127.0.0.1/token", "private address 127.0.0.1"),
        ("https://localhost:8080/token", "private address localhost"),
        ("https://LOCALHOST./token", "private address localhost"),
        ("https://10.1.2.3/token", "private address 10.1.2.3"),
        ("https://192.168.1.1/token", "private address 192.168.1.1"),
        ("https://169.254.169.254/latest/meta-data", "private address 169.254.169.254"),
        ("https://0.0.0.0:9999/token", "private address 0.0.0.0"),
        ("https://[::1]/token", "private address ::1"),
        ("https://[::ffff:127.0.0.1]/token", "private address"),
        ("https://[fe80::1]/token", "private address fe80::1"),
        ("https://127.1/token", "private address 127.1"),
        ("https://2130706433/token", "private address 2130706433"),
        ("https://0x7f000001/token", "private address 0x7f000001"),
        ("ftp://auth.example.com/token", "not an http(s) URL"),
        ("file:///etc/passwd", "not an http(s) URL"),
        ("https://xn--/token", "not a valid URL"),
        ("https://a\x00b/token", "not a valid URL"),
        ("/token", "not an http(s) URL"),
    ],
)
def test_hostile_realm_is_refused_before_any_request(realm: str, detail: str) -> None:
    router = respx.Router(assert_all_called=False)
    manifest = registry_with(router, bearer(realm))
    anything_else = router.route().respond(200, json={"token": "stolen"})

    result = probe(router, chain=keychain(registry_example_com=SECRET))

    assert result.status is Status.UNAUTHORIZED
    assert result.detail is not None and detail in result.detail
    assert anything_else.call_count == 0  # not one request to the realm
    assert all("authorization" not in c.request.headers for c in manifest.calls)


def test_a_ping_redirected_elsewhere_teaches_no_challenge() -> None:
    router = respx.Router(assert_all_called=False)
    router.get(f"{BASE}/v2/").respond(302, headers={"Location": "https://evil.example.net/v2/"})
    router.get("https://evil.example.net/v2/").respond(
        401, headers={"WWW-Authenticate": 'Bearer realm="https://evil.example.net/token"'}
    )
    evil_realm = router.get("https://evil.example.net/token").mock(return_value=token_ok())
    head = router.head(MANIFEST).respond(404)
    tags = router.get(f"{BASE}/v2/example/run/tags/list").respond(404)

    result = probe(router, chain=keychain(registry_example_com=SECRET))

    assert result.status is Status.MISSING
    assert evil_realm.call_count == 0
    assert "authorization" not in head.calls.last.request.headers
    assert "authorization" not in tags.calls.last.request.headers


def test_bearer_challenge_without_realm_is_unauthorized() -> None:
    router = respx.Router(assert_all_called=False)
    registry_with(router, 'Bearer service="registry"')

    result = probe(router)

    assert (result.status, result.detail) == (
        Status.UNAUTHORIZED,
        "bearer challenge without a realm",
    )


def test_private_realm_is_fine_for_a_registry_on_a_private_address() -> None:
    router = respx.Router(assert_all_called=False)
    base = "https://10.0.0.5:5000"
    registry_with(router, bearer("https://10.0.0.6/token"), base=base)
    token = router.get("https://10.0.0.6/token").mock(return_value=token_ok())
    hosts = RegistryHosts({REGISTRY: HostConfig(endpoint=base)})

    result = probe(router, hosts=hosts, chain=keychain(registry_example_com=SECRET))

    assert result.status is Status.AVAILABLE
    assert token.calls.last.request.headers["authorization"] == BASIC


def test_plain_http_realm_is_fine_for_a_plain_http_loopback_registry() -> None:
    router = respx.Router(assert_all_called=False)
    base = "http://127.0.0.1:5000"
    registry_with(router, bearer("http://127.0.0.1:5001/token"), base=base)
    token = router.get("http://127.0.0.1:5001/token").mock(return_value=token_ok())
    hosts = RegistryHosts({REGISTRY: HostConfig(endpoint=base)})

    result = probe(router, hosts=hosts, chain=keychain(registry_example_com=SECRET))

    assert result.status is Status.AVAILABLE
    assert token.calls.last.request.headers["authorization"] == BASIC


def test_token_server_redirect_to_a_private_address_is_refused() -> None:
    router = respx.Router(assert_all_called=False)
    registry_with(router, bearer())
    router.get(REALM).respond(302, headers={"Location": "http://169.254.169.254/meta-data/"})
    metadata = router.route(host="169.254.169.254").respond(200, json={"token": "aws-key"})

    result = probe(router, chain=keychain(registry_example_com=SECRET))

    assert result.status is Status.UNAUTHORIZED
    assert result.detail is not None and "169.254.169.254" in result.detail
    assert metadata.call_count == 0


def test_token_server_redirect_elsewhere_drops_the_credentials() -> None:
    router = respx.Router(assert_all_called=False)
    registry_with(router, bearer())
    router.get(REALM).respond(307, headers={"Location": "https://tokens.example.net/t"})
    moved = router.get("https://tokens.example.net/t").mock(return_value=token_ok())

    result = probe(router, chain=keychain(registry_example_com=SECRET))

    assert result.status is Status.AVAILABLE
    assert router.calls[1].request.headers["authorization"] == BASIC  # the realm had them
    assert "authorization" not in moved.calls.last.request.headers


@pytest.mark.parametrize(
    ("answer", "status", "detail"),
    [
        (httpx.Response(401), Status.UNAUTHORIZED, "token server refused the credentials"),
        (httpx.Response(500), Status.UNAUTHORIZED, "token server answered 500"),
        (httpx.Response(200, content=b"<html>"), Status.UNAUTHORIZED, "invalid JSON"),
        (httpx.Response(200, json=["token"]), Status.UNAUTHORIZED, "without a token"),
        (httpx.Response(200, json={"token": 42}), Status.UNAUTHORIZED, "without a token"),
        (
            httpx.Response(200, content=b" " * (MAX_TOKEN_RESPONSE_BYTES + 1)),
            Status.UNAUTHORIZED,
            "too large",
        ),
    ],
)
def test_bad_token_answers_are_statuses(
    answer: httpx.Response, status: Status, detail: str
) -> None:
    router = respx.Router(assert_all_called=False)
    registry_with(router, bearer())
    router.get(REALM).mock(return_value=answer)

    result = probe(router, chain=keychain(registry_example_com=SECRET))

    assert result.status is status
    assert result.detail is not None and detail in result.detail
    assert "hunter2" not in result.detail


def test_unreachable_token_server_is_unreachable_not_unauthorized() -> None:
    router = respx.Router(assert_all_called=False)
    registry_with(router, bearer())
    router.get(REALM).mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))

    result = probe(router)

    assert result.status is Status.UNREACHABLE
    assert result.detail == "token server auth.example.com: connection refused"


def test_a_token_that_lacks_a_scope_is_refreshed_once_for_the_scope_named() -> None:
    router = respx.Router(assert_all_called=False)
    router.get(f"{BASE}/v2/").respond(401, headers={"WWW-Authenticate": bearer()})
    wider = 'Bearer realm="https://auth.example.com/token",service="registry",scope="repository:example/run:pull,other"'
    head = router.head(MANIFEST)
    head.side_effect = [
        httpx.Response(401, headers={"WWW-Authenticate": wider}),
        httpx.Response(200, headers={"Docker-Content-Digest": DIGEST}),
    ]
    token = router.get(REALM)
    token.side_effect = [token_ok("narrow"), token_ok("wide")]

    result = probe(router)

    assert result.status is Status.AVAILABLE
    assert [c.request.url.params["scope"] for c in token.calls] == [
        "repository:example/run:pull",
        "repository:example/run:pull,other",
    ]
    assert head.calls.last.request.headers["authorization"] == "Bearer wide"


def test_tokens_and_credentials_stay_out_of_reprs() -> None:
    credential = Credential("bob", "hunter2", "idtok", "regtok")
    chain = Keychain({"auths": {REGISTRY: {"auth": base64.b64encode(b"bob:hunter2").decode()}}})

    text = repr(credential) + repr(chain) + str(chain)

    for secret in ("hunter2", "idtok", "regtok", "Ym9iOmh1bnRlcjI="):
        assert secret not in text
    assert json.dumps(repr(credential))  # still a useful repr
