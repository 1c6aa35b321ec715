"""The files CI users adopt: the pre-commit hook (run with ``pre-commit try-repo``, which
installs this repository into a hook environment as pre-commit users get it), the
GitHub Action's metadata, and the package data they rely on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml  # pre-commit's own dependency (pyyaml)

ROOT = Path(__file__).resolve().parents[2]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=test@example.com", "-c", "user.name=test", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_pre_commit_hook_audits_builder_toml(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    (project / "builder.toml").write_text(
        '[[run.images]]\nimage = "registry.example.com/example/run:1.0"\n'
        'mirror = ["mirror.example.org/example/run:1.0"]\n'  # misspelt: pack rejects it
    )
    (project / "other.toml").write_text('mirror = "not a builder config"\n')
    git(project, "add", "-A")
    git(project, "commit", "-qm", "builder")
    pre_commit = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "inspector-audit"]
    env = {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PATH": "/usr/bin:/bin"}
    env["HOME"] = str(tmp_path)

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*pre_commit, "--all-files"],
            cwd=project,
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )

    failed = run()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "INS004" in failed.stdout and "builder.toml:3" in failed.stdout
    assert "other.toml" not in failed.stdout  # only builder configs are audited

    (project / "builder.toml").write_text(
        '[[run.images]]\nimage = "registry.example.com/example/run:1.0"\n'
        'mirrors = ["mirror.example.org/example/run:1.0"]\n'
    )
    git(project, "commit", "-qam", "fixed")
    passed = run()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout


def test_action_metadata_runs_inspector_and_uploads_sarif() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert {"builder-config", "command", "sarif-file"} <= set(action["inputs"])
    scripts = " ".join(step.get("run", "") for step in action["runs"]["steps"])
    assert "--format sarif" in scripts
    uploads = [s for s in action["runs"]["steps"] if "upload-sarif" in s.get("uses", "")]
    assert uploads and uploads[0]["if"].startswith("always()")


def test_hooks_file_is_valid_for_pre_commit() -> None:
    from pre_commit.clientlib import load_manifest

    hooks = load_manifest(ROOT / ".pre-commit-hooks.yaml")
    assert {h["id"] for h in hooks} == {"inspector-audit", "inspector-audit-online"}


def test_license_is_apache_2() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
