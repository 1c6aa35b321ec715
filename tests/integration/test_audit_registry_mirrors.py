"""INS105 (``audit --online``): a [registry-mirrors] host lacks the run image, against real
distribution registries. The finding is located at the pack config's mirror entry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import builder_toml, endpoints, inspector, isolate

from devtools.localregistry import RegistryProcess, push_image

RegistryFactory = Callable[..., RegistryProcess]
RUN = "registry.example.com/example/run:1.0"
MIRROR = "mirror.example.org/example/run:1.0"


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


def audit(capsys: pytest.CaptureFixture[str], tmp_path: Path, *flags: str) -> list[dict]:
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    result = inspector(capsys, "audit", str(builder), "--online", *flags, "--json")
    assert result.err == "" or "warning" in result.err.lower(), result.err
    return [f for f in result.json()["findings"] if f["rule_id"] == "INS105"]


def test_stale_and_missing_registry_mirror_copies_are_ins105(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror, cache = registry_factory(), registry_factory(), registry_factory()
    pushed = push_image(primary.url, "example/run", "1.0")
    push_image(mirror.url, "example/run", "1.0")
    stale = push_image(cache.url, "example/run", "1.0", layer_seed="last-month")
    config = tmp_path / "pack.toml"
    config.write_text(
        "# caches\n[registry-mirrors]\n"
        '"registry.example.com" = "cache.example.net"\n'
        '"mirror.example.org" = "cache.example.net/partner"\n'
    )
    flags = endpoints(
        registry_example_com=primary, mirror_example_org=mirror, cache_example_net=cache
    )

    found = audit(capsys, tmp_path, "--pack-config", str(config), *flags)

    assert [(f["file"], f["line"], f["level"]) for f in found] == [
        (str(config), 3, "error"),
        (str(config), 4, "error"),
    ]
    pulls = "pack pulls registry.example.com/example/run:1.0 as cache.example.net/example/run:1.0"
    assert pulls in found[0]["message"]
    assert (
        f"serves {stale.digest[:19]} where the run image serves {pushed.digest[:19]}"
        in (found[0]["message"])
    )
    assert "cache.example.net/partner/example/run:1.0, which does not exist" in found[1]["message"]


def test_registry_mirror_in_sync_is_clean(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    primary, mirror, cache = registry_factory(), registry_factory(), registry_factory()
    push_image(primary.url, "example/run", "1.0")
    push_image(mirror.url, "example/run", "1.0")
    push_image(cache.url, "all/example/run", "1.0")
    config = tmp_path / "pack.toml"
    config.write_text('[registry-mirrors]\n"*" = "cache.example.net/all"\n')
    flags = endpoints(
        registry_example_com=primary, mirror_example_org=mirror, cache_example_net=cache
    )

    assert audit(capsys, tmp_path, "--pack-config", str(config), *flags) == []
    # Nothing to check without [registry-mirrors].
    assert audit(capsys, tmp_path, "--no-pack-config", *flags) == []
