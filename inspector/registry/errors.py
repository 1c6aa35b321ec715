"""The registry layer's errors, and the one mapping from an answer to what it means.

Every caller that gets an HTTP status it did not want (the manifest API, a config blob
read, a push, preflight's upload check) turns it into a :class:`RegistryError` through
:meth:`RegistryError.from_response`: the status decides the probe status (401/403
unauthorized, 404 missing, anything else an error) and distribution's error code, read
from a capped body, says *what* is missing (``NAME_UNKNOWN``: the repository,
``MANIFEST_UNKNOWN``: the manifest or tag, ``BLOB_UNKNOWN``: a blob) — the way
go-containerregistry's ``transport.Error`` and regclient's ``reghttp`` read them. A HEAD
has no body, so it has no code. Failures without an answer (network, TLS, timeouts, the
auth flow) go through :meth:`RegistryError.from_exception`.
"""

from __future__ import annotations

import json
from enum import StrEnum

import httpx

from inspector.errors import InspectorError
from inspector.registry.model import Status

MAX_ERROR_BODY = 64 * 1024  # an error body is a message; never trust more of it
MAX_REDIRECTS = 5
# The request extension that marks a token request (set by the auth flow; the policy hook
# checks where it goes, and a failure names the token server).
TOKEN_REQUEST = "inspector.token_request"
# For answers without a code (HEAD never has a body).
_REASONS = {
    401: "unauthorized",
    403: "denied",
    404: "not found",
    405: "not allowed",
    429: "rate limited",
}


class Missing(StrEnum):
    """What a 404 says is missing, from distribution's error code."""

    REPOSITORY = "repository"  # NAME_UNKNOWN
    MANIFEST = "manifest"  # MANIFEST_UNKNOWN: a tag or digest the repository lacks
    BLOB = "blob"  # BLOB_UNKNOWN


_MISSING_CODES = {
    "NAME_UNKNOWN": Missing.REPOSITORY,
    "MANIFEST_UNKNOWN": Missing.MANIFEST,
    "BLOB_UNKNOWN": Missing.BLOB,
}


