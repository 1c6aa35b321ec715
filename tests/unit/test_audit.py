"""``inspector audit``: one test per rule (id, level, exact line), SARIF shape, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inspector import cli
from inspector.checks import audit as checks
from inspector.checks.audit import RULES, Finding, Level, Locator
from inspector.formats import sarif
from inspector.registry.model import Probe, Status

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "audit"
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


@pytest.fixture(autouse=True)
def no_user_pack_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: Any) -> None:
    """Never read the developer's own ~/.pack/config.toml."""
    monkeypatch.setenv("PACK_HOME", str(tmp_path_factory.mktemp("pack-home")))


def run_audit(*paths: str | Path, pack: str | Path | None = None) -> list[Finding]:
    builders = [checks.read_builder(str(p)) for p in paths]
    user = checks.read_pack_config(str(pack)) if pack is not None else None
    return checks.audit(builders, user)


def found(findings: list[Finding]) -> list[tuple[str, str, int]]:
    return [(f.rule_id, f.level.value, f.line) for f in findings]


def run_cli(args: list[str], capsys: Any) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["audit", *args])
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


# ---------------------------------------------------------------------------------------
# One fixture per rule: exactly these findings, at exactly these lines.

BUILDER_CASES = [
    ("ins001-invalid-reference.toml", [("INS001", "error", 5)]),
    ("ins002-invalid-toml.toml", [("INS002", "error", 4)]),
    ("ins002-wrong-type.toml", [("INS002", "error", 4)]),
    ("ins003-no-run-image.toml", [("INS003", "error", 2)]),
    ("ins003-entry-without-image.toml", [("INS003", "error", 5)]),
    ("ins004-unknown-key.toml", [("INS004", "error", 4)]),
    ("ins006-duplicate-mirror.toml", [("INS006", "warning", 7)]),
    ("ins007-mirror-is-image.toml", [("INS007", "warning", 4)]),
    ("ins008-shadowed-mirror.toml", [("INS008", "note", 6)]),
    (
        "ins009-tag-drift.toml",
        [("INS017", "note", 3), ("INS009", "warning", 5), ("INS009", "warning", 6)],
    ),
    ("ins010-repository-drift.toml", [("INS010", "note", 5)]),
    ("ins011-stack-conflict.toml", [("INS011", "warning", 6)]),
    ("ins015-docker-hub-alias.toml", [("INS015", "warning", 4), ("INS015", "warning", 5)]),
    ("ins016-unselectable-run-image.toml", [("INS016", "note", 5)]),
    ("ins017-digest-pinned-run-image.toml", [("INS017", "note", 4)]),
    ("ins004-pack-invalid-builder.toml", [("INS004", "error", 4)]),
]

PACK_CONFIG_CASES = [
    ("ins012-user-mirror-precedence.pack.toml", [("INS012", "note", 4)]),
    ("ins013-pack-config-key-mismatch.pack.toml", [("INS013", "warning", 3)]),
    ("ins014-overridden-pack-config-entry.pack.toml", [("INS014", "warning", 3)]),
]


@pytest.mark.parametrize(("name", "expected"), BUILDER_CASES, ids=[c[0] for c in BUILDER_CASES])
def test_each_builder_rule_is_reported_at_its_line(
    name: str, expected: list[tuple[str, str, int]]
) -> None:
    findings = run_audit(FIXTURES / name)
    assert found(findings) == expected
    assert {f.file for f in findings} == {str(FIXTURES / name)}


@pytest.mark.parametrize(
    ("name", "expected"), PACK_CONFIG_CASES, ids=[c[0] for c in PACK_CONFIG_CASES]
)
def test_each_pack_config_rule_is_reported_in_the_pack_config(
    name: str, expected: list[tuple[str, str, int]]
) -> None:
    findings = run_audit(FIXTURES / "pack-builder.toml", pack=FIXTURES / name)
    assert found(findings) == expected
    assert {f.file for f in findings} == {str(FIXTURES / name)}


