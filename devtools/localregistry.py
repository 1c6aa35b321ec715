"""Run a real CNCF distribution registry (Debian ``docker-registry``) on 127.0.0.1 for tests.

``RegistryProcess`` starts ``docker-registry serve CONFIG`` on a free loopback port with its own
filesystem storage, in anonymous, htpasswd (Basic) or token (Bearer, see ``TokenServer``) mode.
The registry writes its access log (Apache combined format) to stdout and its application log
(logrus text) to stderr; they go to ``access_log_path`` and ``log_path``.

The seeding helpers and the token server are re-exported here so tests need one import.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, Self

import httpx

from devtools.seeding import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    MANIFEST_ACCEPT,
    OCI_INDEX,
    OCI_MANIFEST,
    AuthArg,
    Platform,
    PushedImage,
    PushedIndex,
    RegistryAuth,
    RegistryAuthError,
    SeedError,
    delete_blob,
    delete_manifest,
    parse_challenge,
    push_blob,
    push_image,
    push_index,
    push_manifest,
    registry_client,
    retag,
    sha256_digest,
)
from devtools.service import Service, terminate
from devtools.tokenserver import TokenRequest, TokenServer

__all__ = [
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "MANIFEST_ACCEPT",
    "MISSING_BINARY",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "AccessLogEntry",
    "AuthArg",
    "Platform",
    "PushedImage",
    "PushedIndex",
    "RegistryAuth",
    "RegistryAuthError",
    "RegistryNotFoundError",
    "RegistryProcess",
    "RegistryStartError",
    "SeedError",
    "TokenRequest",
    "TokenServer",
    "delete_blob",
    "delete_manifest",
    "free_port",
    "parse_challenge",
    "push_blob",
    "push_image",
    "push_index",
    "push_manifest",
    "registry_client",
    "retag",
    "sha256_digest",
]

BINARY = "docker-registry"
MISSING_BINARY = "docker-registry not found: apt-get install -y docker-registry"

# Apache combined: host ident user [time] "METHOD URI PROTO" status size "referer" "agent"
_ACCESS_LINE = re.compile(
    r"^(?P<remote>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "
    r'"(?P<method>\S+) (?P<path>\S+) (?P<protocol>[^"]*)" (?P<status>\d{3}) (?P<size>\d+|-) '
    r'"[^"]*" "(?P<user_agent>.*)"$'
)
_LOG_FIELD_REMOTE = re.compile(r'http\.request\.remoteaddr="([^"]+)"')
_LOG_FIELD_AGENT = re.compile(r'http\.request\.useragent="?([^" ]+)')
_MANIFEST_PATH = re.compile(r"^/v2/(?P<repo>.+)/manifests/[^/?]+(\?.*)?$")


class RegistryNotFoundError(RuntimeError):
    """The docker-registry binary is not installed (tests must fail, not skip)."""


class RegistryStartError(RuntimeError):
    """The registry exited or did not answer /v2/ in time."""


@dataclass(frozen=True)
class AccessLogEntry:
    remote: str
    user: str  # "-" in practice: the registry logs no user even for authenticated requests
    time: str
    method: str
    path: str  # request URI, including any query string
    status: int
    size: int
    user_agent: str
    protocol: str = "HTTP/1.1"  # as the request line said: "HTTP/1.1", "HTTP/2.0"


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (the registry binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RegistryProcess(Service):
    """A ``docker-registry`` child process; use as a context manager.

    Modes: anonymous (default), ``htpasswd=(user, password)`` for Basic auth, or
    ``token=TokenServer`` (already started) for Bearer token auth. ``tls=(certfile,
    keyfile)`` serves HTTPS (and so HTTP/2, which Go offers over TLS). Logs and storage live in
    ``workdir`` (kept afterwards) or in a temporary directory removed on exit.
    """

    def __init__(
        self,
        *,
        htpasswd: tuple[str, str] | None = None,
        token: TokenServer | None = None,
        tls: tuple[str, str] | None = None,
        workdir: Path | None = None,
        startup_timeout: float = 15.0,
    ) -> None:
        if htpasswd is not None and token is not None:
            raise ValueError("choose one of htpasswd= and token=")
        self.htpasswd = htpasswd
        self.token = token
        self.tls = tls
        self.startup_timeout = startup_timeout
        self._given_workdir = workdir
        self._workdir: Path | None = None
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_files: list[IO[bytes]] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        binary = shutil.which(BINARY)
        if binary is None:
            raise RegistryNotFoundError(MISSING_BINARY)
        if self._given_workdir is not None:
            self._workdir = self._given_workdir
            self._workdir.mkdir(parents=True, exist_ok=True)
        else:
            self._workdir = Path(tempfile.mkdtemp(prefix="inspector-registry-"))
        auth = self._auth_config()
        # free_port() can race with another process grabbing the port; retry on a new one.
        for attempt in range(3):
            self._port = free_port()
            config_path = self.workdir / "config.yml"
            config_path.write_text(json.dumps(self._config(auth), indent=2))
            self._launch(binary, config_path)
            outcome = self._wait_until_ready()
            if outcome == "ready":
                return self
            port_clash = "address already in use" in self.log_tail()
            self._terminate()
            if outcome == "exited" and port_clash and attempt < 2:
                continue
            tail = self.log_tail()
            self.stop()
            what = "exited" if outcome == "exited" else f"not ready after {self.startup_timeout}s"
            raise RegistryStartError(f"docker-registry {what}; log tail:\n{tail}")
        raise AssertionError("unreachable")

    def stop(self) -> None:
        self._terminate()
        if self._given_workdir is None and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    # -- addresses and files ------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("RegistryProcess is not started")
        return self._port

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("RegistryProcess is not started")
        return self._workdir

    @property
    def log_path(self) -> Path:
        """Application log (logrus lines: "response completed", errors with err.code...)."""
        return self.workdir / "registry.log"

    @property
    def access_log_path(self) -> Path:
        """Access log, one Apache combined line per HTTP request."""
        return self.workdir / "access.log"

    @property
    def storage_dir(self) -> Path:
        return self.workdir / "storage"

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for path in (self.log_path, self.access_log_path):
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(parts)

    # -- access log -----------------------------------------------------------------------------

    def access_log_lines(self) -> list[AccessLogEntry]:
        """Parsed access-log lines, oldest first.

        The line is written before the response is flushed to the client (the logging handler
        wraps the whole app and Go writes stdout unbuffered), so after a response has arrived
        its line is already in the file; no polling needed.
        """
        if not self.access_log_path.exists():
            return []
        entries = []
        for line in self.access_log_path.read_text(errors="replace").splitlines():
            match = _ACCESS_LINE.match(line)
            if match is None:
                continue
            size = match["size"]
            entries.append(
                AccessLogEntry(
                    remote=match["remote"],
                    user=match["user"],
                    time=match["time"],
                    method=match["method"],
                    path=match["path"],
                    status=int(match["status"]),
                    size=0 if size == "-" else int(size),
                    user_agent=match["user_agent"],
                    protocol=match["protocol"],
                )
            )
        return entries

    def client_addresses(self, user_agent_prefix: str = "") -> set[str]:
        """The ``host:port`` each request came from (from the application log): one per TCP
        connection, so its size is how many connections those clients opened."""
        if not self.log_path.exists():
            return set()
        found = set()
        for line in self.log_path.read_text(errors="replace").splitlines():
            agent = _LOG_FIELD_AGENT.search(line)
            remote = _LOG_FIELD_REMOTE.search(line)
            if agent and remote and agent[1].startswith(user_agent_prefix):
                found.add(remote[1])
        return found

    def manifest_requests(self, method: str | None = None, *, repo: str | None = None) -> int:
        """How many ``/v2/<repo>/manifests/<ref>`` requests the registry served (any status)."""
        count = 0
        for entry in self.access_log_lines():
            match = _MANIFEST_PATH.match(entry.path)
            if match is None or (method is not None and entry.method != method.upper()):
                continue
            if repo is None or match["repo"] == repo:
                count += 1
        return count

    # -- internals -----------------------------------------------------------------------------

    def _auth_config(self) -> dict[str, Any]:
        if self.htpasswd is not None:
            path = self.workdir / "htpasswd"
            path.write_text(_htpasswd_line(*self.htpasswd))
            return {"htpasswd": {"realm": "inspector-test-registry", "path": str(path)}}
        if self.token is not None:
            bundle = self.token.write_cert_bundle(self.workdir)
            return {
                "token": {
                    "realm": self.token.realm,
                    "service": self.token.service,
                    "issuer": self.token.issuer,
                    "rootcertbundle": str(bundle),
                }
            }
        return {}

    def _config(self, auth: dict[str, Any]) -> dict[str, Any]:
        # JSON is valid YAML, so no YAML library is needed to write the config.
        config: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "info", "accesslog": {"disabled": False}},
            "storage": {
                # No blobdescriptor cache: it can keep answering for deleted blobs.
                "filesystem": {"rootdirectory": str(self.storage_dir)},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            # A fixed secret silences the "No HTTP secret provided" warning.
            "http": {"addr": self.host, "secret": "inspector-test-secret"},
        }
        if self.tls is not None:
            config["http"]["tls"] = {"certificate": self.tls[0], "key": self.tls[1]}
        if auth:
            config["auth"] = auth
        return config

    def _launch(self, binary: str, config_path: Path) -> None:
        self._close_logs()
        access = self.access_log_path.open("wb")
        app = self.log_path.open("wb")
        self._log_files = [access, app]
        # REGISTRY_* variables override the config file; keep the run hermetic.
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        self._process = subprocess.Popen(
            [binary, "serve", str(config_path)],
            stdin=subprocess.DEVNULL,
            stdout=access,
            stderr=app,
            cwd=self.workdir,
            env=env,
        )

    def _wait_until_ready(self) -> Literal["ready", "exited", "timeout"]:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        # Readiness only: whether it answers, not whom (its certificate is the test's own).
        with httpx.Client(timeout=1.0, verify=not self.tls) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    return "exited"
                try:
                    # 401 counts: an auth-enabled registry is up but wants credentials.
                    if client.get(f"{self.url}/v2/").status_code in (200, 401):
                        return "ready"
                except httpx.TransportError:
                    pass
                time.sleep(0.01)
        return "timeout"

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            terminate(process)
        self._close_logs()

    def _close_logs(self) -> None:
        for handle in self._log_files:
            handle.close()
        self._log_files = []


def _htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd entry (distribution's htpasswd auth accepts nothing but bcrypt)."""
    if shutil.which("htpasswd") is not None:
        result = subprocess.run(
            ["htpasswd", "-Bbn", user, password], check=True, capture_output=True, text=True
        )
        return result.stdout.strip() + "\n"
    # Fallback for machines without apache2-utils: glibc/libxcrypt does bcrypt via crypt(3).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError as error:  # the crypt module is gone in Python 3.13
            raise RuntimeError("htpasswd not found: apt-get install -y apache2-utils") from error
    hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))
    if not hashed or not hashed.startswith("$2"):
        raise RuntimeError("no bcrypt available: apt-get install -y apache2-utils")
    return f"{user}:{hashed}\n"
