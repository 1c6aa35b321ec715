"""``audit``: lint builder configs (and pack's config) for run-image mistakes pack never reports.

This is the entry point: :func:`audit` runs the offline checks, plus the online ones when
probes are given, and returns the findings sorted and unique. The pieces, one concern each:

* :mod:`~inspector.checks.audit_rules`: the rule table (:data:`RULES`), :class:`Finding`;
* :mod:`~inspector.checks.audit_files`: reading the files (the only I/O), load failures;
* :mod:`~inspector.checks.audit_builder`, :mod:`~inspector.checks.audit_pack_config`,
  :mod:`~inspector.checks.audit_references`: the offline checks;
* :mod:`~inspector.checks.audit_online`: findings from registry probes;
* :mod:`~inspector.checks.audit_locations` and :mod:`inspector.sources.toml_positions`:
  the ``file:line:column`` of each finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from inspector.checks import audit_registry_mirrors
from inspector.checks.audit_builder import builder_findings
from inspector.checks.audit_files import Loaded, read_builder, read_pack_config
from inspector.checks.audit_online import findings_from_probes, references_to_probe
from inspector.checks.audit_pack_config import pack_config_findings
from inspector.checks.audit_rules import RULES, Finding, Level, Rule, Summary, rule, summarize
from inspector.registry.model import Probe
from inspector.sources.model import Builder
from inspector.sources.pack_config import PackConfig
from inspector.sources.toml_positions import Locator, Position

# What callers (the CLI, the SARIF renderer, tests) use; Locator and Position are kept here
# for callers that imported them from this module before the split.
__all__ = [
    "RULES",
    "Finding",
    "Level",
    "Loaded",
    "Locator",
    "Position",
    "Rule",
    "Summary",
    "audit",
    "audit_offline",
    "collate",
    "findings_from_probes",
    "read_builder",
    "read_pack_config",
    "references_to_probe",
    "rule",
    "summarize",
]


def audit(
    builders: Sequence[Loaded[Builder]],
    user: Loaded[PackConfig] | None = None,
    probes: Mapping[str, Probe] | None = None,
) -> list[Finding]:
    """Offline findings, plus the online ones when ``probes`` are given; sorted, unique."""
    findings = audit_offline(builders, user)
    if probes is not None:
        for loaded in builders:
            findings.extend(findings_from_probes(loaded, probes, user))
        findings.extend(audit_registry_mirrors.findings(builders, user, probes))
    order = [b.path for b in builders] + ([user.path] if user else [])
    return collate(findings, order)


def audit_offline(
    builders: Sequence[Loaded[Builder]], user: Loaded[PackConfig] | None = None
) -> list[Finding]:
    findings: list[Finding] = []
    if user is not None:
        findings.extend(pack_config_findings(user))
    for loaded in builders:
        findings.extend(builder_findings(loaded, user))
    return findings


def collate(findings: Iterable[Finding], files: Sequence[str] = ()) -> list[Finding]:
    """Drop repeats (one pack config, several builders) and sort by file order, then line."""
    rank = {path: index for index, path in reversed(list(enumerate(files)))}
    unique = {(f.rule.id, f.file, f.line, f.column, f.message): f for f in findings}
    return sorted(
        unique.values(),
        key=lambda f: (rank.get(f.file, len(rank)), f.file, f.line, f.column or 0, f.rule.id),
    )