def test_every_offline_rule_has_a_fixture() -> None:
    covered = {rule for _, expected in BUILDER_CASES + PACK_CONFIG_CASES for rule, _, _ in expected}
    assert covered == {r.id for r in RULES if not r.online}


def test_a_clean_builder_has_no_findings() -> None:
    assert run_audit(FIXTURES / "clean.toml") == []
    assert run_audit(FIXTURES / "pack-builder.toml") == []


def test_columns_point_at_the_opening_quote() -> None:
    (finding,) = run_audit(FIXTURES / "ins007-mirror-is-image.toml")
    assert (finding.line, finding.column) == (4, 12)
    (finding,) = run_audit(FIXTURES / "ins002-invalid-toml.toml")
    assert (finding.line, finding.column) == (4, 12)  # from tomllib's message


def test_the_messy_fixture_reports_every_mistake_it_documents() -> None:
    findings = run_audit(ROOT / "fixtures" / "builder-messy.toml")
    assert [(f.rule_id, f.line) for f in findings] == [
        ("INS007", 5),
        ("INS009", 6),
        ("INS008", 7),
        ("INS006", 8),
        ("INS015", 9),
        ("INS001", 11),
        ("INS016", 14),
    ]


def test_shadowing_names_the_candidate_that_claims_the_registry() -> None:
    findings = run_audit(FIXTURES / "ins008-shadowed-mirror.toml")
    shadowed = next(f for f in findings if f.rule_id == "INS008")
    assert "registry.example.com/team/run:1.0 (line 5)" in shadowed.message


def test_a_mirror_on_the_run_images_registry_is_shadowed_by_the_run_image(tmp_path: Path) -> None:
    path = tmp_path / "builder.toml"
    path.write_text(
        '[[run.images]]\nimage = "r.example.com/x/run:1"\nmirrors = ["r.example.com/y/run:1"]\n'
    )
    assert [(f.rule_id, f.line) for f in run_audit(path)] == [("INS008", 3)]


def test_later_run_images_are_not_reported_as_shadowed(tmp_path: Path) -> None:
    path = tmp_path / "builder.toml"
    path.write_text(
        '[[run.images]]\nimage = "x/run:1"\n\n'
        '[[run.images]]\nimage = "x/full:1"\nmirrors = ["docker.io/x/full:1"]\n'
    )
    # The mirror is the image itself; no INS008 for a run image pack never selects from.
    assert [(f.rule_id, f.line) for f in run_audit(path)] == [("INS016", 4), ("INS007", 6)]


def test_legacy_stack_only_builders_are_located_in_stack(tmp_path: Path) -> None:
    path = tmp_path / "builder.toml"
    path.write_text(
        '[stack]\nid = "s"\nbuild-image = "x/build:1"\nrun-image = "x/run"\n'
        'run-image-mirrors = ["r.example.com/x/run:2"]\n'
    )
    assert [(f.rule_id, f.line) for f in run_audit(path)] == [("INS009", 5)]


def test_stack_mirrors_that_differ_are_a_conflict(tmp_path: Path) -> None:
    path = tmp_path / "builder.toml"
    path.write_text(
        '[[run.images]]\nimage = "x/run:1"\nmirrors = ["r.example.com/x/run:1"]\n\n'
        '[stack]\nid = "s"\nrun-image = "docker.io/x/run:1"\nrun-image-mirrors = []\n'
    )
    (finding,) = run_audit(path)
    assert (finding.rule_id, finding.line) == ("INS011", 5)
    assert "run-image-mirrors" in finding.message and "run-image x" not in finding.message


def test_a_missing_file_is_a_finding_and_the_others_are_still_audited(tmp_path: Path) -> None:
    findings = run_audit(tmp_path / "nope.toml", FIXTURES / "ins010-repository-drift.toml")
    assert found(findings) == [("INS002", "error", 1), ("INS010", "note", 5)]
    assert findings[0].message == "no such file"


def test_a_file_nested_too_deeply_for_tomllib_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert found(run_audit(path)) == [("INS002", "error", 1)]


