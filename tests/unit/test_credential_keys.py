"""docker-config keys in every form docker writes or accepts (``ConvertToHostname``), Docker
Hub's aliases, and credential helpers found only in absolute PATH directories."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from inspector.registry.credentials import (
    Credential,
    CredentialError,
    Keychain,
    convert_to_hostname,
    find_helper,
)


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "docker"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory / "config.json"


def auth(user: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:pw-{user}".encode()).decode()}


@pytest.mark.parametrize(
    ("key", "host"),
    [
        ("registry.example.com", "registry.example.com"),
        ("https://registry.example.com/v1/", "registry.example.com"),
        ("http://registry.example.com", "registry.example.com"),
        ("registry.example.com/some/path", "registry.example.com"),
        ("https://registry.example.com:5000/v2/", "registry.example.com:5000"),
        ("registry.example.com:5000/x", "registry.example.com:5000"),
        ("https://[::1]:5000/", "[::1]:5000"),
        ("https://index.docker.io/v1/", "index.docker.io"),
        ("https://user@registry.example.com/", "registry.example.com"),
    ],
)
def test_convert_to_hostname(key: str, host: str) -> None:
    assert convert_to_hostname(key) == host


@pytest.mark.parametrize(
    "key",
    [
        "https://registry.example.com/v1/",
        "http://registry.example.com",
        "registry.example.com/some/path",
        "https://registry.example.com",
    ],
)
def test_auths_under_any_key_form_are_found(docker_config: Path, key: str) -> None:
    docker_config.write_text(json.dumps({"auths": {key: auth("amy")}}))
    chain = Keychain.from_environment()
    assert chain.lookup("registry.example.com") == Credential("amy", "pw-amy")
    # The host must be the same, port included: no credential for a neighbour.
    assert chain.lookup("registry.example.com:5000") is None
    assert chain.lookup("example.com") is None
    assert chain.lookup("other.example.com") is None


def test_a_port_in_the_key_is_part_of_the_registry(docker_config: Path) -> None:
    docker_config.write_text(json.dumps({"auths": {"https://r.example.com:5000/v2/": auth("p")}}))
    chain = Keychain.from_environment()
    assert chain.lookup("r.example.com:5000") == Credential("p", "pw-p")
    assert chain.lookup("r.example.com") is None


def test_the_usual_key_wins_over_another_form(docker_config: Path) -> None:
    docker_config.write_text(
        json.dumps(
            {
                "auths": {
                    "registry.example.com/some/path": auth("path"),
                    "https://registry.example.com": auth("usual"),
                }
            }
        )
    )
    assert Keychain.from_environment().lookup("registry.example.com") == Credential(
        "usual", "pw-usual"
    )


@pytest.mark.parametrize(
    "key",
    ["https://registry-1.docker.io/v2/", "docker.io/library", "http://index.docker.io/v1/"],
)
@pytest.mark.parametrize("registry", ["docker.io", "index.docker.io", "registry-1.docker.io"])
def test_docker_hub_aliases_are_one_registry(docker_config: Path, key: str, registry: str) -> None:
    docker_config.write_text(json.dumps({"auths": {key: auth("hub")}}))
    assert Keychain.from_environment().lookup(registry) == Credential("hub", "pw-hub")


def write_helper(directory: Path, name: str, marker: Path) -> None:
    """A helper that leaves ``marker`` behind when it runs, and answers a credential."""
    path = directory / f"docker-credential-{name}"
    path.write_text(
        f"#!{sys.executable}\nimport pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
        'print(\'{"Username": "helper", "Secret": "s"}\')\n'
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_cred_helpers_under_another_key_form_are_used(
    docker_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    write_helper(bin_dir, "corp", tmp_path / "ran")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    docker_config.write_text(json.dumps({"credHelpers": {"https://registry.example.com": "corp"}}))
    assert Keychain.from_environment().lookup("registry.example.com") == Credential("helper", "s")


@pytest.mark.parametrize("relative", ["", ".", "bin", "./bin"])
def test_a_helper_in_a_relative_path_entry_is_never_run(
    docker_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relative: str
) -> None:
    work = tmp_path / "work"
    (work / "bin").mkdir(parents=True)
    marker = tmp_path / "planted-helper-ran"
    write_helper(work, "store", marker)
    write_helper(work / "bin", "store", marker)
    monkeypatch.chdir(work)
    # An empty entry (leading ':') is the current directory to a shell.
    monkeypatch.setenv("PATH", f"{relative}{os.pathsep}/usr/bin{os.pathsep}/bin")
    docker_config.write_text(json.dumps({"credsStore": "store"}))

    assert find_helper("docker-credential-store") is None
    with pytest.raises(CredentialError, match="not found in any absolute directory of PATH"):
        Keychain.from_environment().lookup("registry.example.com")
    assert not marker.exists()


def test_a_helper_in_an_absolute_path_entry_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_helper(tmp_path, "abs", tmp_path / "ran")
    monkeypatch.setenv("PATH", f"relative{os.pathsep}{tmp_path}")
    assert find_helper("docker-credential-abs") == str(tmp_path / "docker-credential-abs")
    assert find_helper("docker-credential-../abs") is None


def write_recording_helper(directory: Path, name: str, record: Path) -> None:
    """A helper that writes the server URL it was asked for (its stdin) to ``record``."""
    path = directory / f"docker-credential-{name}"
    path.write_text(
        f"#!{sys.executable}\nimport pathlib, sys\n"
        f"pathlib.Path({str(record)!r}).write_text(sys.stdin.read())\n"
        'print(\'{"Username": "helper", "Secret": "s"}\')\n'
    )
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.mark.parametrize(
    ("registry", "asked"),
    [
        # docker login stores Docker Hub under its v1 URL: that is what a store is asked.
        ("docker.io", "https://index.docker.io/v1/"),
        ("registry-1.docker.io", "https://index.docker.io/v1/"),
        ("registry.example.com", "registry.example.com"),
    ],
)
def test_a_credential_store_is_asked_for_dockers_server_name(
    docker_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: str, asked: str
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "asked"
    write_recording_helper(bin_dir, "store", record)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    docker_config.write_text(json.dumps({"credsStore": "store"}))

    assert Keychain.from_environment().lookup(registry) == Credential("helper", "s")
    assert record.read_text().strip() == asked


def test_docker_hubs_usual_key_wins_over_its_aliases(docker_config: Path) -> None:
    docker_config.write_text(
        json.dumps(
            {
                "auths": {
                    "registry-1.docker.io/v2/": auth("alias"),
                    "https://index.docker.io/v1/": auth("usual"),
                }
            }
        )
    )
    assert Keychain.from_environment().lookup("docker.io") == Credential("usual", "pw-usual")
