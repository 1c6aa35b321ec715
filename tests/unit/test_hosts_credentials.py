"""Registry config (TOML) and docker credentials as hostile input.

Every bad file is one ``ConfigError`` line naming the file and the key; no message ever
quotes a secret. Hypothesis writes registry configs and docker configs of every shape:
the loaders return a value or raise their one error type.

Examples per run: ``test_generated_registry_configs_load_or_raise_config_error`` 400,
``test_arbitrary_bytes_as_registry_config`` 200,
``test_generated_docker_configs_load_or_raise_without_the_secret`` 400
(``-s`` prints the counts).
"""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.registry import credentials, hosts
from inspector.registry.credentials import (
    Credential,
    CredentialError,
    DockerConfigError,
    Keychain,
    run_helper,
)
from inspector.registry.hosts import (
    HostConfig,
    RegistryHosts,
    is_loopback_host,
    is_private_host,
)
from inspector.sources.model import ConfigError
from tests.support import FAST

RAN: Counter[str] = Counter()
SECRET = "hunter2-very-secret"
AUTH = base64.b64encode(f"bob:{SECRET}".encode()).decode()


pytestmark = pytest.mark.usefixtures("report_counts")


def write(tmp_path: Path, text: str, name: str = "registries.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def one_line_error(path: Path | None, *overrides: str) -> str:
    with pytest.raises(ConfigError) as raised:
        hosts.load(path, overrides)
    message = str(raised.value)
    assert "\n" not in message and "\r" not in message
    return message


# --- registry config ------------------------------------------------------------------------


def test_registry_config_loads_endpoint_ca_file_and_insecure(tmp_path: Path) -> None:
    ca = write(tmp_path, "pem", "ca.pem")
    path = write(
        tmp_path,
        f"""
[registries."registry.example.com"]
endpoint = "http://127.0.0.1:5001/"
ca-file = "{ca}"
[registries."docker.io"]
insecure = true
""",
    )

    table = hosts.load(path, ["mirror.example.org=https://10.0.0.7:443"])

    assert table.config("registry.example.com") == HostConfig("http://127.0.0.1:5001/", str(ca))
    assert table.config("registry-1.docker.io").insecure  # every Hub alias, one entry
    assert table.base_urls("registry.example.com") == ["http://127.0.0.1:5001"]
    assert table.base_urls("mirror.example.org") == ["https://10.0.0.7:443"]


@pytest.mark.parametrize(
    ("registry", "urls"),
    [
        ("registry.example.com", ["https://registry.example.com"]),
        ("10.0.0.5:5000", ["https://10.0.0.5:5000"]),  # private is not loopback: HTTPS only
        ("localhost:5000", ["https://localhost:5000", "http://localhost:5000"]),
        ("127.0.0.1:5000", ["https://127.0.0.1:5000", "http://127.0.0.1:5000"]),
        ("[::1]:5000", ["https://[::1]:5000", "http://[::1]:5000"]),
        ("docker.io", ["https://registry-1.docker.io"]),
    ],
)
def test_plain_http_only_for_loopback_without_an_endpoint(registry: str, urls: list[str]) -> None:
    assert RegistryHosts({}).base_urls(registry) == urls


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('registries = "x"', "registries must be a table, not str"),
        ('[registries]\n"r.example.com" = 1', "r.example.com must be a table, not int"),
        ('[registries."r.example.com"]\nendpoint = 5', "endpoint must be a string, not int"),
        ('[registries."r.example.com"]\ninsecure = "yes"', "insecure must be true or false"),
        ('[registries."r.example.com"]\nca-file = ["a"]', "ca-file must be a string, not list"),
        ('[registries."r.example.com"]\nca_file = "x"', "unknown key 'ca_file'"),
        (
            '[registries."r.example.com"]\nca-file = "/no/such.pem"',
            "ca-file '/no/such.pem': no such file",
        ),
        ('[registries."r.example.com"]\nca-file = "a\\u0000b"', "no such file"),
        (
            '[registries."r.example.com"]\nendpoint = "ftp://x"',
            "must be an http:// or https:// URL",
        ),
        (
            '[registries."r.example.com"]\nendpoint = "registry.example.com"',
            "must be an http:// or https:// URL",
        ),
        (
            '[registries."r.example.com"]\nendpoint = "https://"',
            "must be an http:// or https:// URL",
        ),
        ('[registries."r.example.com"]\nendpoint = "https://[::1"', "invalid endpoint URL"),
        ('[registries."r.example.com"]\nendpoint = "https://xn--"', "invalid endpoint URL"),
        ('[registries."r.example.com"]\nendpoint = "https://a\\u0000b"', "invalid endpoint URL"),
        (
            '[registries."r.example.com"]\nendpoint = "https://h/v2/"',
            "must be scheme://host[:port] only",
        ),
        (
            '[registries."r.example.com"]\nendpoint = "https://h/?x=1"',
            "must be scheme://host[:port] only",
        ),
        (
            '[registries."bad name\\nwith newline"]\nendpoint = "https://h"',
            "is not a registry name",
        ),
        ("[registries\n", "invalid TOML"),
    ],
)
def test_bad_registry_config_is_one_line_naming_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)

    message = one_line_error(path)

    assert expected in message
    assert str(path) in message


