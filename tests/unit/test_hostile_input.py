"""Hostile input end to end: the CLI turns every expected error into one line (exit 2) or a
per-candidate status, and an unexpected one into one line naming ``--debug``.

Hypothesis sends what a hostile registry controls — redirect ``Location`` values, manifest
bodies — through the client; every outcome is a status, never an exception.

Examples per run: ``test_hostile_location_header_is_a_status`` 200,
``test_hostile_manifest_body_is_a_manifest_or_an_error`` 300 (``-s`` prints the counts).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.cli import main
from inspector.reference import parse
from inspector.registry import retry as retry_module
from inspector.registry.client import DOCKER_MANIFEST, OCI_INDEX, RegistryClient, RegistryError
from inspector.registry.hosts import RegistryHosts
from inspector.registry.model import Status

RAN: Counter[str] = Counter()
FAST = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SECRET = "hunter2-very-secret"
BASE = "https://registry.example.com"
REF = parse("registry.example.com/example/run:1.0")
MANIFEST = f"{BASE}/v2/example/run/manifests/1.0"


@pytest.fixture(scope="module", autouse=True)
def report_counts() -> Iterator[None]:
    # Retries of dropped connections (an unparsable Location is a RemoteProtocolError)
    # wait next to nothing here; test_client_respx.py checks the waits themselves.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(retry_module, "BACKOFF_INITIAL", 0.0)
        patch.setattr(retry_module, "BACKOFF_MAX", 0.0)
        yield
    for name, count in sorted(RAN.items()):
        print(f"\n{name}: {count} examples")


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No docker, pack or registry config from the machine; returns DOCKER_CONFIG."""
    docker = tmp_path / "docker"
    docker.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    monkeypatch.setenv("PACK_HOME", str(tmp_path / "pack"))
    monkeypatch.delenv("INSPECTOR_REGISTRY_CONFIG", raising=False)
    (tmp_path / "builder.toml").write_text(
        '[[run.images]]\nimage = "registry.example.com/example/run"\nmirrors = []\n'
    )
    return docker


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    assert isinstance(code, int)
    return code, out, err


def check(capsys: pytest.CaptureFixture[str], tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    return cli(
        capsys,
        "check",
        "registry.example.com/example/app",
        "-c",
        str(tmp_path / "builder.toml"),
        "--timeout",
        "0.5",
        *extra,
    )


def assert_one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ('[registries."registry.example.com"]\nendpoint = 1', "endpoint must be a string"),
        (
            '[registries."registry.example.com"]\nendpoint = "nope"',
            "must be an http:// or https:// URL",
        ),
        ('[registries."registry.example.com"]\ninsecure = 1', "insecure must be true or false"),
        ("[registries.", "invalid TOML"),
        (
            f'[registries."registry.example.com"]\nendpoint = "https://u:{SECRET}@h"',
            "must not contain credentials",
        ),
    ],
)
def test_bad_registry_config_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, isolated: Path, config: str, expected: str
) -> None:
    path = tmp_path / "registries.toml"
    path.write_text(config)

    code, out, err = check(capsys, tmp_path, "--registry-config", str(path))

    line = assert_one_line(err)
    assert code == 2 and out == ""
    assert line.startswith("inspector: error: ") and expected in line and str(path) in line
    assert SECRET not in err


def test_ca_file_that_is_not_a_certificate_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, isolated: Path
) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    path = tmp_path / "registries.toml"
    path.write_text(f'[registries."registry.example.com"]\nca-file = "{bogus}"\n')

    code, _, err = check(capsys, tmp_path, "--registry-config", str(path))

    line = assert_one_line(err)
    assert code == 2 and "not a readable PEM certificate file" in line and str(bogus) in line


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("registry.example.com", "expected REGISTRY=URL"),
        ("registry.example.com=ftp://x", "must be an http:// or https:// URL"),
        (f"registry.example.com=https://bob:{SECRET}@x", "must not contain credentials"),
    ],
)
def test_bad_endpoint_flag_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, isolated: Path, flag: str, expected: str
) -> None:
    code, _, err = check(capsys, tmp_path, "--endpoint", flag)

    assert code == 2 and expected in assert_one_line(err)
    assert SECRET not in err