def test_unknown_keys_in_stack_and_run_are_located(tmp_path: Path) -> None:
    path = tmp_path / "builder.toml"
    path.write_text(
        '[run]\nimage = "x"\n\n[[run.images]]\nimage = "x/run:1"\n\n'
        '[stack]\nid = "s"\nrun-image-mirror = ["r.example.com/x/run:1"]\n'
    )
    assert [(f.rule_id, f.line) for f in run_audit(path)] == [("INS004", 2), ("INS004", 9)]


def test_pack_config_key_for_a_later_run_image_never_applies(tmp_path: Path) -> None:
    pack = tmp_path / "config.toml"
    pack.write_text('[[run-images]]\nimage = "example/run-full:1.0"\nmirrors = ["l:5000/fx:1.0"]\n')
    findings = run_audit(FIXTURES / "ins016-unselectable-run-image.toml", pack=pack)
    assert [(f.rule_id, f.file, f.line) for f in findings] == [
        ("INS016", str(FIXTURES / "ins016-unselectable-run-image.toml"), 5),
        ("INS016", str(pack), 2),
        ("INS010", str(pack), 3),
    ]


def test_a_user_mirror_that_is_the_builders_own_mirror_is_not_a_note(tmp_path: Path) -> None:
    pack = tmp_path / "config.toml"
    pack.write_text(
        '[[run-images]]\nimage = "example/run:1.0"\n'
        'mirrors = ["registry.example.com/example/run:1.0"]\n'
    )
    assert run_audit(FIXTURES / "pack-builder.toml", pack=pack) == []


def test_an_invalid_pack_config_is_a_finding_in_it(tmp_path: Path) -> None:
    pack = tmp_path / "config.toml"
    pack.write_text('[[run-images]]\nimage = "x"\nmirrors = [\n')
    findings = run_audit(FIXTURES / "clean.toml", pack=pack)
    assert [(f.rule_id, f.file) for f in findings] == [("INS002", str(pack))]


def test_user_mirrors_of_the_shared_pack_config_are_reported_once() -> None:
    pack = ROOT / "fixtures" / "packconfig" / "config.toml"
    findings = run_audit(
        ROOT / "fixtures" / "builder-new.toml", ROOT / "fixtures" / "builder-messy.toml", pack=pack
    )
    in_pack = [(f.rule_id, f.line, f.column) for f in findings if f.file == str(pack)]
    assert in_pack == [
        ("INS013", 3, 9),  # "example/run" never applies to messy's "docker.io/example/run"
        ("INS012", 4, 42),  # registry.example.com/mine/run before builder-new's mirror
        ("INS013", 8, 9),  # "docker.io/example/run" never applies to builder-new's "example/run"
        ("INS012", 9, 12),  # registry.example.com/ignored/run before messy's mirror
    ]


# ---------------------------------------------------------------------------------------
# The locator: line numbers from text that tomllib parsed without them


def test_locator_skips_comments_and_finds_the_nth_occurrence() -> None:
    text = (
        '# "a" in a comment\n'
        "[[run.images]]\n"
        'image = "a"  # "a"\n'
        'mirrors = ["b", "a",\n'
        '  "a"]\n'
        "[[ run . images ]]\n"
        "mirrors = ['a']\n"
    )
    locator = Locator(text)
    assert locator.value("a", "run.images", 0, "image").line == 3
    assert locator.value("a", "run.images", 0, "mirrors", 0) == checks.Position(4, 17)
    assert locator.value("a", "run.images", 0, "mirrors", 1) == checks.Position(5, 3)
    assert locator.value("a", "run.images", 1, "mirrors").line == 7
    assert locator.header("run.images", 1) == checks.Position(6, 1)


def test_locator_handles_inline_tables_and_quoted_keys() -> None:
    text = 'run = { images = [ { image = "x", mirrors = ["y"] } ] }\n"description" = "y"\n'
    locator = Locator(text)
    assert locator.value("y", "run.images", 0, "mirrors") == checks.Position(1, 46)
    assert [k.value for k in locator.keys] == ["run", "images", "image", "mirrors", "description"]