def test_endpoint_with_credentials_is_refused_without_echoing_them(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f'[registries."r.example.com"]\nendpoint = "https://bob:{SECRET}@r.example.com"',
    )

    file_message = one_line_error(path)
    flag_message = one_line_error(None, f"r.example.com=https://bob:{SECRET}@10.0.0.1")
    bad_flag = one_line_error(None, f"https://bob:{SECRET}@10.0.0.1")

    assert "must not contain credentials" in file_message and "***@r.example.com" in file_message
    assert "must not contain credentials" in flag_message
    assert "expected REGISTRY=URL" in bad_flag
    for message in (file_message, flag_message, bad_flag):
        assert SECRET not in message


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("registry.example.com", "expected REGISTRY=URL"),
        ("=http://x", "expected REGISTRY=URL"),
        ("r.example.com=", "expected REGISTRY=URL"),
        ("r.example.com=localhost:5000", "must be an http:// or https:// URL"),
        ("r example.com=http://x", "is not a registry name"),
    ],
)
def test_bad_endpoint_flag_is_one_line(override: str, expected: str) -> None:
    assert expected in one_line_error(None, override)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


_SCALAR = st.one_of(
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "http://127.0.0.1:5000",
            "https://registry.example.com",
            "https://u:p@h",
            "ftp://x",
            "https://",
            "http://[::1]:1",
            "https://h/path",
            "/etc/hostname",
        ]
    ),
)
_ENTRY = st.dictionaries(
    st.sampled_from(["endpoint", "ca-file", "insecure", "ca_file", "other"]),
    st.one_of(_SCALAR, st.lists(_SCALAR, max_size=2)),
    max_size=4,
)
_NAME = st.one_of(
    st.sampled_from(["registry.example.com", "docker.io", "localhost:5000", "[::1]:5000"]),
    st.text(max_size=12),
)


@settings(FAST, max_examples=400)
@given(st.dictionaries(_NAME, _ENTRY, max_size=3), st.lists(st.text(max_size=30), max_size=2))
def test_generated_registry_configs_load_or_raise_config_error(
    registries: dict[str, dict[str, Any]], overrides: list[str]
) -> None:
    RAN["test_generated_registry_configs_load_or_raise_config_error"] += 1
    lines = []
    for name, entry in registries.items():
        lines.append(f"[registries.{json.dumps(name)}]")
        lines += [f"{json.dumps(key)} = {_toml_value(value)}" for key, value in entry.items()]
    with _scratch() as directory:
        path = directory / "registries.toml"
        path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
        try:
            table = hosts.load(path, overrides)
        except ConfigError as error:
            assert "\n" not in str(error)
            assert str(path) in str(error) or "--endpoint" in str(error)
            return
    for name, config in table.hosts.items():
        assert name == hosts.canonical(name)
        if config.endpoint:
            assert table.base_urls(name)[0].startswith(("http://", "https://"))


@settings(FAST, max_examples=200)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_as_registry_config(data: bytes) -> None:
    RAN["test_arbitrary_bytes_as_registry_config"] += 1
    with _scratch() as directory:
        path = directory / "registries.toml"
        path.write_bytes(data)
        try:
            hosts.load(path)
        except ConfigError as error:
            assert "\n" not in str(error) and str(path) in str(error)


