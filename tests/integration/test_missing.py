"""What "missing" means, on a real registry (distribution 2.8.2): the repository, the tag
or the digest. The manifest endpoint answers MANIFEST_UNKNOWN for a missing repository
and a missing tag alike (and a HEAD has no body); ``tags/list`` answers NAME_UNKNOWN only
for a missing repository — one extra request per missing reference tells them apart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cli_support import builder_toml, endpoints, inspector, isolate

from devtools.localregistry import RegistryProcess, TokenServer, push_image
from inspector.reference import parse
from inspector.registry.client import RegistryClient, RegistryError
from inspector.registry.credentials import Keychain
from inspector.registry.errors import Missing
from inspector.registry.hosts import HostConfig, RegistryHosts
from inspector.registry.model import Probe, Status

NAME = "registry.example.com"
NO_DIGEST = "sha256:" + "0" * 64


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


def probe_all(url: str, *refs: str) -> list[Probe]:
    async def go() -> list[Probe]:
        hosts = RegistryHosts({NAME: HostConfig(endpoint=url)})
        async with RegistryClient(hosts, Keychain({})) as client:
            return list(await asyncio.gather(*(client.probe(parse(r)) for r in refs)))

    return asyncio.run(go())


def test_missing_says_repository_tag_or_digest(registry: RegistryProcess) -> None:
    push_image(registry.url, "example/run", "1.0")

    there, tag, repository, digest = probe_all(
        registry.url,
        f"{NAME}/example/run:1.0",
        f"{NAME}/example/run:nope",
        f"{NAME}/example/nothing:1.0",
        f"{NAME}/example/run@{NO_DIGEST}",
    )

    assert there.status is Status.AVAILABLE and there.detail is None
    assert [(p.status, p.http_status, p.detail) for p in (tag, repository, digest)] == [
        (Status.MISSING, 404, "tag not found"),
        (Status.MISSING, 404, "repository not found"),
        (Status.MISSING, 404, "digest not found"),
    ]
    # pack still counts a 404 as readable: the detail changes nothing in the selection.
    assert tag.readable_by_pack and repository.readable_by_pack


def test_a_manifest_get_error_carries_distributions_code(registry: RegistryProcess) -> None:
    push_image(registry.url, "example/run", "1.0")

    async def go() -> RegistryError:
        hosts = RegistryHosts({NAME: HostConfig(endpoint=registry.url)})
        async with RegistryClient(hosts, Keychain({})) as client:
            with pytest.raises(RegistryError) as caught:
                await client.get_manifest(parse(f"{NAME}/example/run:nope"))
            return caught.value

    error = asyncio.run(go())

    assert (error.status, error.http_status, error.code) == (
        Status.MISSING,
        404,
        "MANIFEST_UNKNOWN",
    )
    assert error.missing is Missing.MANIFEST
    assert error.detail.startswith("HTTP 404 MANIFEST_UNKNOWN: ")


def test_check_shows_what_is_missing_in_table_and_json(
    registry: RegistryProcess, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    push_image(registry.url, "example/run", "1.0")
    builder = builder_toml(
        tmp_path,
        (f"{NAME}/example/run:1.0", [f"{NAME}/example/run:2.0", f"{NAME}/other/run:1.0"]),
    )
    args = ["check", f"{NAME}/example/app", "-c", str(builder), "--no-pack-config"]
    args += endpoints(registry_example_com=registry)

    document = inspector(capsys, *args, "--json").json()
    table = inspector(capsys, *args)

    details = {c["reference"]: (c["status"], c.get("detail")) for c in document["candidates"]}
    assert details == {
        f"{NAME}/example/run:1.0": ("available", None),
        f"{NAME}/example/run:2.0": ("missing", "tag not found"),
        f"{NAME}/other/run:1.0": ("missing", "repository not found"),
    }
    assert "missing: tag not found" in table.out
    assert "missing: repository not found" in table.out


def test_what_is_missing_on_a_token_registry_costs_no_extra_token(
    token_registry: tuple[RegistryProcess, TokenServer],
) -> None:
    registry, tokens = token_registry
    push_image(registry.url, "public/run", "1.0", auth=("alice", "s3cret"))
    tokens.reset()

    tag, repository = probe_all(registry.url, f"{NAME}/public/run:nope", f"{NAME}/public/gone:1.0")

    assert (tag.detail, repository.detail) == ("tag not found", "repository not found")
    # tags/list needs the pull scope the manifest HEAD already got: one token each.
    assert sorted(tuple(r["scopes"]) for r in tokens.requests) == [
        ("repository:public/gone:pull",),
        ("repository:public/run:pull",),
    ]