def test_locator_ignores_multiline_strings() -> None:
    text = 'description = """\nimage = "x"\n"""\nimage = "x"\n'
    assert Locator(text).value("x", "root", 0, "image").line == 4


# ---------------------------------------------------------------------------------------
# Online rules, from hand-made probes


def probe(
    reference: str, status: Status, digest: str | None = None, http: int | None = 200
) -> Probe:
    return Probe(reference, status, digest=digest, http_status=http, detail=None)


def test_online_rules_from_probes(tmp_path: Path) -> None:
    path = tmp_path / "builder.toml"
    path.write_text(
        "[[run.images]]\n"
        'image = "example/run:1.0"\n'
        "mirrors = [\n"
        '  "registry.example.com/example/run:1.0",\n'  # 4: stale
        '  "mirror.example.org/example/run:1.0",\n'  # 5: missing
        '  "quay.example.io/example/run:1.0",\n'  # 6: in sync
        '  "denied.example.io/example/run:1.0",\n'  # 7: unauthorized
        '  "down.example.io/example/run:1.0",\n'  # 8: unreachable
        '  "broken.example.io/example/run:1.0",\n'  # 9: server error
        '  "unprobed.example.io/example/run:1.0",\n'  # 10: no probe: skipped
        "]\n"
    )
    pack = tmp_path / "config.toml"
    pack.write_text(
        '[[run-images]]\nimage = "example/run:1.0"\nmirrors = ["localhost:5000/example/run:1.0"]\n'
    )
    probes = {
        "index.docker.io/example/run:1.0": probe("", Status.AVAILABLE, DIGEST_A),
        "registry.example.com/example/run:1.0": probe("", Status.AVAILABLE, DIGEST_B),
        "mirror.example.org/example/run:1.0": probe("", Status.MISSING, http=404),
        "quay.example.io/example/run:1.0": probe("", Status.AVAILABLE, DIGEST_A),
        "denied.example.io/example/run:1.0": probe("", Status.UNAUTHORIZED, http=401),
        "down.example.io/example/run:1.0": probe("", Status.UNREACHABLE, http=None),
        "broken.example.io/example/run:1.0": probe("", Status.ERROR, http=500),
        "localhost:5000/example/run:1.0": probe("", Status.AVAILABLE, DIGEST_B),
    }
    builder = checks.read_builder(str(path))
    user = checks.read_pack_config(str(pack))
    findings = checks.findings_from_probes(builder, probes, user)
    assert [(f.rule_id, f.level.value, Path(f.file).name, f.line) for f in findings] == [
        ("INS102", "error", "config.toml", 3),  # the user mirror is stale too
        ("INS102", "error", "builder.toml", 4),
        ("INS101", "error", "builder.toml", 5),
        ("INS103", "warning", "builder.toml", 7),
        ("INS104", "warning", "builder.toml", 8),
        ("INS104", "warning", "builder.toml", 9),
    ]
    assert "a 404 as readable" in findings[2].message
    assert "HTTP 500" in findings[5].message


def test_a_missing_run_image_is_reported_and_no_mirror_is_called_stale(tmp_path: Path) -> None:
    path = tmp_path / "builder.toml"
    path.write_text(
        '[[run.images]]\nimage = "example/run:1.0"\nmirrors = ["r.example.com/example/run:1.0"]\n'
    )
    probes = {
        "index.docker.io/example/run:1.0": probe("", Status.MISSING, http=404),
        "r.example.com/example/run:1.0": probe("", Status.AVAILABLE, DIGEST_A),
    }
    findings = checks.findings_from_probes(checks.read_builder(str(path)), probes)
    assert [(f.rule_id, f.line) for f in findings] == [("INS101", 2)]
    assert findings[0].message.startswith("run image example/run:1.0 does not exist")


def test_references_to_probe_are_normalized_and_distinct() -> None:
    builders = [checks.read_builder(str(ROOT / "fixtures" / "builder-messy.toml"))]
    refs = checks.references_to_probe(builders)
    assert refs[:3] == [
        "index.docker.io/example/run:latest",
        "registry.example.com/example/run:1.0",
        "registry.example.com/example/run:latest",
    ]
    assert len(refs) == len(set(refs)) == 7  # the invalid mirror is not probed


