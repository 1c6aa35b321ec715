"""Registry credentials from docker's config, looked up by the registry's logical name.

``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``: ``auths`` (base64 ``auth``,
``username``/``password``, ``identitytoken``, ``registrytoken``), ``credHelpers`` per
registry and ``credsStore`` for the rest (``docker-credential-<name> get``). Docker Hub
lives under ``https://index.docker.io/v1/`` and its other usual keys.

Secrets stay inside :class:`Credential`; its ``repr`` hides them, and the keychain's hides
the whole document, so no log or traceback can print one. No error message quotes a value
from the file or from a helper's output.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from inspector.errors import ConfigError, InspectorError
from inspector.reference import DOCKER_HUB_HOSTS

HELPER_TIMEOUT_SECONDS = 10.0
DOCKER_HUB_KEYS = (
    "https://index.docker.io/v1/",
    "index.docker.io",
    "docker.io",
    "https://index.docker.io/v1",
    "registry-1.docker.io",
    "https://registry-1.docker.io",
    "https://docker.io",
)
_TOKEN_USERNAME = "<token>"  # docker's marker for an identity token from a helper
# What docker-credential-helpers print when they simply have nothing for a server.
_NOT_FOUND = "credentials not found in native keychain"


@dataclass(frozen=True, slots=True)
class Credential:
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)  # OAuth2 refresh token
    registry_token: str = field(default="", repr=False)  # a bearer token to send as is

    def secrets(self) -> list[str]:
        return [s for s in (self.password, self.identity_token, self.registry_token) if s]


class DockerConfigError(ConfigError):
    pass


class CredentialError(InspectorError):
    """A credential helper failed (not: had nothing); the message never quotes its output."""


def config_path() -> Path:
    directory = os.environ.get("DOCKER_CONFIG")
    return (Path(directory) if directory else Path.home() / ".docker") / "config.json"


@dataclass
class Keychain:
    """Credentials of one docker config; a helper is asked at most once per registry."""

    document: dict[str, Any] = field(repr=False)
    path: str | None = None
    _cache: dict[str, Credential | None] = field(default_factory=dict, repr=False)

    @classmethod
    def from_environment(cls) -> Keychain:
        path = config_path()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls({})
        except OSError as error:
            raise DockerConfigError(f"docker config {str(path)!r}: {error.strerror}") from None
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise DockerConfigError(
                f"docker config {str(path)!r}: invalid JSON at line {error.lineno}"
            ) from None
        except RecursionError:  # json recurses once per nested array/object
            raise DockerConfigError(
                f"docker config {str(path)!r}: invalid JSON: nested too deeply"
            ) from None
        if not isinstance(document, dict):
            raise DockerConfigError(f"docker config {str(path)!r}: not a JSON object")
        keychain = cls(document, str(path))
        keychain.validate()
        return keychain

    def validate(self) -> None:
        """Decode every ``auths`` entry now, as docker does on load: a broken entry is bad
        input (exit 2) before any request, not a surprise halfway through a run."""
        auths = self.document.get("auths")
        if auths is not None and not isinstance(auths, dict):
            raise DockerConfigError(f"docker config {self.path!r}: auths must be an object")
        for key, entry in (auths or {}).items():
            if entry is not None and not isinstance(entry, dict):
                raise DockerConfigError(
                    f"docker config {self.path!r}: auths[{key!r}] must be an object"
                )
            if entry:
                _from_auth_entry(entry, key, self.path)

    def lookup(
        self, registry: str, *, timeout: float = HELPER_TIMEOUT_SECONDS
    ) -> Credential | None:
        if registry not in self._cache:
            self._cache[registry] = self._lookup(registry, timeout)
        return self._cache[registry]

    def _keys(self, registry: str) -> tuple[str, ...]:
        if registry in DOCKER_HUB_HOSTS:
            return DOCKER_HUB_KEYS
        return (registry, f"https://{registry}", f"http://{registry}")

    def _matching(self, table: dict[str, Any], registry: str) -> list[str]:
        """The keys of ``table`` for ``registry``: the usual spellings first, in their order,
        then any other key whose host is the registry (docker's ``ConvertToHostname``:
        ``https://r.example.com/v1/``, ``r.example.com/some/path``), in file order. Docker
        Hub's aliases are one registry."""
        usual = [key for key in self._keys(registry) if key in table]
        wanted = _hub_or(registry)
        other = [
            key for key in table if key not in usual and _hub_or(convert_to_hostname(key)) == wanted
        ]
        return usual + other

    def _lookup(self, registry: str, timeout: float) -> Credential | None:
        keys = self._keys(registry)
        helpers = self.document.get("credHelpers")
        if isinstance(helpers, dict):
            for key in self._matching(helpers, registry):
                helper = helpers.get(key)
                if isinstance(helper, str) and helper:
                    return run_helper(helper, keys[0], timeout)
        auths = self.document.get("auths")
        if isinstance(auths, dict):
            for key in self._matching(auths, registry):
                entry = auths.get(key)
                if isinstance(entry, dict):
                    credential = _from_auth_entry(entry, key, self.path)
                    if credential is not None:
                        return credential
        store = self.document.get("credsStore")
        if isinstance(store, str) and store:
            return run_helper(store, keys[0], timeout)
        return None


def convert_to_hostname(key: str) -> str:
    """A docker-config key as the host it names, like docker's ``ConvertToHostname``
    (``cli/config/credentials/file_store.go``) and regclient's ``parseName``: the scheme
    and any path are dropped, the port is kept."""
    if "://" in key:
        parsed = urlsplit(key)
        try:
            hostname, port = parsed.hostname, parsed.port
        except ValueError:  # a port that is not a number: fall back to the plain cut
            hostname, port = None, None
        if hostname:
            host = f"[{hostname}]" if ":" in hostname else hostname
            return f"{host}:{port}" if port is not None else host
        key = key.partition("://")[2]
    return key.partition("/")[0]


def _hub_or(registry: str) -> str:
    """Docker Hub's names as one; every other registry as it is."""
    return "index.docker.io" if registry in DOCKER_HUB_HOSTS else registry


def _from_auth_entry(entry: dict[str, Any], key: str, path: str | None) -> Credential | None:
    where = f"docker config {path!r}: auths[{key!r}]"
    for name in ("username", "password", "auth", "identitytoken", "registrytoken"):
        if entry.get(name) is not None and not isinstance(entry[name], str):
            raise DockerConfigError(f"{where}.{name} must be a string")
    username = entry.get("username") or ""
    password = entry.get("password") or ""
    encoded = entry.get("auth")
    if encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            # Never echo the value: it is a secret.
            raise DockerConfigError(f"{where}.auth is not valid base64") from None
        username, colon, password = decoded.partition(":")
        if not colon:
            raise DockerConfigError(f"{where}.auth is not base64 of user:password")
    identity = entry.get("identitytoken") or ""
    registry_token = entry.get("registrytoken") or ""
    if not any((username, password, identity, registry_token)):
        return None
    return Credential(username, password, identity, registry_token)


def find_helper(program: str) -> str | None:
    """``program`` in the directories of ``PATH`` that are absolute, as docker finds it
    (Go's ``exec.LookPath`` refuses a result relative to the current directory): an empty
    entry or ``.`` never runs a ``docker-credential-*`` planted in the working directory."""
    if os.sep in program or (os.altsep and os.altsep in program):
        return None  # a helper name never holds a path
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not directory or not os.path.isabs(directory):
            continue
        candidate = os.path.join(directory, program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def run_helper(
    name: str, server: str, timeout: float = HELPER_TIMEOUT_SECONDS
) -> Credential | None:
    """``docker-credential-<name> get``. Nothing stored for ``server`` means anonymous;
    a helper that is missing, hangs, fails or prints garbage is an error (as in docker),
    reported without its output, which may hold a secret."""
    program = f"docker-credential-{name}"
    what = f"credential helper {program} for {server}"
    executable = find_helper(program)
    if executable is None:
        raise CredentialError(
            f"{what}: cannot run it (not found in any absolute directory of PATH)"
        )
    try:
        completed = subprocess.run(
            [executable, "get"],
            input=server,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CredentialError(f"{what}: no answer in {timeout:g} s") from None
    except OSError as error:
        raise CredentialError(f"{what}: cannot run it ({error.strerror or 'failed'})") from None
    if completed.returncode != 0:
        if _NOT_FOUND in completed.stdout.lower() or _NOT_FOUND in completed.stderr.lower():
            return None
        raise CredentialError(f"{what}: exited with status {completed.returncode}")
    try:
        answer = json.loads(completed.stdout)
    except (ValueError, RecursionError):
        answer = None
    if not isinstance(answer, dict) or not all(
        isinstance(answer.get(key) or "", str) for key in ("Username", "Secret")
    ):
        raise CredentialError(f"{what}: printed something other than a JSON credential")
    username = answer.get("Username") or ""
    secret = answer.get("Secret") or ""
    if username == _TOKEN_USERNAME:
        return Credential(identity_token=secret)
    return Credential(username, secret) if (username or secret) else None
