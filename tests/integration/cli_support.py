"""Run the real CLI in-process against local registries (shared by the check/mirrors tests)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.localregistry import RegistryProcess
from inspector.cli import main

INSPECTOR_AGENT = "inspector/"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.out)
        return document


def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No docker credentials, pack config or registry config from the machine running
    the tests; returns the (empty) ``DOCKER_CONFIG`` directory."""
    docker_config = tmp_path / "docker-config"
    docker_config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config))
    monkeypatch.setenv("PACK_HOME", str(tmp_path / "pack-home"))
    monkeypatch.delenv("INSPECTOR_REGISTRY_CONFIG", raising=False)
    return docker_config


def inspector(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """``inspector ARGS`` in this process: exit code, stdout, stderr.

    Every JSON document is validated against the schema the package ships for the
    command, every SARIF log against the SARIF 2.1.0 schema: each real-registry test
    checks the published schemas too.
    """
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    code = exited.value.code
    assert isinstance(code, int)
    validate_output(list(args), captured.out)
    return Result(code, captured.out, captured.err)


def validate_output(args: list[str], out: str) -> None:
    from tests.schema_support import validate_document, validate_sarif

    chosen = args[args.index("--format") + 1] if "--format" in args else None
    if not out.strip() or (chosen is None and "--json" not in args):
        return
    document = json.loads(out)
    if chosen == "sarif":
        validate_sarif(document)
    else:
        command = next(a for a in args if not a.startswith("-"))
        validate_document("error" if "error" in document else command, document)


def builder_toml(tmp_path: Path, *run_images: tuple[str, Sequence[str]]) -> Path:
    lines = []
    for image, mirrors in run_images:
        lines += [
            "[[run.images]]",
            f"image = {json.dumps(image)}",
            f"mirrors = {json.dumps(list(mirrors))}",
            "",
        ]
    path = tmp_path / "builder.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def endpoints(**registries: RegistryProcess | str) -> list[str]:
    """``--endpoint`` flags; keyword names spell ``.`` as ``_`` (``registry_example_com``)."""
    flags = []
    for name, target in registries.items():
        url = target.url if isinstance(target, RegistryProcess) else target
        flags += ["--endpoint", f"{name.replace('_', '.')}={url}"]
    return flags


def write_docker_config(directory: Path, registry: str, user: str, password: str) -> None:
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (directory / "config.json").write_text(json.dumps({"auths": {registry: {"auth": auth}}}))


def inspector_requests(registry: RegistryProcess) -> list[tuple[str, str]]:
    """(method, path) of every request the inspector (not the seeding helpers) sent."""
    return [
        (e.method, e.path)
        for e in registry.access_log_lines()
        if e.user_agent.startswith(INSPECTOR_AGENT)
    ]