def test_cli_online_probes_through_probe_references(monkeypatch: Any, capsys: Any) -> None:
    import inspector.cli.online as online

    calls: list[tuple[list[str], dict[str, Any]]] = []

    def fake(references: list[str], registry_opts: dict[str, Any]) -> dict[str, Probe]:
        calls.append((list(references), registry_opts))
        return {r: probe(r, Status.MISSING, http=404) for r in references}

    monkeypatch.setattr(online, "probe_references", fake, raising=False)
    path = str(FIXTURES / "clean.toml")
    code, out, _ = run_cli(
        [path, "--online", "--no-pack-config", "--timeout", "3", "--json"], capsys
    )
    assert code == 1
    assert calls[0][1]["timeout"] == 3.0 and "endpoints" in calls[0][1]
    rules = {f["rule_id"] for f in json.loads(out)["findings"]}
    assert rules == {"INS101"}


# ---------------------------------------------------------------------------------------
# Renderers


def check_sarif_shape(document: dict[str, Any]) -> None:
    """The parts of SARIF 2.1.0 that code-scanning uploads rely on."""
    assert document["version"] == "2.1.0"
    assert document["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "inspector" and driver["version"]
    assert driver["informationUri"].startswith("https://")
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    for rule in driver["rules"]:
        assert rule["name"] and rule["shortDescription"]["text"]
        assert rule["help"]["text"] and rule["fullDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    for result in run["results"]:
        assert result["ruleId"] in rule_ids
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"]
        assert isinstance(physical["region"]["startLine"], int)
        assert physical["region"]["startLine"] >= 1
        if physical["artifactLocation"].get("uriBaseId"):
            assert physical["artifactLocation"]["uriBaseId"] in run["originalUriBaseIds"]


def test_sarif_output_has_the_shape_ci_expects(monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run_cli(
        ["fixtures/builder-messy.toml", "--format", "sarif", "--no-pack-config"], capsys
    )
    assert code == 1
    document = json.loads(out)
    check_sarif_shape(document)
    results = document["runs"][0]["results"]
    assert len(results) == 7
    first = results[0]
    assert first["ruleId"] == "INS007" and first["level"] == "warning"
    physical = first["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {
        "uri": "fixtures/builder-messy.toml",
        "uriBaseId": "%SRCROOT%",
    }
    assert physical["region"] == {"startLine": 5, "startColumn": 3}


def test_sarif_paths_outside_the_working_directory_are_absolute(tmp_path: Path) -> None:
    inside = tmp_path / "my dir" / "builder.toml"
    finding = Finding(checks.rule("INS006"), str(inside), 1, None, "m")
    outside = Finding(checks.rule("INS006"), "/elsewhere/builder.toml", 2, None, "m")
    document = sarif.document([finding, outside], cwd=tmp_path)
    check_sarif_shape(document)
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in document["runs"][0]["results"]
    ]
    assert uris == ["my%20dir/builder.toml", "file:///elsewhere/builder.toml"]


def test_json_output(monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = run_cli(
        ["fixtures/audit/ins006-duplicate-mirror.toml", "--json", "--no-pack-config"], capsys
    )
    assert (code, err) == (1, "")
    document = json.loads(out)
    assert document["findings"] == [
        {
            "rule_id": "INS006",
            "rule": "duplicate-mirror",
            "level": "warning",
            "file": "fixtures/audit/ins006-duplicate-mirror.toml",
            "line": 7,
            "column": 3,
            "message": document["findings"][0]["message"],
        }
    ]
    assert document["summary"] == {
        "files": 1,
        "findings": 1,
        "error": 0,
        "warning": 1,
        "note": 0,
        "fail_on": "warning",
        "failed": True,
    }
    code, same, _ = run_cli(
        ["fixtures/audit/ins006-duplicate-mirror.toml", "--format", "json", "--no-pack-config"],
        capsys,
    )
    assert same == out


def test_table_output(monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = run_cli(
        ["fixtures/audit/clean.toml", "fixtures/audit/ins010-repository-drift.toml"], capsys
    )
    assert code == 0
    assert "INS010  note   fixtures/audit/ins010-repository-drift.toml:5" in out
    assert out.rstrip().endswith("none fails --fail-on warning")


# ---------------------------------------------------------------------------------------
# Exit codes


@pytest.mark.parametrize(
    ("fixture", "fail_on", "code"),
    [
        ("clean.toml", "note", 0),
        ("ins010-repository-drift.toml", "warning", 0),  # a note
        ("ins010-repository-drift.toml", "note", 1),
        ("ins006-duplicate-mirror.toml", "error", 0),  # a warning
        ("ins006-duplicate-mirror.toml", "warning", 1),
        ("ins006-duplicate-mirror.toml", "note", 1),
        ("ins001-invalid-reference.toml", "error", 1),
        ("ins002-invalid-toml.toml", "error", 1),  # a file that does not load: a finding
        ("ins001-invalid-reference.toml", "none", 0),
    ],
)
def test_fail_on(fixture: str, fail_on: str, code: int, capsys: Any) -> None:
    args = [str(FIXTURES / fixture), "--fail-on", fail_on, "--no-pack-config"]
    assert run_cli(args, capsys)[0] == code


def test_default_fail_on_is_warning(capsys: Any) -> None:
    assert run_cli([str(FIXTURES / "ins006-duplicate-mirror.toml")], capsys)[0] == 1
    assert run_cli([str(FIXTURES / "ins010-repository-drift.toml")], capsys)[0] == 0


def test_a_missing_file_to_audit_is_a_finding_not_bad_input(tmp_path: Path, capsys: Any) -> None:
    code, out, _ = run_cli([str(tmp_path / "nope.toml"), "--fail-on", "error"], capsys)
    assert code == 1 and "INS002" in out


@pytest.mark.parametrize(
    "args",
    [
        ["--fail-on", "bogus"],
        ["--format", "xml"],
        ["--json", "--format", "sarif"],
        ["--pack-config", "/nonexistent/config.toml"],
        [
            "--pack-config",
            str(FIXTURES / "ins013-pack-config-key-mismatch.pack.toml"),
            "--no-pack-config",
        ],
    ],
)
def test_bad_flags_exit_2(args: list[str], capsys: Any) -> None:
    code, out, err = run_cli([str(FIXTURES / "clean.toml"), *args], capsys)
    assert code == 2
    # Under --json the JSON error document is on stdout; otherwise nothing is.
    assert ("--json" in args) == bool(out)
    assert err.startswith("inspector: error:") and len(err.strip().splitlines()) == 1


def test_no_file_is_bad_input(capsys: Any) -> None:
    assert run_cli([], capsys)[0] == 2


def test_the_default_pack_config_is_audited(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setenv("PACK_HOME", str(tmp_path))
    source = FIXTURES / "ins013-pack-config-key-mismatch.pack.toml"
    (tmp_path / "config.toml").write_text(source.read_text())
    code, out, _ = run_cli([str(FIXTURES / "pack-builder.toml"), "--json"], capsys)
    (finding,) = json.loads(out)["findings"]
    assert (code, finding["rule_id"], finding["file"]) == (
        1,
        "INS013",
        str(tmp_path / "config.toml"),
    )
    code, out, _ = run_cli([str(FIXTURES / "pack-builder.toml"), "--no-pack-config"], capsys)
    assert code == 0


# ---------------------------------------------------------------------------------------
# The rule table


def test_rules_are_unique_and_complete() -> None:
    assert len({r.id for r in RULES}) == len({r.name for r in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.short.endswith(".") and rule.help
        assert isinstance(rule.level, Level)


def test_summary_fails_at_or_above_the_threshold() -> None:
    note = Finding(checks.rule("INS010"), "f", 1, None, "m")
    assert not checks.summarize([note], 1, Level.WARNING).failed
    assert checks.summarize([note], 1, Level.NOTE).failed
    assert not checks.summarize([note], 1, None).failed
