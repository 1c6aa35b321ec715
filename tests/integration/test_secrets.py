"""No secret ever reaches stdout or stderr: passwords, base64 ``auth`` values, tokens.

``inspector check -v`` runs as a subprocess (the real entry point, real logging) with a
docker config holding credentials for an htpasswd registry and a token registry. Fault
proxies in front of both record every ``Authorization`` header the client sent, so the
tokens actually issued in the run are known and searched for too. Error paths run with
``--debug``.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.localregistry import RegistryProcess, TokenServer, push_image
from tests.integration.cli_support import builder_toml
from tests.integration.fault_proxy import FaultProxy

RUN = "registry.example.com/example/run:1.0"
MIRROR = "mirror.example.org/example/run:1.0"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@dataclass
class Setup:
    env: dict[str, str]
    builder: Path
    endpoints: list[str]
    basic: FaultProxy
    bearer: FaultProxy
    secrets: list[str]

    def run(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "inspector",
                *[a for a in extra if a == "--debug"],
                "check",
                "registry.example.com/example/app",
                "-c",
                str(self.builder),
                "--no-pack-config",
                "--timeout",
                "5",
                *self.endpoints,
                *[a for a in extra if a != "--debug"],
            ],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def sent_secrets(self) -> list[str]:
        """Every credential and token the client put in an Authorization header."""
        found = []
        for proxy in (self.basic, self.bearer):
            for request in proxy.seen():
                value = request.headers.get("authorization", "")
                scheme, _, secret = value.partition(" ")
                if secret:
                    found.append(secret)
                    if scheme == "Bearer":
                        found += [part for part in secret.split(".") if len(part) > 16]
        return found


@pytest.fixture
def setup(
    tmp_path: Path,
    htpasswd_registry: tuple[RegistryProcess, tuple[str, str]],
    token_registry: tuple[RegistryProcess, TokenServer],
) -> Iterator[Setup]:
    basic_registry, (bob, bob_password) = htpasswd_registry
    bearer_registry, token_server = token_registry
    alice, alice_password = "alice", "s3cret"
    assert token_server.users[alice] == alice_password
    push_image(basic_registry.url, "example/run", "1.0", auth=(bob, bob_password))
    push_image(bearer_registry.url, "example/run", "1.0", auth=(alice, alice_password))
    docker = tmp_path / "docker"
    docker.mkdir()
    bob_auth = b64(f"{bob}:{bob_password}")
    alice_auth = b64(f"{alice}:{alice_password}")
    (docker / "config.json").write_text(
        json.dumps(
            {
                "auths": {
                    "registry.example.com": {"auth": bob_auth},
                    "mirror.example.org": {"auth": alice_auth},
                }
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "INSPECTOR_REGISTRY_CONFIG"}
    env |= {"DOCKER_CONFIG": str(docker), "PACK_HOME": str(tmp_path / "pack"), "NO_COLOR": "1"}
    with FaultProxy(basic_registry.host) as basic, FaultProxy(bearer_registry.host) as bearer:
        yield Setup(
            env=env,
            builder=builder_toml(tmp_path, (RUN, [MIRROR])),
            endpoints=[
                "--endpoint",
                f"registry.example.com={basic.url}",
                "--endpoint",
                f"mirror.example.org={bearer.url}",
            ],
            basic=basic,
            bearer=bearer,
            secrets=[bob_password, alice_password, bob_auth, alice_auth],
        )


def assert_no_secret(setup: Setup, completed: subprocess.CompletedProcess[str]) -> None:
    secrets = setup.secrets + setup.sent_secrets()
    output = completed.stdout + completed.stderr
    leaked = [secret for secret in secrets if secret in output]
    assert leaked == [], f"secrets in the output: {leaked}"


def test_check_verbose_with_credentials_prints_no_secret(setup: Setup) -> None:
    completed = setup.run("-vv")

    assert completed.returncode == 0, completed.stderr
    assert "OK: pack would pick registry.example.com/example/run:1.0" in completed.stdout
    # -v really logged the authenticated requests and the token fetch...
    assert f"HEAD {setup.basic.url}/v2/example/run/manifests/1.0 -> 200" in completed.stderr
    assert f"HEAD {setup.bearer.url}/v2/example/run/manifests/1.0 -> 200" in completed.stderr
    assert "/token -> 200" in completed.stderr
    assert "scope=" not in completed.stderr  # query strings are never logged
    # ...with credentials and tokens that were really sent...
    sent = setup.sent_secrets()
    assert any(s == setup.secrets[2] for s in sent)  # bob's Basic credentials
    assert len(sent) >= 2  # and at least one bearer token
    # ...and none of them appears anywhere.
    assert_no_secret(setup, completed)


def test_check_json_verbose_prints_no_secret(setup: Setup) -> None:
    completed = setup.run("--json", "-v")

    document = json.loads(completed.stdout)
    assert [c["status"] for c in document["candidates"]] == ["available", "available"]
    assert_no_secret(setup, completed)


def test_wrong_password_error_path_with_debug_prints_no_secret(
    setup: Setup, tmp_path: Path
) -> None:
    wrong = "wrong-password-that-is-secret"
    config = Path(setup.env["DOCKER_CONFIG"]) / "config.json"
    document = json.loads(config.read_text())
    document["auths"]["mirror.example.org"]["auth"] = b64(f"alice:{wrong}")
    config.write_text(json.dumps(document))
    setup.secrets += [wrong, b64(f"alice:{wrong}")]

    completed = setup.run("--debug", "-v", "--json")

    [run, mirror] = json.loads(completed.stdout)["candidates"]
    assert completed.returncode == 1
    assert run["status"] == "available"
    assert mirror["status"] == "unauthorized"
    assert "token server refused the credentials" in mirror["detail"]
    assert_no_secret(setup, completed)


def test_unreachable_registry_with_credentials_and_debug_prints_no_secret(setup: Setup) -> None:
    setup.basic.stop()  # the endpoint now refuses connections

    completed = setup.run("--debug", "-vv")

    assert completed.returncode == 1
    assert "connection refused" in completed.stdout
    assert_no_secret(setup, completed)


def test_broken_docker_config_and_helper_with_debug_print_no_secret(
    setup: Setup, tmp_path: Path
) -> None:
    config = Path(setup.env["DOCKER_CONFIG"]) / "config.json"
    good = config.read_text()
    config.write_text(good.replace(setup.secrets[2], "!" + setup.secrets[2]))

    bad_base64 = setup.run("--debug", "-v")

    assert bad_base64.returncode == 2
    assert "auth is not valid base64" in bad_base64.stderr
    assert len(bad_base64.stderr.strip().splitlines()) == 1
    assert_no_secret(setup, bad_base64)

    # A helper that prints the password and fails: an error status, its output unquoted.
    helpers = tmp_path / "bin"
    helpers.mkdir()
    script = helpers / "docker-credential-leaky"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nprint('password is {setup.secrets[0]}')\n"
        f"print('{setup.secrets[1]}', file=sys.stderr)\nsys.exit(1)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    setup.env["PATH"] = f"{helpers}{os.pathsep}{setup.env['PATH']}"
    config.write_text(json.dumps({"credHelpers": {"registry.example.com": "leaky"}}))

    leaky = setup.run("--debug", "-vv", "--json")

    [run, _] = json.loads(leaky.stdout)["candidates"]
    assert run["status"] == "error"
    assert run["detail"] == (
        "credential helper docker-credential-leaky for registry.example.com: exited with status 1"
    )
    assert_no_secret(setup, leaky)
