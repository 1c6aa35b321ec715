"""The Python API (``import inspector``) against real registries: the same reports the
CLI renders, in three lines."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import builder_toml, endpoints, isolate

import inspector
from devtools.localregistry import RegistryProcess, push_image
from inspector.errors import InputError

RegistryFactory = Callable[..., RegistryProcess]
RUN = "registry.example.com/example/run:1.0"
GOOD = "mirror.example.org/example/run:1.0"
STALE = "mirror.example.org/stale/run:1.0"


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


@pytest.fixture
def world(registry_factory: RegistryFactory, tmp_path: Path) -> tuple[str, list[str], str]:
    origin, mirror = registry_factory(), registry_factory()
    run = push_image(origin.url, "example/run", "1.0", layer_seed="current")
    push_image(mirror.url, "example/run", "1.0", layer_seed="current")
    push_image(mirror.url, "stale/run", "1.0", layer_seed="old")
    builder = builder_toml(tmp_path, (RUN, [GOOD, STALE]))
    flags = endpoints(registry_example_com=origin, mirror_example_org=mirror)
    return str(builder), flags[1::2], run.digest


def test_resolve_offline() -> None:
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "builder-new.toml"
    resolution = inspector.resolve("registry.example.com/app", builder_config=str(fixture))
    assert resolution.selected.reference == "registry.example.com/example/run"
    assert [c.rank for c in resolution.candidates] == list(range(1, len(resolution.candidates) + 1))


def test_check_and_mirrors(world: tuple[str, list[str], str]) -> None:
    builder, where, run_digest = world
    report = inspector.check("mirror.example.org/acme/app", builder_config=builder, endpoints=where)
    assert report.selected.candidate.reference == GOOD  # on the app's registry
    assert report.selected.probe.digest == run_digest
    assert report.ok is False  # the stale mirror is a finding
    by_ref = {e.candidate.reference: e for e in report.results}
    assert by_ref[STALE].in_sync is False and by_ref[GOOD].in_sync is True

    mirrors = inspector.mirrors(builder_config=builder, endpoints=where, timeout=5)
    assert mirrors.in_sync is False
    (group,) = mirrors.run_images
    assert [m.candidate.reference for m in group.mirrors] == [GOOD, STALE]
    assert "1" in mirrors.verdict()


def test_sync_repairs_then_mirrors_agree(world: tuple[str, list[str], str]) -> None:
    builder, where, run_digest = world
    plan = inspector.sync(builder_config=builder, endpoints=where, dry_run=True)
    assert plan.dry_run and [r.mirror for r in plan.results if r.action.value == "planned"] == [
        STALE
    ]
    assert inspector.mirrors(builder_config=builder, endpoints=where).in_sync is False
    done = inspector.sync(builder_config=builder, endpoints=where)
    assert done.ok
    report = inspector.mirrors(builder_config=builder, endpoints=where)
    assert report.in_sync
    assert {m.probe.digest for m in report.run_images[0].mirrors} == {run_digest}


def test_audit_online(world: tuple[str, list[str], str]) -> None:
    builder, where, _ = world
    offline = inspector.audit([builder])
    online = inspector.audit([builder], online=True, endpoints=where)
    assert "INS102" not in {f.rule_id for f in offline}
    stale = [f for f in online if f.rule_id == "INS102"]
    assert len(stale) == 1 and STALE in stale[0].message and stale[0].file == builder


def test_bad_input_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        inspector.resolve("Bad/App", builder_config=str(tmp_path / "missing.toml"))
    with pytest.raises(InputError):
        inspector.mirrors()  # neither a builder.toml nor a builder image


def test_import_is_light() -> None:
    # The API imports nothing heavy until it is called: no httpx, rich or click.
    code = (
        "import sys, inspector, json; "
        "print(json.dumps([m for m in ('httpx', 'rich', 'click') if m in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert json.loads(done.stdout) == []


def test_sync_from_a_builder_image_needs_named_mirrors(
    registry_factory: RegistryFactory,
) -> None:
    registry = registry_factory()
    with pytest.raises(InputError, match="only="):
        inspector.sync(
            builder="registry.example.com/example/builder:1",
            endpoints=[f"registry.example.com={registry.url}"],
        )
    assert registry_requests(registry) == []  # refused before any request


def registry_requests(registry: RegistryProcess) -> list[str]:
    from cli_support import inspector_requests

    return [f"{method} {path}" for method, path in inspector_requests(registry)]
