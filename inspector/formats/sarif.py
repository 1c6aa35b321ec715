"""SARIF 2.1.0 for ``audit --format sarif``, so CI systems annotate the offending config line.

Every rule of the table is listed in ``tool.driver.rules`` (so ``ruleIndex`` is stable
across runs, whatever was found). Paths under the working directory are written relative
to ``%SRCROOT%`` (what GitHub code scanning and other viewers resolve against the checkout);
anything else becomes an absolute ``file://`` URI.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from inspector import __version__
from inspector.checks.audit_rules import RULES, Finding, Rule

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
# What every rule is about; used as informationUri until the project declares a homepage.
RUN_IMAGE_DOCS = "https://buildpacks.io/docs/for-app-developers/concepts/base-images/run/"


def document(
    findings: Sequence[Finding], rules: Sequence[Rule] = RULES, cwd: Path | None = None
) -> dict[str, Any]:
    cwd = Path(os.path.abspath(cwd or Path.cwd()))
    index = {rule.id: i for i, rule in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "inspector",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": information_uri(),
                        "rules": [_rule(rule) for rule in rules],
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": cwd.as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": [_result(f, index[f.rule.id], cwd) for f in findings],
            }
        ],
    }


def information_uri() -> str:
    """The package's declared homepage, else pack's documentation of run images."""
    try:
        meta = metadata.metadata("inspector")
    except metadata.PackageNotFoundError:
        return RUN_IMAGE_DOCS
    urls = [str(e).partition(", ")[2] for e in meta.get_all("Project-URL") or []]
    urls += [str(e) for e in meta.get_all("Home-page") or []]
    return next((u for u in urls if u.startswith(("https://", "http://"))), RUN_IMAGE_DOCS)


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.short},
        "fullDescription": {"text": f"{rule.short} {rule.help}"},
        "help": {"text": rule.help},
        "helpUri": RUN_IMAGE_DOCS,
        "defaultConfiguration": {"level": rule.level.value},
        "properties": {"tags": ["buildpacks", "online" if rule.online else "offline"]},
    }


def _result(finding: Finding, rule_index: int, cwd: Path) -> dict[str, Any]:
    region: dict[str, int] = {"startLine": finding.line}
    if finding.column is not None:
        region["startColumn"] = finding.column
    return {
        "ruleId": finding.rule.id,
        "ruleIndex": rule_index,
        "level": finding.level.value,
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(finding.file, cwd),
                    "region": region,
                }
            }
        ],
    }


def artifact_location(path: str, cwd: Path) -> dict[str, str]:
    """Relative to ``%SRCROOT%`` (the working directory) where possible, else absolute."""
    absolute = Path(os.path.abspath(cwd / path))  # normalizes "..", keeps symlinks as given
    try:
        relative = absolute.relative_to(cwd)
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": SRCROOT}
