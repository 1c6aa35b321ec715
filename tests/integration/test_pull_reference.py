"""pack's [registry-mirrors], --daemon with a builder name and --selector lifecycle, end to end
against real distribution registries.

pack selects with an access check that does not translate, then pulls the pick through
``[registry-mirrors]``. These tests seed the translated location with the same image, a
different one, or nothing, and check that ``check`` (and ``preflight``) report what the
build would really pull.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import Result, builder_toml, endpoints, inspector, isolate

from devtools.localregistry import RegistryProcess, push_image

RegistryFactory = Callable[..., RegistryProcess]
APP = "registry.example.com/acme/app"
RUN = "registry.example.com/example/run:1.0"


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


def pack_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pack-config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_check(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    return inspector(capsys, "check", APP, *args, "--json")


@pytest.fixture
def primary_and_cache(
    registry_factory: RegistryFactory,
) -> tuple[RegistryProcess, RegistryProcess]:
    return registry_factory(), registry_factory()


MIRRORS = '[registry-mirrors]\n"registry.example.com" = "cache.example.net"\n'


def test_translated_copy_in_sync_exits_0(
    primary_and_cache: tuple[RegistryProcess, RegistryProcess],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    primary, cache = primary_and_cache
    pushed = push_image(primary.url, "example/run", "1.0")
    push_image(cache.url, "example/run", "1.0")
    builder = builder_toml(tmp_path, (RUN, []))
    config = pack_config(tmp_path, MIRRORS)

    result = run_check(
        capsys, "-c", str(builder), "--pack-config", str(config),
        *endpoints(registry_example_com=primary, cache_example_net=cache),
    )  # fmt: skip

    assert result.code == 0, result.out + result.err
    document = result.json()
    assert document["selected"] == RUN
    assert document["pull_reference"] == "cache.example.net/example/run:1.0"
    assert document["pull"]["status"] == "available"
    assert document["pull"]["digest"] == pushed.digest
    assert document["pull"]["in_sync"] is True
    assert document["pull"]["ok"] is True
    # The translated location was really asked (the access check itself never is).
    assert cache.manifest_requests(repo="example/run") >= 1


def test_stale_translated_copy_is_a_finding(
    primary_and_cache: tuple[RegistryProcess, RegistryProcess],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    primary, cache = primary_and_cache
    pushed = push_image(primary.url, "example/run", "1.0")
    stale = push_image(cache.url, "example/run", "1.0", layer_seed="last-month")
    assert stale.digest != pushed.digest
    builder = builder_toml(tmp_path, (RUN, []))
    config = pack_config(tmp_path, MIRRORS)

    result = run_check(
        capsys, "-c", str(builder), "--pack-config", str(config),
        *endpoints(registry_example_com=primary, cache_example_net=cache),
    )  # fmt: skip

    assert result.code == 1
    document = result.json()
    # Every candidate is fine: only the pull through the registry mirror is not.
    assert document["in_sync"] is True
    assert document["pull"]["digest"] == stale.digest
    assert document["pull"]["run_image_digest"] == pushed.digest
    assert document["pull"]["in_sync"] is False
    assert document["pull"]["verdict"].startswith("FAIL: pack pulls " + RUN)


def test_missing_translated_copy_is_a_finding_in_the_table_too(
    primary_and_cache: tuple[RegistryProcess, RegistryProcess],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    primary, cache = primary_and_cache
    push_image(primary.url, "example/run", "1.0")
    builder = builder_toml(tmp_path, (RUN, []))
    config = pack_config(tmp_path, '[registry-mirrors]\n"*" = "cache.example.net/all"\n')
    flags = endpoints(registry_example_com=primary, cache_example_net=cache)

    result = run_check(capsys, "-c", str(builder), "--pack-config", str(config), *flags)
    assert result.code == 1
    document = result.json()
    assert document["pull_reference"] == "cache.example.net/all/example/run:1.0"
    assert document["pull"]["status"] == "missing"

    table = inspector(
        capsys, "check", APP, "-c", str(builder), "--pack-config", str(config), *flags
    )
    assert table.code == 1
    assert "as cache.example.net/all/example/run:1.0 ([registry-mirrors]), and it is missing" in (
        table.out
    )


def test_no_registry_mirrors_means_no_pull_probe(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary = registry_factory()
    push_image(primary.url, "example/run", "1.0")
    builder = builder_toml(tmp_path, (RUN, []))

    result = run_check(capsys, "-c", str(builder), *endpoints(registry_example_com=primary))

    assert result.code == 0, result.err
    document = result.json()
    assert document["pull_reference"] == RUN
    assert document["pull"] is None


def test_daemon_check_prefers_the_named_builders_registry(
    primary_and_cache: tuple[RegistryProcess, RegistryProcess],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    primary, other = primary_and_cache
    push_image(primary.url, "example/run", "1.0")
    push_image(other.url, "example/run", "1.0")
    builder = builder_toml(tmp_path, (RUN, ["mirror.example.org/example/run:1.0"]))
    flags = endpoints(registry_example_com=primary, mirror_example_org=other)

    missing_name = inspector(capsys, "check", APP, "-c", str(builder), "--daemon", *flags)
    assert missing_name.code == 2
    assert missing_name.out == ""
    assert len(missing_name.err.splitlines()) == 1 and "--builder-name" in missing_name.err

    result = run_check(
        capsys, "-c", str(builder), "--daemon",
        "--builder-name", "mirror.example.org/acme/builder:1", *flags,
    )  # fmt: skip
    assert result.code == 0, result.err
    document = result.json()
    assert document["preferred_registry"] == "mirror.example.org"
    assert document["selected"] == "mirror.example.org/example/run:1.0"


def test_lifecycle_selector_fails_when_nothing_is_readable_and_ignores_user_mirrors(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    locked = registry_factory(htpasswd=("someone", "secret"))  # 401 to anonymous requests
    builder = builder_toml(tmp_path, (RUN, []))
    config = pack_config(
        tmp_path,
        f'[[run-images]]\nimage = "{RUN}"\nmirrors = ["registry.example.com/user/run:1.0"]\n',
    )
    args = ("-c", str(builder), "--pack-config", str(config))
    flags = endpoints(registry_example_com=locked)

    pack = run_check(capsys, *args, *flags)
    lifecycle = run_check(capsys, *args, "--selector", "lifecycle", *flags)

    assert pack.code == 1 and lifecycle.code == 1
    pack_doc, lifecycle_doc = pack.json(), lifecycle.json()
    first = pack_doc["candidates"][0]["reference"]
    assert first == "registry.example.com/user/run:1.0"
    assert [c["reference"] for c in lifecycle_doc["candidates"]] == [RUN]
    assert lifecycle_doc["selector"] == "lifecycle"
    assert "failed to find accessible run image" in lifecycle_doc["selection_error"]
    assert "error" not in pack_doc  # pack falls back to the run image instead
    table = inspector(capsys, "check", APP, *args, "--selector", "lifecycle", *flags)
    assert table.code == 1
    assert "with --selector lifecycle the build fails: nothing is readable" in table.out
