"""Registry credentials from docker's config, looked up by the registry's logical name.

``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``: ``auths`` (base64 ``auth``,
``username``/``password``, ``identitytoken``, ``registrytoken``), ``credHelpers`` per
registry and ``credsStore`` for the rest (``docker-credential-<name> get``). Docker Hub
lives under ``https://index.docker.io/v1/`` and its other usual keys.

Secrets stay inside :class:`Credential`; its ``repr`` hides them so no log or traceback
can print one.
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

from inspector.reference import DOCKER_HUB_HOSTS
from inspector.sources.model import ConfigError

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


def config_path() -> Path:
    directory = os.environ.get("DOCKER_CONFIG")
    return (Path(directory) if directory else Path.home() / ".docker") / "config.json"


@dataclass
class Keychain:
    """Credentials of one docker config; a helper is asked at most once per registry."""

    document: dict[str, Any]
    path: str | None = None
    _cache: dict[str, Credential | None] = field(default_factory=dict)

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
        if not isinstance(document, dict):
            raise DockerConfigError(f"docker config {str(path)!r}: not a JSON object")
        return cls(document, str(path))

    def lookup(self, registry: str) -> Credential | None:
        if registry not in self._cache:
            self._cache[registry] = self._lookup(registry)
        return self._cache[registry]

    def _keys(self, registry: str) -> tuple[str, ...]:
        if registry in DOCKER_HUB_HOSTS:
            return DOCKER_HUB_KEYS
        return (registry, f"https://{registry}", f"http://{registry}")

    def _lookup(self, registry: str) -> Credential | None:
        keys = self._keys(registry)
        helpers = self.document.get("credHelpers")
        if isinstance(helpers, dict):
            for key in keys:
                helper = helpers.get(key)
                if isinstance(helper, str) and helper:
                    return run_helper(helper, keys[0])
        auths = self.document.get("auths")
        if isinstance(auths, dict):
            for key in keys:
                entry = auths.get(key)
                if isinstance(entry, dict):
                    credential = _from_auth_entry(entry, key, self.path)
                    if credential is not None:
                        return credential
        store = self.document.get("credsStore")
        if isinstance(store, str) and store:
            return run_helper(store, keys[0])
        return None


def _from_auth_entry(entry: dict[str, Any], key: str, path: str | None) -> Credential | None:
    username = entry.get("username") or ""
    password = entry.get("password") or ""
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            # Never echo the value: it is a secret.
            raise DockerConfigError(
                f"docker config {path!r}: auths[{key!r}].auth is not valid base64"
            ) from None
        username, _, password = decoded.partition(":")
    identity = entry.get("identitytoken") or ""
    registry_token = entry.get("registrytoken") or ""
    if not any((username, password, identity, registry_token)):
        return None
    return Credential(str(username), str(password), str(identity), str(registry_token))


def run_helper(name: str, server: str) -> Credential | None:
    """``docker-credential-<name> get``; a helper that fails or has nothing means anonymous."""
    try:
        completed = subprocess.run(
            [f"docker-credential-{name}", "get"],
            input=server,
            capture_output=True,
            text=True,
            timeout=HELPER_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        return None
    try:
        answer = json.loads(completed.stdout)
    except json.JSONDecodeError:
        return None
    if not isinstance(answer, dict):
        return None
    username = str(answer.get("Username") or "")
    secret = str(answer.get("Secret") or "")
    if username == _TOKEN_USERNAME:
        return Credential(identity_token=secret)
    return Credential(username, secret) if (username or secret) else None
