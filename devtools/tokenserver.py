"""A tiny Docker-style token server (the ``auth: token`` flow of Docker Hub, GHCR, ...).

The registry answers ``401`` with ``WWW-Authenticate: Bearer realm=...,service=...,scope=...``;
the client fetches ``GET realm?service=...&scope=...`` (optionally with Basic credentials) and
retries with ``Authorization: Bearer <jwt>``. This server issues those JWTs, signed RS256 with a
throwaway key whose self-signed certificate is both put in the JWT ``x5c`` header and written to
the bundle file the registry trusts (``auth.token.rootcertbundle``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self, TypedDict
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from devtools.service import Service

TOKEN_LIFETIME_SECONDS = 300


class TokenRequest(TypedDict):
    """One request the token server received (recorded so tests can count token fetches)."""

    path: str
    query: dict[str, list[str]]
    user: str | None  # None: anonymous (no Authorization header)
    scopes: list[str]
    status: int


class TokenServer(Service):
    """Issues registry tokens on ``http://127.0.0.1:PORT/token``.

    Policy: repositories in ``anonymous_pull`` may be pulled without credentials (an entry
    ending in ``/`` is a prefix, anything else an exact name). Every user in ``users``
    (name -> password) is granted every action they ask for on every repository. As on Docker
    Hub, a request for scopes one may not have still gets a token, just without those grants
    (the registry then answers 401 ``insufficient_scope``); only a bad password gets a 401 here.

    ``refresh_tokens`` (refresh token -> user) serve the OAuth2 ``POST`` form with
    ``grant_type=refresh_token`` (docker's ``identitytoken``). ``redirect_to`` (a URL), when
    set, makes the server answer every token request with a ``307`` there instead — the
    hostile realm of a security test.
    """

    def __init__(
        self,
        *,
        anonymous_pull: Iterable[str] = (),
        users: Mapping[str, str] | None = None,
        refresh_tokens: Mapping[str, str] | None = None,
        service: str = "inspector-test-registry",
        issuer: str = "inspector-test-token-server",
    ) -> None:
        self.service = service
        self.issuer = issuer
        self.anonymous_pull = frozenset(anonymous_pull)
        self.users = dict(users or {})
        self.refresh_tokens = dict(refresh_tokens or {})
        self.redirect_to: str | None = None
        self.requests: list[TokenRequest] = []
        self._lock = threading.Lock()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._cert = _self_signed_cert(self._key)
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        server = _HTTPServer(("127.0.0.1", 0), _Handler)
        server.token_server = self
        self._server = server
        # A short poll interval keeps shutdown() quick (the default would add 0.5 s per test).
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="token-server"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # -- what the registry config needs -----------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("TokenServer is not running")
        return int(self._server.server_address[1])

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def write_cert_bundle(self, directory: Path) -> Path:
        """Write the PEM certificate the registry must trust; returns its path."""
        path = directory / "token-rootcert.pem"
        path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        return path

    # -- tests' view --------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget recorded requests (e.g. after seeding, before the code under test runs)."""
        with self._lock:
            self.requests.clear()

    def issue_token(self, user: str | None, scopes: Iterable[str]) -> str:
        """Sign a JWT granting ``user`` (None: anonymous) what the policy allows of ``scopes``."""
        now = int(time.time())
        access = [grant for scope in scopes if (grant := self._grant(user, scope)) is not None]
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": self.service,
            "exp": now + TOKEN_LIFETIME_SECONDS,
            # A little slack: the registry compares nbf/iat against its own clock.
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        # distribution 2.8 finds the verification key via x5c (standard base64 DER chain
        # checked against rootcertbundle) or via a libtrust-style ``kid``; x5c is the portable one.
        der = self._cert.public_bytes(serialization.Encoding.DER)
        headers = {"x5c": [base64.b64encode(der).decode("ascii")]}
        return jwt.encode(claims, self._key, algorithm="RS256", headers=headers)

    def _grant(self, user: str | None, scope: str) -> dict[str, Any] | None:
        # scope = type:name:actions; the name itself may contain ':' (host:port/repo).
        resource_type, _, rest = scope.partition(":")
        name, _, action_list = rest.rpartition(":")
        requested = [a for a in action_list.split(",") if a]
        if user is not None:
            allowed = requested
        elif resource_type == "repository" and self._anonymous_pull_allowed(name):
            allowed = [a for a in requested if a == "pull"]
        else:
            allowed = []
        if not name or not allowed:
            return None
        return {"type": resource_type, "name": name, "actions": allowed}

    def _anonymous_pull_allowed(self, name: str) -> bool:
        return any(
            name.startswith(entry) if entry.endswith("/") else name == entry
            for entry in self.anonymous_pull
        )

    def _record(self, request: TokenRequest) -> None:
        with self._lock:
            self.requests.append(request)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    token_server: TokenServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer

    def do_GET(self) -> None:
        owner = self.server.token_server
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        # Clients send one scope parameter per scope; OAuth2 style also allows space-separated.
        scopes = [s for value in query.get("scope", []) for s in value.split(" ") if s]
        if self._redirected(owner, url.path, query, scopes):
            return
        user, status, body = self._answer(owner, url.path, query, scopes)
        owner._record(
            TokenRequest(path=url.path, query=query, user=user, scopes=scopes, status=status)
        )
        self._send_json(status, body)

    def do_POST(self) -> None:
        """The OAuth2 form: ``grant_type=refresh_token`` with docker's identity token."""
        owner = self.server.token_server
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        scopes = [s for value in form.get("scope", []) for s in value.split(" ") if s]
        if self._redirected(owner, url.path, form, scopes):
            return
        user = owner.refresh_tokens.get(form.get("refresh_token", [""])[0])
        if url.path != "/token" or form.get("grant_type") != ["refresh_token"] or user is None:
            status, body = 401, {"details": "invalid refresh token"}
        else:
            status = 200
            body = {"access_token": owner.issue_token(user, scopes), "expires_in": 300}
        owner._record(
            TokenRequest(path=url.path, query=form, user=user, scopes=scopes, status=status)
        )
        self._send_json(status, body)

    def _redirected(
        self, owner: TokenServer, path: str, query: dict[str, list[str]], scopes: list[str]
    ) -> bool:
        if owner.redirect_to is None:
            return False
        owner._record(TokenRequest(path=path, query=query, user=None, scopes=scopes, status=307))
        self.send_response(307)
        self.send_header("Location", owner.redirect_to)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def _answer(
        self, owner: TokenServer, path: str, query: dict[str, list[str]], scopes: list[str]
    ) -> tuple[str | None, int, dict[str, Any]]:
        if path != "/token":
            return None, 404, {"details": "not found"}
        credentials = _basic_credentials(self.headers.get("Authorization"))
        user = credentials[0] if credentials else None
        if credentials is not None and owner.users.get(credentials[0]) != credentials[1]:
            return user, 401, {"details": "incorrect username or password"}
        service = query.get("service", [owner.service])[0]
        if service != owner.service:
            return user, 400, {"details": f"unknown service {service!r}"}
        token = owner.issue_token(user, scopes)
        issued_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {
            "token": token,
            "access_token": token,
            "expires_in": TOKEN_LIFETIME_SECONDS,
            "issued_at": issued_at,
        }
        return user, 200, body

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="inspector-test-token-server"')
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        # Keep pytest output clean; tests inspect TokenServer.requests instead.
        pass


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def _self_signed_cert(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "inspector test token signer")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        # A CA cert, so the registry's x509 chain check accepts it as its own root.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
