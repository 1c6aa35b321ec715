"""``audit --online`` probes real registries (distribution 2.8.2), no monkeypatch: every
status a probe can give becomes its rule, located at the builder.toml line that names it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import builder_toml, endpoints, inspector, inspector_requests, isolate

from devtools.localregistry import RegistryProcess, push_image

RegistryFactory = Callable[..., RegistryProcess]
RUN = "registry.example.com/example/run:1.0"
SAME = "mirror.example.org/example/run:1.0"
STALE = "stale.example.org/example/run:1.0"
MISSING = "mirror.example.org/example/gone:1.0"
LOCKED = "locked.example.net/example/run:1.0"
DOWN = "down.example.net/example/run:1.0"


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


def test_online_audit_turns_each_probe_status_into_its_rule(
    registry_factory: RegistryFactory,
    htpasswd_registry: tuple[RegistryProcess, tuple[str, str]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    primary, mirror, stale = registry_factory(), registry_factory(), registry_factory()
    locked, bob = htpasswd_registry
    run = push_image(primary.url, "example/run", "1.0")
    push_image(mirror.url, "example/run", "1.0")
    old = push_image(stale.url, "example/run", "1.0", layer_seed="last-month")
    push_image(locked.url, "example/run", "1.0", auth=bob)
    builder = builder_toml(tmp_path, (RUN, [SAME, STALE, MISSING, LOCKED, DOWN]))
    lines = builder.read_text().splitlines()
    flags = endpoints(
        registry_example_com=primary,
        mirror_example_org=mirror,
        stale_example_org=stale,
        locked_example_net=locked,
        down_example_net="http://127.0.0.1:9",  # discard port: nothing listens
    )

    result = inspector(
        capsys,
        "audit",
        str(builder),
        "--online",
        "--no-pack-config",
        "--timeout",
        "3",
        *flags,
        "--json",
    )

    assert result.code == 1, result.err
    found = {f["rule_id"]: f for f in result.json()["findings"] if f["rule_id"].startswith("INS10")}
    assert sorted(found) == ["INS101", "INS102", "INS103", "INS104"]
    # Each finding sits on the line that names the reference it is about.
    for rule, reference in [
        ("INS101", MISSING),
        ("INS102", STALE),
        ("INS103", LOCKED),
        ("INS104", DOWN),
    ]:
        assert reference in lines[found[rule]["line"] - 1], rule
        assert reference in found[rule]["message"], rule
    assert "does not exist (HTTP 404)" in found["INS101"]["message"]
    assert f"serves {old.digest[:19]}" in found["INS102"]["message"]
    assert run.digest[:19] in found["INS102"]["message"]
    assert "access refused (HTTP 401)" in found["INS103"]["message"]
    assert "registry unreachable" in found["INS104"]["message"]
    # Really probed: one manifest HEAD each on the registries that answer.
    for registry, repo in [(primary, "run"), (mirror, "gone"), (stale, "run"), (locked, "run")]:
        assert ("HEAD", f"/v2/example/{repo}/manifests/1.0") in inspector_requests(registry)
