"""A misspelt key in a run-image section is a finding for check, mirrors and sync, against
a real registry where everything else is fine (contract: "Exit codes")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import endpoints, inspector, isolate

from devtools.localregistry import RegistryProcess
from devtools.seeding import push_image

RegistryFactory = Callable[..., RegistryProcess]


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


@pytest.mark.parametrize(
    "command",
    [
        ["mirrors"],
        ["check", "registry.example.com/acme/app"],
        ["sync", "--dry-run"],
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_a_misspelt_mirrors_key_fails_a_builder_that_is_otherwise_in_sync(
    registry: RegistryProcess,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: list[str],
    as_json: bool,
) -> None:
    push_image(registry.url, "example/run", "1.0", layer_seed="current")
    good = tmp_path / "good.toml"
    good.write_text('[[run.images]]\nimage = "registry.example.com/example/run:1.0"\n')
    typo = tmp_path / "typo.toml"
    typo.write_text(
        '[[run.images]]\nimage = "registry.example.com/example/run:1.0"\n'
        'mirror = ["mirror.example.org/example/run:1.0"]\n'
    )
    flags = [*endpoints(registry_example_com=registry), *(["--json"] if as_json else [])]

    fine = inspector(capsys, *command, "-c", str(good), *flags)
    assert fine.code == 0, fine.err
    assert "unknown key" not in fine.err

    result = inspector(capsys, *command, "-c", str(typo), *flags)
    assert result.code == 1
    assert f"{typo}:3: [[run.images]] #1: unknown key 'mirror'" in result.err
    assert "did you mean 'mirrors'?" in result.err
    if as_json:
        document = result.json()  # still exactly one document on stdout
        assert fine.json()["unknown_keys"] == []
        [key] = document["unknown_keys"]
        assert (key["file"], key["line"], key["key"]) == (str(typo), 3, "mirror")
        assert key["run_image_section"] is True
        # `jq -e .in_sync` (or .ok for sync) agrees with the exit code.
        flag = "ok" if command[0] == "sync" else "in_sync"
        assert fine.json()[flag] is True
        assert document[flag] is False
