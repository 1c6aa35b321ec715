"""SARIF 2.1.0 for ``check``, ``mirrors`` and ``preflight`` (``--format sarif``).

A result per finding, with audit's online rules (INS101 missing, INS102 out of sync,
INS103 unauthorized, INS104 unreachable or error) so one rule list serves every command,
located at the builder.toml line where the run image or mirror is written (audit's
locator). A builder read from an image, or a pack-config user mirror, has no line in a
file that was given: its result carries the reference as a logical location.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from inspector.checks.audit_rules import RULES, Finding, Level, Rule, rule
from inspector.formats import sarif
from inspector.registry.model import Status
from inspector.resolver import Source

if TYPE_CHECKING:
    from inspector.checks.check import CheckReport
    from inspector.checks.evaluate import Evaluated
    from inspector.checks.mirrors import MirrorsReport
    from inspector.checks.preflight import PreflightReport
    from inspector.sources.toml_positions import Position

PREFLIGHT_RULES = (
    Rule(
        "INS201",
        "preflight-failed",
        Level.ERROR,
        "A preflight check of the publish failed.",
        "The publish would fail or build on the wrong base: the result names the check "
        "(run image readable, in sync, app repository pushable) and why.",
        online=True,
    ),
    Rule(
        "INS202",
        "preflight-warning",
        Level.WARNING,
        "A preflight check of the publish warned.",
        "The publish works, but not as it should (e.g. pack's pick is on another registry "
        "than the app, so every build pulls across registries).",
        online=True,
    ),
)
ALL_RULES = (*RULES, *PREFLIGHT_RULES)

# A finding with no file: ``file`` empty, the reference in ``logical``.
Located = tuple[Finding, str]


def check(report: CheckReport, builder_config: str | None) -> dict[str, Any]:
    return _document(_findings(report.results, builder_config))


def mirrors(report: MirrorsReport, builder_config: str | None) -> dict[str, Any]:
    entries = [e for group in report.run_images for e in (group.image, *group.mirrors)]
    return _document(_findings(entries, builder_config))


def preflight(report: PreflightReport, builder_config: str | None) -> dict[str, Any]:
    found = _findings(report.check.results, builder_config)
    for item in report.items:
        if item.result.value in ("fail", "warn"):
            rule_id = "INS201" if item.result.value == "fail" else "INS202"
            message = f"{item.name}: {item.reason}"
            found.append((Finding(_rule(rule_id), "", 0, None, message), report.app_image.original))
    return _document(found)


def _rule(rule_id: str) -> Rule:
    return next(r for r in PREFLIGHT_RULES if r.id == rule_id)


def _document(found: list[Located]) -> dict[str, Any]:
    document = sarif.document([f for f, _ in found if f.file], ALL_RULES)
    run = document["runs"][0]
    index = {r.id: i for i, r in enumerate(ALL_RULES)}
    unlocated = [
        {
            "ruleId": f.rule.id,
            "ruleIndex": index[f.rule.id],
            "level": f.level.value,
            "message": {"text": f.message},
            "locations": [{"logicalLocations": [{"name": logical, "kind": "resource"}]}],
        }
        for f, logical in found
        if not f.file
    ]
    run["results"].extend(unlocated)
    return document


def _positions(builder_config: str | None) -> dict[tuple[int, str], Position]:
    """Where each run image (index, reference) and its mirrors are written."""
    if not builder_config:
        return {}
    from inspector.checks.audit_files import raw_document, read_builder
    from inspector.checks.audit_locations import layout
    from inspector.sources.toml_positions import Locator

    loaded = read_builder(builder_config)
    if loaded.value is None:
        return {}
    written = layout(
        loaded.path, loaded.value, Locator(loaded.text or ""), raw_document(loaded.text)
    )
    positions: dict[tuple[int, str], Position] = {}
    for index, (run_image, spot) in enumerate(
        zip(loaded.value.run_images, written.spots, strict=True)
    ):
        positions[(index, run_image.image)] = spot.at(run_image.image, written.image_key)
        for mirror, at in zip(
            run_image.mirrors, spot.each(run_image.mirrors, written.mirrors_key), strict=True
        ):
            positions.setdefault((index, mirror), at)
    return positions


def _findings(entries: Iterable[Evaluated], builder_config: str | None) -> list[Located]:
    positions = _positions(builder_config)
    found: list[Located] = []
    seen: set[tuple[int, str, str]] = set()
    for e in entries:
        c = e.candidate
        what = {Source.USER_MIRROR: "user mirror", Source.IMAGE: "run image"}.get(
            c.source, "mirror"
        )
        rule_id, message = _verdict(e, what)
        if rule_id is None or (c.run_image_index, c.reference, rule_id) in seen:
            continue
        seen.add((c.run_image_index, c.reference, rule_id))
        position = (
            None
            if c.source is Source.USER_MIRROR
            else positions.get((c.run_image_index, c.reference))
        )
        if position is None or builder_config is None:
            found.append((Finding(rule(rule_id), "", 0, None, message), c.reference))
        else:
            finding = Finding(
                rule(rule_id), builder_config, position.line, position.column, message
            )
            found.append((finding, c.reference))
    return found


def _verdict(e: Evaluated, what: str) -> tuple[str | None, str]:
    probe, reference = e.probe, e.candidate.reference
    code = f"HTTP {probe.http_status}" if probe.http_status is not None else "no answer"
    detail = f": {probe.detail}" if probe.detail else ""
    if probe.status is Status.MISSING:
        return "INS101", f"{what} {reference} does not exist ({code})"
    if probe.status is Status.UNAUTHORIZED:
        return "INS103", f"{what} {reference}: access refused ({code}){detail}"
    if probe.status is Status.UNREACHABLE:
        return "INS104", f"{what} {reference}: registry unreachable{detail}"
    if probe.status is Status.ERROR:
        return "INS104", f"{what} {reference}: {probe.detail or 'registry error'}"
    if e.in_sync is False:
        return "INS102", f"{what} {reference} is not in sync with {e.candidate.run_image}"
    return None, ""
