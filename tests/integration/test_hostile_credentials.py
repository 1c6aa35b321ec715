"""Credentials only to their own origin, against hostile servers started in each test.

A real ``docker-registry`` sits behind a :class:`FaultProxy` that plays the hostile part
(an upload ``Location`` or a redirect on another origin, ``127.0.0.2``), and every test
asserts on what that other origin *received*: no ``Authorization``, no refresh token. Also:
no error message quotes a credential, the token scope is the repository's own name, the
warning for an endpoint on another host, and sync's guard against remote write targets and
against clobbering a tag that moved.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import RegistryFactory, builder_toml, endpoints, inspector, write_docker_config
from fault_proxy import RELOCATE, RESPOND, FaultProxy
from seed_support import served_digest as served
from test_builder_image import builder_metadata, push_builder

from devtools.localregistry import (
    RegistryProcess,
    TokenServer,
    push_image,
    registry_client,
)

RUN = "registry.example.com/example/run:1.0"
MIRROR = "mirror.example.org/example/run:1.0"


@pytest.fixture
def elsewhere(registry: RegistryProcess) -> Iterator[FaultProxy]:
    """Another origin (127.0.0.2) in front of an anonymous registry: a storage host."""
    with FaultProxy(registry.host, bind="127.0.0.2") as proxy:
        yield proxy


def authorized(proxy: FaultProxy) -> list[str]:
    return [f"{r.method} {r.path}" for r in proxy.requests if "authorization" in r.headers]


# --- 1. an upload Location on another origin gets no Authorization (sync and preflight) --------


def test_sync_sends_no_credentials_to_an_upload_location_on_another_origin(
    registry_factory: RegistryFactory,
    htpasswd_registry: tuple[RegistryProcess, tuple[str, str]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    docker_config: Path,
) -> None:
    source = registry_factory()
    push_image(source.url, "example/run", "1.0")
    mirror, (user, password) = htpasswd_registry
    write_docker_config(docker_config, "mirror.example.org", user, password)
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    with FaultProxy(mirror.host) as front, FaultProxy(mirror.host, bind="127.0.0.2") as other:
        front.add(RELOCATE, method="POST", path="/blobs/uploads/", origin=other.url)
        flags = endpoints(registry_example_com=source, mirror_example_org=front.url)
        result = inspector(capsys, "sync", "-c", str(builder), *flags, "--json")

    assert other.seen("PUT", "/v2/example/run/blobs/uploads/"), other.requests
    assert authorized(other) == []  # the user's Basic credentials never left their origin
    assert authorized(front)  # ... where they were used
    # That origin wants credentials it does not get: the copy fails cleanly, tag untouched.
    assert result.code == 1
    assert "HTTP 401" in result.json()["mirrors"][0]["detail"]
    assert served(mirror, "example/run", "1.0", (user, password)) is None
    assert password not in result.out + result.err


def test_an_upload_location_on_a_storage_origin_still_works(
    registry_factory: RegistryFactory,
    registry: RegistryProcess,
    elsewhere: FaultProxy,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    docker_config: Path,
) -> None:
    source = registry_factory()
    pushed = push_image(source.url, "example/run", "1.0")
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    with FaultProxy(registry.host) as front:
        front.add(RELOCATE, method="POST", path="/blobs/uploads/", origin=elsewhere.url)
        flags = endpoints(registry_example_com=source, mirror_example_org=front.url)
        result = inspector(capsys, "sync", "-c", str(builder), *flags, "--json")

    assert result.code == 0, result.out
    assert len(elsewhere.seen("PUT")) == 2  # config and layer went to the storage origin
    assert served(registry, "example/run", "1.0", ("", "")) == pushed.digest


def test_preflight_cancels_an_upload_on_another_origin_without_credentials(
    htpasswd_registry: tuple[RegistryProcess, tuple[str, str]],
    elsewhere: FaultProxy,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    docker_config: Path,
) -> None:
    private, (user, password) = htpasswd_registry
    push_image(private.url, "example/run", "1.0", auth=(user, password))
    write_docker_config(docker_config, "registry.example.com", user, password)
    builder = builder_toml(tmp_path, (RUN, []))
    with FaultProxy(private.host) as front:
        front.add(RELOCATE, method="POST", path="/blobs/uploads/", origin=elsewhere.url)
        flags = ["-c", str(builder), *endpoints(registry_example_com=front.url), "--json"]
        result = inspector(capsys, "preflight", "registry.example.com/acme/app:1", *flags)

    assert elsewhere.seen("DELETE", "/v2/acme/app/blobs/uploads/")  # one policy with sync
    assert authorized(elsewhere) == []
    assert authorized(front)
    assert result.json()["push"]["allowed"] is True
    assert password not in result.out + result.err


# --- 1b. a blob GET redirected to a storage origin: followed, without Authorization ------------


def test_blob_redirect_to_a_storage_origin_is_followed_without_credentials(
    htpasswd_registry: tuple[RegistryProcess, tuple[str, str]],
    capsys: pytest.CaptureFixture[str],
    docker_config: Path,
) -> None:
    private, (user, password) = htpasswd_registry
    label = json.dumps(builder_metadata())
    pushed = push_image(
        private.url,
        "example/builder",
        "jammy",
        labels={"io.buildpacks.builder.metadata": label},
        auth=(user, password),
    )
    with registry_client((user, password)) as client:
        config = client.get(f"{private.url}/v2/example/builder/blobs/{pushed.config_digest}")
    write_docker_config(docker_config, "registry.example.com", user, password)
    with FaultProxy(private.host) as front, FaultProxy(None, bind="127.0.0.2") as storage:
        storage.add(RESPOND, path="/bucket/", body=config.content)
        front.add(
            RESPOND,
            method="GET",
            path="/blobs/",
            status=307,
            headers={"Location": f"{storage.url}/bucket/config?sig=x"},
            body=b"",
        )
        flags = endpoints(registry_example_com=front.url)
        result = inspector(capsys, "builder", "registry.example.com/example/builder:jammy", *flags)

    assert result.code == 0, result.err
    assert front.seen("GET", "/blobs/")[0].headers["authorization"].startswith("Basic ")
    assert [r.path for r in storage.requests] == ["/bucket/config?sig=x"]
    assert authorized(storage) == []


# --- 2. a token POST (identity token) never follows a redirect to another origin ---------------


def test_refresh_token_is_never_sent_to_another_origin(
    registry_factory: RegistryFactory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    docker_config: Path,
) -> None:
    refresh = "refresh-token-SECRET-1234"
    entry = {"auth": "PHRva2VuPjo=", "identitytoken": refresh}  # "<token>:", as docker writes
    (docker_config / "config.json").write_text(
        json.dumps({"auths": {"registry.example.com": entry}})
    )
    builder = builder_toml(tmp_path, (RUN, []))
    with TokenServer(users={"alice": "s3cret"}, refresh_tokens={refresh: "alice"}) as tokens:
        registry = registry_factory(token=tokens)
        push_image(registry.url, "example/run", "1.0", auth=("alice", "s3cret"))
        flags = ["-c", str(builder), *endpoints(registry_example_com=registry)]
        with FaultProxy(None, bind="127.0.0.2") as hostile:
            hostile.add(RESPOND, body=b'{"access_token": "stolen"}')
            tokens.redirect_to = f"{hostile.url}/token"  # a 307: httpx would re-POST the body
            redirected = inspector(capsys, "check", "registry.example.com/acme/app", *flags)
            tokens.redirect_to = None
            honest = inspector(capsys, "check", "registry.example.com/acme/app", *flags)

    assert hostile.requests == []  # neither the body nor any header crossed the origin
    assert any(r["status"] == 307 for r in tokens.requests)
    assert redirected.code == 1
    assert "redirected a POST to another origin" in redirected.out
    assert refresh not in redirected.out + redirected.err
    # The same identity token works when the realm behaves (the POST grant is real).
    assert honest.code == 0, honest.out
    assert any(r["user"] == "alice" and r["status"] == 200 for r in tokens.requests)


def test_a_token_get_redirected_to_another_origin_loses_its_credentials(
    token_registry: tuple[RegistryProcess, TokenServer],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    docker_config: Path,
) -> None:
    registry, tokens = token_registry
    push_image(registry.url, "example/run", "1.0", auth=("alice", "s3cret"))
    write_docker_config(docker_config, "registry.example.com", "alice", "s3cret")
    builder = builder_toml(tmp_path, (RUN, []))
    with FaultProxy(None, bind="127.0.0.2") as hostile:
        hostile.add(RESPOND, body=b'{"token": "from-elsewhere"}')
        tokens.redirect_to = f"{hostile.url}/token"
        flags = ["-c", str(builder), *endpoints(registry_example_com=registry)]
        result = inspector(capsys, "check", "registry.example.com/acme/app", *flags)

    assert hostile.seen("GET", "/token")  # a GET may follow (nothing secret in its body) ...
    assert authorized(hostile) == []  # ... but alice's Basic credentials stay home
    assert result.code == 1  # the foreign token is worth nothing at the registry
    assert "s3cret" not in result.out + result.err


# --- 3. no error message quotes a credential ---------------------------------------------------


@pytest.mark.parametrize("stray", ["\n", "\r", "\x00", " ", "\nX-Injected: 1"])
def test_a_malformed_registrytoken_is_never_printed(
    stray: str,
    token_registry: tuple[RegistryProcess, TokenServer],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    docker_config: Path,
) -> None:
    registry, _ = token_registry
    secret = "registry-token-SECRET-5678"
    entry = {"registrytoken": secret + stray}
    (docker_config / "config.json").write_text(
        json.dumps({"auths": {"registry.example.com": entry}})
    )
    builder = builder_toml(tmp_path, (RUN, []))
    with FaultProxy(registry.host) as front:
        flags = ["-c", str(builder), *endpoints(registry_example_com=front.url)]
        table = inspector(capsys, "check", "registry.example.com/acme/app", *flags)
        as_json = inspector(capsys, "check", "registry.example.com/acme/app", *flags, "--json")

    assert all("authorization" not in r.headers for r in front.requests)  # never sent
    for result in (table, as_json):
        assert result.code == 1
        assert secret not in result.out + result.err
        assert "not a valid HTTP header value" in result.out
    assert as_json.json()["candidates"][0]["status"] == "unauthorized"


# --- 11. a warning when credentials go to an endpoint on another host --------------------------


def test_warns_once_when_credentials_go_to_an_endpoint_on_another_host(
    htpasswd_registry: tuple[RegistryProcess, tuple[str, str]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    docker_config: Path,
) -> None:
    private, (user, password) = htpasswd_registry
    push_image(private.url, "example/run", "1.0", auth=(user, password))
    push_image(private.url, "example/run", "2.0", auth=(user, password))
    builder = builder_toml(tmp_path, (RUN, ["registry.example.com/example/run:2.0"]))
    flags = ["-c", str(builder), *endpoints(registry_example_com=private)]

    anonymous = inspector(capsys, "mirrors", *flags)
    write_docker_config(docker_config, "registry.example.com", user, password)
    logged_in = inspector(capsys, "mirrors", *flags)

    assert "another host" not in anonymous.err  # no credentials, nothing to warn about
    warning = f"credentials for registry.example.com go to endpoint {private.host.split(':')[0]}"
    assert logged_in.err.count(warning) == 1, logged_in.err
    assert password not in logged_in.err


# --- issue 18: the token scope is the repository's own name ------------------------------------


def test_a_repository_named_like_an_api_path_gets_its_own_scope(
    token_registry: tuple[RegistryProcess, TokenServer],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    docker_config: Path,
) -> None:
    registry, tokens = token_registry
    push_image(registry.url, "team/manifests/tool", "1.0", auth=("alice", "s3cret"))
    write_docker_config(docker_config, "registry.example.com", "alice", "s3cret")
    image = "registry.example.com/team/manifests/tool:1.0"
    builder = builder_toml(tmp_path, (image, []))
    tokens.reset()

    result = inspector(
        capsys, "mirrors", "-c", str(builder), *endpoints(registry_example_com=registry), "--json"
    )

    assert result.code == 0, result.out
    assert result.json()["run_images"][0]["status"] == "available"
    assert [r["scopes"] for r in tokens.requests] == [["repository:team/manifests/tool:pull"]]


# --- 4. sync writes only where the user named the targets locally ------------------------------


def test_sync_from_a_remote_builder_label_writes_nothing_without_an_allow_list(
    registry_factory: RegistryFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = registry_factory()
    production = registry_factory()
    attacker = push_image(hub.url, "example/run", "1.0", layer_seed="attacker")
    honest = push_image(production.url, "prod/app", "live", layer_seed="production")
    # A hostile label: "mirror" the attacker's image over a production tag.
    push_builder(hub, builder_metadata(run=RUN, mirrors=("prod.example.com/prod/app:live",)))
    flags = [
        "--builder",
        "registry.example.com/example/builder:jammy",
        *endpoints(registry_example_com=hub, prod_example_com=production),
    ]

    refused = inspector(capsys, "sync", *flags)
    refused_json = inspector(capsys, "sync", *flags, "--json")
    after_refusal = served(production, "prod/app", "live", ("", ""))
    allowed = inspector(capsys, "sync", *flags, "--allow-registry", "prod.example.com")

    assert refused.code == 1
    assert "nothing was written" in refused.err and "--allow-registry" in refused.err
    assert "prod.example.com/prod/app:live" in refused.out  # the plan is shown
    # The JSON agrees with the exit code: not ok, and why.
    assert refused_json.code == 1
    assert refused_json.json()["ok"] is False
    assert "nothing was written" in refused_json.json()["refused"][0]
    assert after_refusal == honest.digest
    assert allowed.code == 0, allowed.out  # named locally: the user's decision
    assert served(production, "prod/app", "live", ("", "")) == attacker.digest


def test_sync_allow_registry_limits_writes_to_that_registry(
    registry_factory: RegistryFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub, one, two = registry_factory(), registry_factory(), registry_factory()
    pushed = push_image(hub.url, "example/run", "1.0")
    mirrors = ("one.example.com/example/run:1.0", "two.example.com/example/run:1.0")
    push_builder(hub, builder_metadata(run=RUN, mirrors=mirrors))
    flags = [
        "--builder",
        "registry.example.com/example/builder:jammy",
        *endpoints(registry_example_com=hub, one_example_com=one, two_example_com=two),
        "--json",
    ]

    result = inspector(capsys, "sync", *flags, "--allow-registry", "two.example.com")

    assert result.code == 0, result.out
    assert [m["mirror"] for m in result.json()["mirrors"]] == [mirrors[1]]
    assert served(one, "example/run", "1.0", ("", "")) is None
    assert served(two, "example/run", "1.0", ("", "")) == pushed.digest


def test_sync_rejects_a_malformed_allow_registry(capsys: pytest.CaptureFixture[str]) -> None:
    result = inspector(capsys, "sync", "--builder", "x/y", "--allow-registry", "a b/c")
    assert result.code == 2
    assert "--allow-registry" in result.err


# --- 5. the tag race: a tag that moved since the plan is not clobbered -------------------------


def test_sync_refuses_to_clobber_a_tag_pushed_while_it_copied(
    registry_factory: RegistryFactory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    source, mirror = registry_factory(), registry_factory()
    wanted = push_image(source.url, "example/run", "1.0", layer_seed="wanted")
    stale = push_image(mirror.url, "example/run", "1.0", layer_seed="stale")
    newer: list[str] = []

    def someone_pushes() -> None:
        if not newer:
            newer.append(push_image(mirror.url, "example/run", "1.0", layer_seed="newer").digest)

    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    with FaultProxy(mirror.host) as front:
        # While sync PUTs the manifest by digest, another pipeline moves the tag.
        front.add("call", method="PUT", path="/manifests/sha256:", callback=someone_pushes)
        flags = endpoints(registry_example_com=source, mirror_example_org=front.url)
        result = inspector(capsys, "sync", "-c", str(builder), *flags, "--json")

    assert result.code == 1
    outcome = result.json()["mirrors"][0]
    assert outcome["action"] == "failed"
    assert stale.digest in outcome["detail"] and newer[0] in outcome["detail"]
    assert served(mirror, "example/run", "1.0", ("", "")) == newer[0]  # not clobbered
    tag_puts = [r for r in front.seen("PUT") if r.path.endswith("/manifests/1.0")]
    assert tag_puts == []
    assert wanted.digest != newer[0]


def test_sync_moves_a_tag_nobody_touched(
    registry_factory: RegistryFactory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    source, mirror = registry_factory(), registry_factory()
    wanted = push_image(source.url, "example/run", "1.0", layer_seed="wanted")
    push_image(mirror.url, "example/run", "1.0", layer_seed="stale")
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    flags = endpoints(registry_example_com=source, mirror_example_org=mirror)

    result = inspector(capsys, "sync", "-c", str(builder), *flags)

    assert result.code == 0, result.out
    assert served(mirror, "example/run", "1.0", ("", "")) == wanted.digest