class AuthError(InspectorError):
    """The registry or its token server refused us; ``status`` is the HTTP status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class RealmUnreachableError(AuthError):
    """The token server could not be reached at all (a network failure, not a refusal)."""


class RegistryError(Exception):
    """A request that did not give an answer we can use; becomes a probe status.

    ``code`` is distribution's error code from the body (``NAME_UNKNOWN``, ``DENIED``…),
    ``None`` when the answer had none."""

    def __init__(
        self,
        status: Status,
        detail: str,
        http_status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.http_status = http_status
        self.code = code

    @property
    def missing(self) -> Missing | None:
        """What the registry said is missing, when its code says (a 404 with a body)."""
        return _MISSING_CODES.get(self.code or "") if self.status is Status.MISSING else None

    @classmethod
    def from_status(
        cls, status: int, what: str | None = None, code: str | None = None, message: str = ""
    ) -> RegistryError:
        """The meaning of ``status`` (and distribution's ``code``/``message``, if any);
        ``what`` names the request in the detail (``"PUT blob sha256:…"``)."""
        if status in (401, 403):
            kind = Status.UNAUTHORIZED
        elif status == 404:
            kind = Status.MISSING
        else:
            kind = Status.ERROR
        text = f"HTTP {status}"
        if code:
            text += f" {code}: {message}" if message else f" {code}"
        elif status in _REASONS:
            text += f" {_REASONS[status]}"
        return cls(kind, f"{what}: {text}" if what else text, status, code)

    @classmethod
    async def from_response(
        cls, response: httpx.Response, what: str | None = None
    ) -> RegistryError:
        """:meth:`from_status` with the code and message read from at most
        ``MAX_ERROR_BODY`` bytes of the body (a HEAD's or a closed response's: none)."""
        body = b""
        if response.request.method != "HEAD":
            body = await _read_error_body(response)
        code, message = error_code(body)
        return cls.from_status(response.status_code, what, code, message)

    @classmethod
    def from_exception(cls, error: BaseException, ceiling: float) -> RegistryError:
        """A failure with no usable answer: network, TLS, timeouts (``ceiling``: the
        per-request cap that cut it), redirects, the auth flow."""
        if isinstance(error, RegistryError):
            return error
        if isinstance(error, AuthError):
            status = Status.UNREACHABLE if isinstance(error, RealmUnreachableError) else None
            return cls(status or Status.UNAUTHORIZED, str(error), error.status)
        if isinstance(error, TimeoutError):
            return cls(Status.UNREACHABLE, f"timed out: no complete answer in {ceiling:g} s")
        if isinstance(error, httpx.TimeoutException):
            return cls(Status.UNREACHABLE, _where(error) + f"timed out ({type(error).__name__})")
        if isinstance(error, httpx.TooManyRedirects):
            return cls(Status.ERROR, f"more than {MAX_REDIRECTS} redirects")
        if isinstance(error, httpx.ConnectError):
            return cls(Status.UNREACHABLE, _where(error) + _connect_detail(error))
        if isinstance(error, httpx.TransportError):
            return cls(Status.UNREACHABLE, _where(error) + _transport_detail(error))
        if isinstance(error, httpx.RequestError):  # e.g. a body that fails to decompress
            return cls(Status.ERROR, _transport_detail(error))
        if isinstance(error, httpx.InvalidURL | UnicodeError):
            # A URL the registry named (a redirect's Location) that does not parse; idna's
            # errors are UnicodeErrors, which httpx lets through.
            return cls(Status.ERROR, "the registry redirected to an invalid URL")
        raise error


async def _read_error_body(response: httpx.Response) -> bytes:
    body = b""
    try:
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_ERROR_BODY:
                return b""
    except (httpx.HTTPError, httpx.StreamError):  # cut short, or closed before a retry
        return b""
    return body


def error_code(body: bytes) -> tuple[str | None, str]:
    """The first ``{"errors": [{"code", "message"}]}`` entry of a distribution error body,
    made printable (registry-chosen text goes to a terminal)."""
    try:
        errors = json.loads(body).get("errors") if body else None
    except (ValueError, AttributeError, RecursionError):  # hostile JSON: nested 100,000 deep
        return None, ""
    if not (isinstance(errors, list) and errors and isinstance(errors[0], dict)):
        return None, ""
    code, message = errors[0].get("code"), errors[0].get("message")
    code = printable(code) if isinstance(code, str) and code else None
    return code, printable(message) if isinstance(message, str) else ""


def printable(text: str) -> str:
    """No control characters, bounded length."""
    return "".join(c if c.isprintable() else " " for c in text)[:200]


def _where(error: httpx.RequestError) -> str:
    """``"token server HOST: "`` when the failed request was a token request."""
    try:
        request = error.request
    except RuntimeError:  # no request attached
        return ""
    return f"token server {request.url.host}: " if TOKEN_REQUEST in request.extensions else ""


_DNS_FAILURE_MARKERS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated",
    "getaddrinfo",
)


def _connect_detail(error: httpx.ConnectError) -> str:
    text = str(error) or type(error).__name__
    causes = " ".join(str(cause) for cause in _causes(error)).lower()
    if any(isinstance(cause, ConnectionRefusedError) for cause in _causes(error)):
        return "connection refused"
    if "certificate" in causes or "ssl" in causes or "tls" in causes:
        return f"TLS error: {text}"
    if any(marker in causes for marker in _DNS_FAILURE_MARKERS):
        return f"DNS lookup failed: {text}"
    if "refused" in causes:
        return "connection refused"
    return text


def _causes(error: BaseException) -> list[BaseException]:
    """The error and what caused it (httpx wraps anyio's "All connection attempts
    failed", which wraps the OSError that says why)."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _transport_detail(error: httpx.RequestError) -> str:
    if isinstance(error, httpx.LocalProtocolError):
        # h11/h2 quote the offending header, which may be a credential: never repeat it.
        return "invalid request header (LocalProtocolError)"
    causes = _causes(error)
    if any(isinstance(c, ConnectionResetError) for c in causes) or "reset" in str(error).lower():
        return "connection reset"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
