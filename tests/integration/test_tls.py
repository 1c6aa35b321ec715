"""TLS with a throwaway CA (trustme): a TLS-terminating fault proxy in front of a real
``docker-registry``. Verified by default; trusted per registry with ``ca-file``; skipped
per registry only with ``insecure = true``, loudly."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from devtools.localregistry import PushedImage, RegistryProcess, push_image
from inspector.registry import retry as retry_module
from tests.integration.cli_support import Result, builder_toml, inspector, isolate
from tests.integration.fault_proxy import FaultProxy

NAME = "registry.example.com"
RUN = f"{NAME}/example/run:1.0"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # The plain-HTTP fallback against a TLS-only port is a dropped connection, retried.
    monkeypatch.setattr(retry_module, "BACKOFF_INITIAL", 0.01)
    monkeypatch.setattr(retry_module, "BACKOFF_MAX", 0.02)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*names).configure_cert(context)
    return context


@pytest.fixture
def image(registry: RegistryProcess) -> PushedImage:
    return push_image(registry.url, "example/run", "1.0")


@pytest.fixture
def tls_proxy(registry: RegistryProcess, ca: trustme.CA) -> Iterator[FaultProxy]:
    with FaultProxy(registry.host, tls=server_context(ca, "127.0.0.1", "localhost")) as proxy:
        yield proxy


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def check(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    registries: str,
    run: str = RUN,
    *extra: str,
) -> Result:
    isolate(tmp_path, monkeypatch)
    config = tmp_path / "registries.toml"
    config.write_text(registries)
    builder = builder_toml(tmp_path, (run, []))
    return inspector(
        capsys,
        "check",
        f"{NAME}/example/app",
        "-c",
        str(builder),
        "--no-pack-config",
        "--registry-config",
        str(config),
        "--timeout",
        "2",
        "--json",
        *extra,
    )


def entry(url: str, **settings: str | bool) -> str:
    lines = [f'[registries."{NAME}"]', f'endpoint = "{url}"']
    for key, value in settings.items():
        shown = ("true" if value else "false") if isinstance(value, bool) else f'"{value}"'
        lines.append(f"{key.replace('_', '-')} = {shown}")
    return "\n".join(lines) + "\n"


def test_untrusted_certificate_is_unreachable_with_a_tls_detail(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tls_proxy: FaultProxy,
    image: PushedImage,
) -> None:
    result = check(capsys, tmp_path, monkeypatch, entry(tls_proxy.url))

    [candidate] = result.json()["candidates"]
    assert candidate["status"] == "unreachable" and candidate["digest"] is None
    assert "TLS error" in candidate["detail"] and "certificate verify failed" in candidate["detail"]
    assert result.code == 1
    assert tls_proxy.seen() == []  # not one request got through


def test_ca_file_makes_the_registry_available(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tls_proxy: FaultProxy,
    image: PushedImage,
    ca_file: Path,
) -> None:
    result = check(capsys, tmp_path, monkeypatch, entry(tls_proxy.url, ca_file=str(ca_file)))

    [candidate] = result.json()["candidates"]
    assert (candidate["status"], candidate["digest"]) == ("available", image.digest)
    assert result.code == 0 and result.err == ""
    # Ping, HEAD; then pack's pick verified down to its blobs: GET, a HEAD per blob.
    assert [r.method for r in tls_proxy.seen()] == ["GET", "HEAD", "GET", "HEAD", "HEAD"]


def test_ca_file_of_another_registry_does_not_trust_this_one(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tls_proxy: FaultProxy,
    image: PushedImage,
    ca_file: Path,
) -> None:
    config = entry(tls_proxy.url) + f'[registries."other.example.com"]\nca-file = "{ca_file}"\n'

    result = check(capsys, tmp_path, monkeypatch, config)

    [candidate] = result.json()["candidates"]
    assert (
        candidate["status"] == "unreachable" and "certificate verify failed" in candidate["detail"]
    )


def test_certificate_for_another_name_fails_even_with_the_ca_file(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    registry: RegistryProcess,
    image: PushedImage,
    ca: trustme.CA,
    ca_file: Path,
) -> None:
    with FaultProxy(registry.host, tls=server_context(ca, "other.example.com")) as proxy:
        result = check(capsys, tmp_path, monkeypatch, entry(proxy.url, ca_file=str(ca_file)))

    [candidate] = result.json()["candidates"]
    assert candidate["status"] == "unreachable"
    assert "TLS error" in candidate["detail"] and "127.0.0.1" in candidate["detail"]


def test_insecure_skips_verification_for_that_registry_with_a_warning(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tls_proxy: FaultProxy,
    image: PushedImage,
) -> None:
    result = check(capsys, tmp_path, monkeypatch, entry(tls_proxy.url, insecure=True))

    [candidate] = result.json()["candidates"]
    assert (candidate["status"], candidate["digest"]) == ("available", image.digest)
    assert result.err == f"inspector: TLS verification is OFF for {NAME} (insecure = true)\n"


def test_loopback_name_without_endpoint_tries_https_then_plain_http_and_reports_both(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tls_proxy: FaultProxy,
    image: PushedImage,
) -> None:
    # The proxy speaks only TLS, with a certificate we do not trust: HTTPS fails on the
    # certificate, and the plain-HTTP fallback docker allows for loopback fails too.
    result = check(capsys, tmp_path, monkeypatch, "", f"{tls_proxy.host}/example/run:1.0")

    [candidate] = result.json()["candidates"]
    assert candidate["status"] == "unreachable"
    detail = candidate["detail"]
    assert f"https://{tls_proxy.host}: TLS error" in detail
    assert f"http://{tls_proxy.host}: " in detail


def test_credentials_travel_over_verified_tls(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    htpasswd_registry: tuple[RegistryProcess, tuple[str, str]],
    ca: trustme.CA,
    ca_file: Path,
) -> None:
    registry, (user, password) = htpasswd_registry
    image = push_image(registry.url, "example/run", "1.0", auth=(user, password))
    docker = isolate(tmp_path, monkeypatch)
    (docker / "config.json").write_text(
        f'{{"auths": {{"{NAME}": {{"username": "{user}", "password": "{password}"}}}}}}'
    )
    with FaultProxy(registry.host, tls=server_context(ca, "127.0.0.1")) as proxy:
        config = tmp_path / "registries.toml"
        config.write_text(entry(proxy.url, ca_file=str(ca_file)))
        builder = builder_toml(tmp_path, (RUN, []))
        result = inspector(
            capsys,
            "check",
            f"{NAME}/example/app",
            "-c",
            str(builder),
            "--no-pack-config",
            "--registry-config",
            str(config),
            "--json",
        )
        head = proxy.seen("HEAD")

    [candidate] = result.json()["candidates"]
    assert (candidate["status"], candidate["digest"]) == ("available", image.digest)
    assert head[-1].headers["authorization"].startswith("Basic ")