class _scratch:
    """A fresh directory per example (pytest's tmp_path is one per test)."""

    def __enter__(self) -> Path:
        import tempfile

        self._dir = tempfile.TemporaryDirectory()
        return Path(self._dir.name)

    def __exit__(self, *_: object) -> None:
        self._dir.cleanup()


# --- addresses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST.",
        "foo.localhost",
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "0.0.0.0",
        "::1",
        "[::1]",
        "::ffff:127.0.0.1",
        "::",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.0.1",
        "169.254.169.254",
        "fe80::1",
        "fd00::1",
        "100.64.0.1",
    ],
)
def test_private_hosts_in_every_spelling(host: str) -> None:
    assert is_private_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "registry.example.com",
        "8.8.8.8",
        "2001:4860:4860::8888",
        "1.1.1.1",
        "deadbeef.com",
        "",
        "a..b",
    ],
)
def test_public_hosts(host: str) -> None:
    assert not is_private_host(host)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("127.0.0.1:5000", True),
        ("127.9.9.9", True),
        ("[::1]:5000", True),
        ("http://[::1]:5000", True),
        ("10.0.0.1", False),
        ("registry.example.com", False),
        ("[bad", False),
        ("xn--", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


# --- docker config ---------------------------------------------------------------------------


def load_error(path: Path, document: Any) -> str:
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    with pytest.raises(DockerConfigError) as raised:
        Keychain.from_environment()
    message = str(raised.value)
    assert "\n" not in message and str(path) in message
    return message


def test_missing_docker_config_is_anonymous(docker_config: Path) -> None:
    assert Keychain.from_environment().lookup("registry.example.com") is None


def test_auths_are_looked_up_by_logical_name_and_hub_keys(docker_config: Path) -> None:
    docker_config.write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": AUTH},
                    "registry.example.com": {"username": "amy", "password": "pw"},
                    "tokens.example.com": {"identitytoken": "idt"},
                }
            }
        )
    )
    chain = Keychain.from_environment()

    assert chain.lookup("index.docker.io") == Credential("bob", SECRET)
    assert chain.lookup("registry-1.docker.io") == Credential("bob", SECRET)
    assert chain.lookup("registry.example.com") == Credential("amy", "pw")
    assert chain.lookup("tokens.example.com") == Credential(identity_token="idt")
    assert chain.lookup("other.example.com") is None


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{not json", "invalid JSON at line 1"),
        ("[]", "not a JSON object"),
        ({"auths": []}, "auths must be an object"),
        ({"auths": {"r.example.com": "x"}}, "auths['r.example.com'] must be an object"),
        ({"auths": {"r.example.com": {"auth": "%%%" + SECRET}}}, "auth is not valid base64"),
        (
            {"auths": {"r.example.com": {"auth": base64.b64encode(SECRET.encode()).decode()}}},
            "not base64 of user:password",
        ),
        (
            {
                "auths": {
                    "r.example.com": {
                        "auth": base64.b64encode(b"\xff\xfe" + SECRET.encode()).decode()
                    }
                }
            },
            "not valid base64",
        ),
        ({"auths": {"r.example.com": {"password": 12345}}}, "password must be a string"),
    ],
)
def test_bad_docker_config_is_one_line_without_the_secret(
    docker_config: Path, document: Any, expected: str
) -> None:
    message = load_error(docker_config, document)

    assert expected in message
    assert SECRET not in message
    assert base64.b64encode(SECRET.encode()).decode() not in message


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=10)
    | st.just(AUTH)
    | st.just(SECRET),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["auth", "username", "password", "identitytoken", "registrytoken", "x"]
            ),
            inner,
            max_size=3,
        )
    ),
    max_leaves=8,
)


