"""Production-shaped builders (fixtures/audit/production: Paketo, Heroku, Google and
platform-team shapes) audit clean with default settings: a rule that fires on a well-kept
builder must be right about it, or be a note, or go (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inspector.checks import audit as checks
from inspector.cli import main
from inspector.sources import builder_toml

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = sorted((ROOT / "fixtures" / "audit" / "production").glob("*.toml"))


def test_there_are_at_least_twenty_production_shaped_builders() -> None:
    assert len(PRODUCTION) >= 20


@pytest.mark.parametrize("path", PRODUCTION, ids=[p.name for p in PRODUCTION])
def test_a_production_builder_has_no_findings(path: Path) -> None:
    findings = checks.audit([checks.read_builder(str(path))])
    assert [(f.rule_id, f.line, f.message) for f in findings] == []


def test_the_corpus_holds_what_the_retired_and_reworked_rules_fired_on() -> None:
    """The cases are really there: floating tags (INS005, retired), namespaces that differ
    between image and mirror (INS010 before it compared image names only)."""
    floating, namespaces = 0, 0
    for path in PRODUCTION:
        builder = builder_toml.load(path)
        image = builder.run_image.image
        last = image.rpartition("/")[2]
        floating += ":" not in last or last.endswith(":latest")
        namespaces += any(
            m.rpartition("/")[0].rpartition("/")[2] != image.rpartition("/")[0].rpartition("/")[2]
            for m in builder.run_image.mirrors
        )
    assert floating >= 10
    assert namespaces >= 4


def test_the_cli_audits_them_all_at_once_exit_0(
    capsys: Any, monkeypatch: Any, tmp_path: Path
) -> None:
    monkeypatch.setenv("PACK_HOME", str(tmp_path))
    with pytest.raises(SystemExit) as exited:
        main(["audit", *map(str, PRODUCTION), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert exited.value.code == 0
    assert document["summary"]["files"] == len(PRODUCTION)
    assert document["findings"] == []
