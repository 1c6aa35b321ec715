"""The registry layers alone, table-driven with scripted answers (regclient's ``reqresp``
style), no network: the one error mapping, the retry policy and the plain-HTTP policy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest

from inspector.registry import retry
from inspector.registry.errors import (
    TOKEN_REQUEST,
    AuthError,
    Missing,
    RealmUnreachableError,
    RegistryError,
    error_code,
)
from inspector.registry.hosts import HostConfig, RegistryHosts
from inspector.registry.model import Status
from inspector.registry.policy import PlainHttpPolicy, TokenRequest, may_send_secret

URL = "https://registry.example.com/v2/example/run/manifests/1.0"


def distribution_error(code: str, message: str = "") -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message, "detail": {}}]}).encode()


def mapped(method: str, status: int, body: bytes = b"", what: str | None = None) -> RegistryError:
    request = httpx.Request(method, URL)
    response = httpx.Response(status, content=body, request=request)
    return asyncio.run(RegistryError.from_response(response, what))


# --- the one error mapping ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "status", "body", "expected"),
    [
        # distribution 2.8.2's answers, as its handlers write them.
        (
            "GET",
            404,
            distribution_error("NAME_UNKNOWN", "repository name not known to registry"),
            (
                Status.MISSING,
                "HTTP 404 NAME_UNKNOWN: repository name not known to registry",
                Missing.REPOSITORY,
            ),
        ),
        (
            "GET",
            404,
            distribution_error("MANIFEST_UNKNOWN", "manifest unknown"),
            (Status.MISSING, "HTTP 404 MANIFEST_UNKNOWN: manifest unknown", Missing.MANIFEST),
        ),
        (
            "GET",
            404,
            distribution_error("BLOB_UNKNOWN", "blob unknown to registry"),
            (Status.MISSING, "HTTP 404 BLOB_UNKNOWN: blob unknown to registry", Missing.BLOB),
        ),
        (
            "GET",
            401,
            distribution_error("UNAUTHORIZED", "authentication required"),
            (Status.UNAUTHORIZED, "HTTP 401 UNAUTHORIZED: authentication required", None),
        ),
        (
            "GET",
            403,
            distribution_error("DENIED", "requested access to the resource is denied"),
            (
                Status.UNAUTHORIZED,
                "HTTP 403 DENIED: requested access to the resource is denied",
                None,
            ),
        ),
        (
            "GET",
            429,
            distribution_error("TOOMANYREQUESTS"),
            (Status.ERROR, "HTTP 429 TOOMANYREQUESTS", None),
        ),
        # A HEAD has no body: the status alone, in words.
        ("HEAD", 404, b"", (Status.MISSING, "HTTP 404 not found", None)),
        ("HEAD", 401, b"", (Status.UNAUTHORIZED, "HTTP 401 unauthorized", None)),
        ("HEAD", 403, b"", (Status.UNAUTHORIZED, "HTTP 403 denied", None)),
        ("HEAD", 405, b"", (Status.ERROR, "HTTP 405 not allowed", None)),
        ("HEAD", 429, b"", (Status.ERROR, "HTTP 429 rate limited", None)),
        ("GET", 500, b"<html>oops</html>", (Status.ERROR, "HTTP 500", None)),
        # A body that is no distribution error, or a hostile one: the status alone; text
        # for a terminal loses its control characters.
        ("GET", 404, b'{"errors": "none"}', (Status.MISSING, "HTTP 404 not found", None)),
        ("GET", 404, b"[" * 100_000, (Status.MISSING, "HTTP 404 not found", None)),
        (
            "GET",
            400,
            distribution_error("NAME_INVALID\x1b[2J", "bad\nname"),
            (Status.ERROR, "HTTP 400 NAME_INVALID [2J: bad name", None),
        ),
    ],
)
def test_status_and_code_map_to_one_meaning(
    method: str, status: int, body: bytes, expected: tuple[Status, str, Missing | None]
) -> None:
    error = mapped(method, status, body)

    assert (error.status, error.http_status) == (expected[0], status)
    assert error.detail == expected[1]
    assert error.missing is expected[2]


def test_what_names_the_request_in_the_detail() -> None:
    error = mapped("PUT", 403, distribution_error("DENIED", "no"), what="PUT manifest sha256:ab")
    assert error.detail == "PUT manifest sha256:ab: HTTP 403 DENIED: no"


def test_an_error_body_over_the_cap_is_not_read_into_the_detail() -> None:
    body = distribution_error("DENIED", "x" * 70_000)
    assert mapped("GET", 403, body).detail == "HTTP 403 denied"


def test_error_code_reads_the_first_entry_only() -> None:
    body = json.dumps({"errors": [{"code": "A", "message": "first"}, {"code": "B"}]}).encode()
    assert error_code(body) == ("A", "first")
    assert error_code(b"") == (None, "")


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        (
            AuthError(401, "token server refused anonymous access"),
            Status.UNAUTHORIZED,
            "token server refused anonymous access",
        ),
        (
            RealmUnreachableError(0, "token server a: timed out"),
            Status.UNREACHABLE,
            "token server a: timed out",
        ),
        (TimeoutError(), Status.UNREACHABLE, "timed out: no complete answer in 30 s"),
        (httpx.ReadTimeout("x"), Status.UNREACHABLE, "timed out (ReadTimeout)"),
        (httpx.TooManyRedirects("x"), Status.ERROR, "more than 5 redirects"),
        (
            httpx.ConnectError("x", request=httpx.Request("GET", URL)).with_traceback(None),
            Status.UNREACHABLE,
            "x",
        ),
        (
            httpx.LocalProtocolError("Illegal header value b'Bearer secret\\n'"),
            Status.UNREACHABLE,
            "invalid request header (LocalProtocolError)",
        ),
        (httpx.DecodingError("bad gzip"), Status.ERROR, "DecodingError: bad gzip"),
        (httpx.InvalidURL("x"), Status.ERROR, "the registry redirected to an invalid URL"),
    ],
)
def test_failures_without_an_answer_map_to_a_status(
    error: BaseException, status: Status, detail: str
) -> None:
    mapped_error = RegistryError.from_exception(error, ceiling=30)
    assert (mapped_error.status, mapped_error.detail) == (status, detail)
    assert "secret" not in mapped_error.detail


def test_a_failed_token_request_names_the_token_server() -> None:
    marker = TokenRequest(
        httpx.URL("https://r.example.com"), ("https", "auth.example.com", 443), "GET"
    )
    request = httpx.Request(
        "GET", "https://auth.example.com/token", extensions={TOKEN_REQUEST: marker}
    )
    error = RegistryError.from_exception(httpx.ReadTimeout("x", request=request), ceiling=30)
    assert error.detail == "token server auth.example.com: timed out (ReadTimeout)"


def test_an_unexpected_exception_is_not_swallowed() -> None:
    with pytest.raises(KeyError):
        RegistryError.from_exception(KeyError("bug"), ceiling=30)


# --- the retry policy -------------------------------------------------------------------------


def answers(*scripted: int | type[Exception]) -> Iterator[httpx.Response]:
    for item in scripted:
        if isinstance(item, int):
            yield httpx.Response(
                item, headers={"Retry-After": "0"}, request=httpx.Request("GET", URL)
            )
        else:
            raise item("dropped")


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []

    async def sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return recorded


def send(method: str, *script: int | type[Exception]) -> tuple[int | str, int]:
    """Run ``send_with_retries`` over a scripted sequence; (last status or error, sends)."""
    queue = list(script)
    sent = 0

    async def once() -> httpx.Response:
        nonlocal sent
        sent += 1
        item = queue.pop(0)
        if not isinstance(item, int):
            raise item("dropped")
        return httpx.Response(item, request=httpx.Request(method, URL))

    try:
        response = asyncio.run(retry.send_with_retries(once, method, timeout=5))
    except Exception as error:
        return type(error).__name__, sent
    return response.status_code, sent


@pytest.mark.parametrize(
    ("method", "script", "outcome"),
    [
        ("GET", (200,), (200, 1)),
        ("HEAD", (503, 502, 200), (200, 3)),
        ("GET", (429, 429, 429), (429, 3)),  # the last answer, after the budget
        ("GET", (httpx.ReadError, 200), (200, 2)),
        ("GET", (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError), ("WriteError", 3)),
        ("GET", (httpx.ConnectError,), ("ConnectError", 1)),  # refused: not worth a retry
        ("GET", (httpx.ReadTimeout,), ("ReadTimeout", 1)),  # a timeout is never retried
        ("GET", (404,), (404, 1)),
        ("POST", (503,), (503, 1)),  # writes are never retried
        ("PUT", (httpx.ReadError,), ("ReadError", 1)),
    ],
)
def test_what_is_retried(
    waits: list[float],
    method: str,
    script: tuple[int | type[Exception], ...],
    outcome: tuple[int | str, int],
) -> None:
    assert send(method, *script) == outcome
    assert len(waits) == outcome[1] - 1


@pytest.mark.parametrize(
    ("retry_after", "timeout", "expected"),
    [("3", 10.0, 3.0), ("3600", 10.0, retry.RETRY_AFTER_CAP), ("8", 0.5, 0.5), ("-4", 10.0, 0.0)],
)
def test_retry_after_is_honoured_and_capped(
    retry_after: str, timeout: float, expected: float
) -> None:
    response = httpx.Response(503, headers={"Retry-After": retry_after})
    assert retry.delay(1, response, timeout) == expected


@pytest.mark.parametrize("value", ["Wed, 21 Oct 2015 07:28:00 GMT", "nan", "soon"])
def test_an_unusable_retry_after_falls_back_to_the_backoff(value: str) -> None:
    response = httpx.Response(503, headers={"Retry-After": value})
    for attempt in (1, 2, 3, 8):
        wait = retry.delay(attempt, response, 10.0)
        base = min(retry.BACKOFF_MAX, retry.BACKOFF_INITIAL * 2 ** (attempt - 1))
        assert base <= wait <= base + retry.BACKOFF_INITIAL


# --- the plain-HTTP policy --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://registry.example.com/v2/", True),
        ("http://127.0.0.1:5000/v2/", True),
        ("http://localhost/v2/", True),
        ("http://[::1]:5000/v2/", True),
        ("http://plain.example.com:8080/v2/", True),  # the endpoint the user configured
        ("http://plain.example.com:8081/v2/", False),  # same host, another port
        ("http://storage.example.net/blob", False),  # a redirect may not downgrade
    ],
)
def test_plain_http_only_where_the_user_said_or_loopback(url: str, allowed: bool) -> None:
    hosts = RegistryHosts({"r.example.com": HostConfig(endpoint="http://plain.example.com:8080")})
    hook = PlainHttpPolicy(hosts)
    if allowed:
        asyncio.run(hook(httpx.Request("GET", url)))
    else:
        with pytest.raises(RegistryError, match="refused plain-HTTP request"):
            asyncio.run(hook(httpx.Request("GET", url)))


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://registry.example.com/", True),
        ("http://127.0.0.1:5000/", True),
        ("http://[::1]:5000/", True),  # httpx spells the host ::1, without brackets
        ("http://localhost/", True),
        ("http://10.0.0.5:5000/", False),
        ("http://registry.example.com/", False),
    ],
)
def test_secrets_travel_over_https_or_to_loopback_only(url: str, allowed: bool) -> None:
    assert may_send_secret(httpx.URL(url)) is allowed