@settings(FAST, max_examples=400)
@given(
    st.dictionaries(
        st.sampled_from(["auths", "credHelpers", "other"]),
        st.one_of(
            _JSON,
            st.dictionaries(
                st.sampled_from(["r.example.com", "docker.io", "https://index.docker.io/v1/"]),
                _JSON,
                max_size=3,
            ),
        ),
        max_size=3,
    )
)
def test_generated_docker_configs_load_or_raise_without_the_secret(
    document: dict[str, Any],
) -> None:
    RAN["test_generated_docker_configs_load_or_raise_without_the_secret"] += 1
    chain = Keychain(document, "config.json")
    try:
        chain.validate()
        for registry in ("r.example.com", "index.docker.io"):
            credential = chain.lookup(registry)
            assert credential is None or isinstance(credential, Credential)
    except DockerConfigError as error:
        assert "\n" not in str(error)
        assert SECRET not in str(error) and AUTH not in str(error)
    except CredentialError as error:  # a credHelpers entry names a helper that is not there
        assert "cannot run it" in str(error)


# --- credential helpers -----------------------------------------------------------------------


@pytest.fixture
def helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")
    return directory


def helper(directory: Path, name: str, body: str) -> None:
    path = directory / f"docker-credential-{name}"
    path.write_text(f"#!{sys.executable}\nimport sys, time\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_helper_credentials_and_identity_tokens(helpers: Path) -> None:
    answer = json.dumps({"Username": "bob", "Secret": SECRET})
    helper(helpers, "good", f"print({answer!r})")
    helper(helpers, "tok", 'print(\'{"Username": "<token>", "Secret": "refresh"}\')')

    assert run_helper("good", "r.example.com") == Credential("bob", SECRET)
    assert run_helper("tok", "r.example.com") == Credential(identity_token="refresh")


def test_helper_with_nothing_stored_means_anonymous(helpers: Path) -> None:
    helper(helpers, "empty", 'print("credentials not found in native keychain"); sys.exit(1)')

    assert run_helper("empty", "r.example.com") is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            f'print("here is {SECRET}, oops"); sys.exit(0)',
            "printed something other than a JSON credential",
        ),
        (f"print({json.dumps({'Username': 1, 'Secret': [SECRET]})!r})", "printed something other"),
        (f'print("{SECRET}", file=sys.stderr); sys.exit(3)', "exited with status 3"),
    ],
)
def test_broken_helper_is_an_error_that_does_not_echo_its_output(
    helpers: Path, body: str, expected: str
) -> None:
    helper(helpers, "broken", body)

    with pytest.raises(CredentialError) as raised:
        run_helper("broken", "r.example.com")

    assert expected in str(raised.value)
    assert "docker-credential-broken" in str(raised.value)
    assert SECRET not in str(raised.value)


def test_hanging_helper_is_cut_at_the_timeout(helpers: Path) -> None:
    helper(helpers, "hang", "time.sleep(30)")

    started = time.monotonic()
    with pytest.raises(CredentialError, match=r"no answer in 0\.3 s"):
        run_helper("hang", "r.example.com", timeout=0.3)

    assert time.monotonic() - started < 2.0


def test_missing_helper_is_an_error(helpers: Path) -> None:
    with pytest.raises(CredentialError, match=r"docker-credential-nope.*cannot run it"):
        run_helper("nope", "r.example.com")


def test_cred_helpers_win_over_auths_and_creds_store(helpers: Path, docker_config: Path) -> None:
    helper(helpers, "per", 'print(\'{"Username": "per", "Secret": "p"}\')')
    helper(helpers, "store", 'print(\'{"Username": "store", "Secret": "s"}\')')
    docker_config.write_text(
        json.dumps(
            {
                "credHelpers": {"r.example.com": "per"},
                "auths": {"r.example.com": {"auth": AUTH}, "a.example.com": {"auth": AUTH}},
                "credsStore": "store",
            }
        )
    )
    chain = Keychain.from_environment()

    assert chain.lookup("r.example.com") == Credential("per", "p")
    assert chain.lookup("a.example.com") == Credential("bob", SECRET)
    assert chain.lookup("z.example.com") == Credential("store", "s")


def test_keychain_asks_a_helper_once_per_registry(helpers: Path, tmp_path: Path) -> None:
    count = tmp_path / "count"
    helper(
        helpers,
        "counted",
        f'open({str(count)!r}, \'a\').write(\'x\'); print(\'{{"Username": "u", "Secret": "s"}}\')',
    )
    chain = Keychain({"credsStore": "counted"})

    for _ in range(3):
        chain.lookup("r.example.com")

    assert count.read_text() == "x"
    assert credentials.HELPER_TIMEOUT_SECONDS >= 1
