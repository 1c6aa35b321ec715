"""``audit FILE…``: lint builder configs; ``--online`` also probes; ``--format sarif`` for CI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from inspector.cli import options

if TYPE_CHECKING:
    from inspector.checks.audit_rules import Finding, Summary
    from inspector.formats.table import Table

FAIL_ON = ("error", "warning", "note", "none")


def _rules_epilog() -> str:
    from inspector.checks.audit_rules import RULES

    # "\b" keeps click from re-wrapping the rule list into one paragraph.
    lines = ["\b", "Rules (* needs --online):"]
    for rule in RULES:
        mark = "*" if rule.online else " "
        lines.append(f"  {rule.id}{mark} {rule.level.value:<8} {rule.name}")
    return "\n".join(lines)


class _RulesEpilogCommand(click.Command):
    """Builds the rule list only when help is shown: the rule table is not imported at
    start-up, when every other command would pay for it."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.epilog = (
            _rules_epilog()
            + "\n\n"
            + options.examples(
                "inspector audit builder.toml",
                "inspector audit builders/*.toml --online --format sarif > audit.sarif",
            )
        )
        super().format_epilog(ctx, formatter)


@click.command(cls=_RulesEpilogCommand)
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--online", is_flag=True, help="Also probe every run image and mirror in its registry."
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="warning",
    show_default=True,
    help="Exit 1 when a finding at this level or above exists (`none`: always exit 0).",
)
@options.pack_config_options
@options.registry_options
@options.output_options
def audit(
    files: tuple[str, ...],
    online: bool,
    fail_on: str,
    **values: Any,
) -> None:
    """Lint builder configs (builder.toml) and pack's config for run-image mistakes.

    Every FILE is audited; one that does not load is an error finding, not a stop.
    pack's config (user mirrors) is read as the other commands do, and its findings are
    located in it. By default a warning or error fails the run (exit 1), like most
    linters; notes never do unless --fail-on note.

    Exit codes: 0 no finding at or above --fail-on, 1 such findings, 2 bad flags or a
    missing --pack-config file.
    """
    from inspector.checks import audit as checks
    from inspector.checks.audit_rules import Level
    from inspector.cli import output

    out = output.choose(values, "audit")
    if values["pack_config"] and values["no_pack_config"]:
        raise click.UsageError("--pack-config and --no-pack-config exclude each other")

    user = None if values["no_pack_config"] else checks.read_pack_config(values["pack_config"])
    builders = [checks.read_builder(path) for path in files]
    probes = None
    if online:
        from inspector.cli.online import probe_references

        registry_opts = {
            key: values[key]
            for key in ("registry_config", "endpoints", "timeout", "concurrency", "verbose")
        }
        from inspector.checks import audit_registry_mirrors

        references = checks.references_to_probe(builders, user)
        references += audit_registry_mirrors.references_to_probe(builders, user)
        probes = probe_references(references, registry_opts)

    findings = checks.audit(builders, user, probes)
    level = None if fail_on == "none" else Level(fail_on)
    summary = checks.summarize(findings, len(files), level)

    def sarif() -> dict[str, Any]:
        from inspector.formats import sarif

        return sarif.document(findings)

    output.emit(
        out,
        tables=lambda: [_table(findings, summary)],
        document=lambda: _document(findings, summary),
        sarif=sarif,
    )
    raise SystemExit(1 if summary.failed else 0)


# Presentation of findings for people and scripts: thin enough to live beside the command
# (formats/human.py and formats/json.py belong to the other commands).


def _document(findings: list[Finding], summary: Summary) -> dict[str, Any]:
    return {
        "findings": [
            {
                "rule_id": f.rule.id,
                "rule": f.rule.name,
                "level": f.level.value,
                "file": f.file,
                "line": f.line,
                "column": f.column,
                "message": f.message,
            }
            for f in findings
        ],
        "summary": {
            "files": summary.files,
            "findings": summary.total,
            "error": summary.errors,
            "warning": summary.warnings,
            "note": summary.notes,
            "fail_on": summary.fail_on.value if summary.fail_on else "none",
            "failed": summary.failed,
        },
    }


def _table(findings: list[Finding], summary: Summary) -> Table:
    from inspector.checks.audit_rules import Level
    from inspector.formats.table import Table

    rows = [[f.rule.id, f.level.value, f"{f.file}:{f.line}", f.message] for f in findings]
    if not findings:
        verdict = f"OK: no findings in {summary.files} file(s)"
    else:
        counts = (
            f"{summary.errors} error(s), {summary.warnings} warning(s), {summary.notes} note(s)"
        )
        where = f"in {summary.files} file(s)"
        if summary.failed:
            assert summary.fail_on is not None
            verdict = f"FAIL: {counts} {where} (--fail-on {summary.fail_on.value})"
        else:
            threshold = summary.fail_on.value if summary.fail_on else "none"
            verdict = f"{counts} {where}; none fails --fail-on {threshold}"
    return Table(
        "Audit",
        ["rule", "level", "location", "message"],
        rows,
        marked=frozenset(i for i, f in enumerate(findings) if f.level is Level.ERROR),
        notes=[verdict],
    )