@pytest.mark.parametrize(
    "document",
    [
        "{broken",
        json.dumps({"auths": {"registry.example.com": {"auth": "!!" + SECRET}}}),
        json.dumps(
            {
                "auths": {
                    "registry.example.com": {"auth": base64.b64encode(SECRET.encode()).decode()}
                }
            }
        ),
    ],
)
def test_bad_docker_config_exits_2_without_the_secret(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, isolated: Path, document: str
) -> None:
    (isolated / "config.json").write_text(document)

    code, out, err = check(capsys, tmp_path)

    line = assert_one_line(err)
    assert code == 2 and out == "" and "docker config" in line
    assert SECRET not in err and base64.b64encode(SECRET.encode()).decode() not in err


def test_network_failure_is_a_status_not_an_error_exit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, isolated: Path
) -> None:
    code, out, err = check(
        capsys, tmp_path, "--endpoint", "registry.example.com=http://registry.invalid", "--json"
    )

    [candidate] = json.loads(out)["candidates"]
    assert code == 1 and err == ""
    assert candidate["status"] == "unreachable"
    assert "DNS lookup failed" in candidate["detail"]


def test_unexpected_exception_is_one_line_naming_debug(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    isolated: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*_: Any, **__: Any) -> Any:
        raise ZeroDivisionError(f"a bug that happens to hold {SECRET}")

    monkeypatch.setattr(RegistryClient, "probe", broken)

    code, out, err = check(
        capsys, tmp_path, "--endpoint", "registry.example.com=http://127.0.0.1:9"
    )

    line = assert_one_line(err)
    assert code == 3 and out == ""
    assert "ZeroDivisionError" in line and "--debug" in line
    assert SECRET not in err  # the message of an unexpected error is not printed without --debug

    with pytest.raises(ZeroDivisionError):
        main(
            [
                "--debug",
                "check",
                "registry.example.com/example/app",
                "-c",
                str(tmp_path / "builder.toml"),
            ]
        )


# --- what a hostile registry controls, through the client --------------------------------------


def _probe(router: respx.Router) -> Any:
    async def go() -> Any:
        transport = httpx.MockTransport(router.async_handler)
        async with RegistryClient(RegistryHosts({}), timeout=1.0, transport=transport) as client:
            return await client.probe(REF)

    return asyncio.run(go())


_LOCATIONS = st.one_of(
    st.text(max_size=60),
    st.builds(lambda host: f"https://{host}/x", st.text(max_size=30)),
    st.sampled_from(
        [
            "https://xn--/x",
            "https://[::1/x",
            "http://169.254.169.254/",
            "ftp://x/",
            "//other.example.com/x",
            "https://a\x00b/",
            "https://999.999.999.999/",
            "https://:0/",
        ]
    ),
)


@settings(FAST, max_examples=200)
@given(_LOCATIONS)
def test_hostile_location_header_is_a_status(location: str) -> None:
    RAN["test_hostile_location_header_is_a_status"] += 1
    router = respx.Router(assert_all_called=False)
    router.get(f"{BASE}/v2/").respond(200)
    router.head(MANIFEST).respond(302, headers=[(b"Location", location.encode("utf-8"))])
    router.route().respond(404)

    result = _probe(router)

    assert result.status in (Status.MISSING, Status.ERROR, Status.UNREACHABLE)
    assert result.detail


_MANIFEST_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["mediaType", "manifests", "platform", "digest", "os", "architecture", "x"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(FAST, max_examples=300)
@given(
    st.one_of(_MANIFEST_JSON.map(lambda d: json.dumps(d).encode()), st.binary(max_size=100)),
    st.sampled_from([OCI_INDEX, DOCKER_MANIFEST, "application/json", ""]),
)
def test_hostile_manifest_body_is_a_manifest_or_an_error(body: bytes, media_type: str) -> None:
    RAN["test_hostile_manifest_body_is_a_manifest_or_an_error"] += 1
    router = respx.Router(assert_all_called=False)
    router.get(f"{BASE}/v2/").respond(200)
    router.get(MANIFEST).respond(200, headers={"Content-Type": media_type}, content=body)

    async def go() -> Any:
        transport = httpx.MockTransport(router.async_handler)
        async with RegistryClient(RegistryHosts({}), transport=transport) as client:
            try:
                manifest = await client.get_manifest(REF)
                return manifest, manifest.platforms() if manifest.is_index else {}
            except RegistryError as error:
                return error

    outcome = asyncio.run(go())

    if isinstance(outcome, RegistryError):
        assert outcome.status is Status.ERROR and outcome.detail
    else:
        manifest, platforms = outcome
        assert manifest.digest == "sha256:" + hashlib.sha256(body).hexdigest()
        assert isinstance(json.loads(body), dict)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in platforms.items())
