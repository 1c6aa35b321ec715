"""Tables and verdict lines for people; the data comes in finished."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inspector.formats.table import Table
from inspector.resolver import Resolution
from inspector.sources.model import Builder, Buildpack
from inspector.sources.pack_config import PackConfig

if TYPE_CHECKING:  # the check modules pull in httpx; offline commands never need it
    from inspector.checks.check import CheckReport
    from inspector.checks.evaluate import Evaluated
    from inspector.checks.mirrors import MirrorsReport
    from inspector.checks.preflight import PreflightReport
    from inspector.checks.pull_reference import PullCheck
    from inspector.checks.rebase import RebaseReport


def resolution(r: Resolution) -> list[Table]:
    rows = []
    for c in r.candidates:
        rows.append(
            [
                str(c.rank),
                c.reference,
                c.source.value,
                c.registry or "-",
                "yes" if c.matches_preferred else "no",
                "<- selected" if c.selected else "",
                c.reason,
            ]
        )
    return [
        Table(
            resolution_title("Run image for", r),
            ["#", "reference", "source", "registry", "preferred", "selected", "reason"],
            rows,
            marked=frozenset(i for i, c in enumerate(r.candidates) if c.selected),
            notes=resolution_notes(r),
        )
    ]


def resolution_title(lead: str, r: Resolution) -> str:
    """``Run image for APP (daemon mode, builder B, preferred registry R)``."""
    facts = [f"{r.mode.value} mode"]
    if r.selector.value != "pack":
        facts = [f"{r.selector.value}'s rule"]
    if r.builder_image and r.mode.value == "daemon":
        facts.append(f"builder {r.builder_image}")
    facts.append(f"preferred registry {r.preferred_registry}")
    return f"{lead} {r.app_image.original} ({', '.join(facts)})"


def resolution_notes(r: Resolution) -> list[str]:
    """Who would use what, and where pack really pulls it from."""
    who = "pack" if r.selector.value == "pack" else "lifecycle"
    if r.error:
        return [f"{who} fails: {r.error}"]
    notes = [f"{who} would use {r.selected.reference} ({r.selected.reason})"]
    if r.pull_error:
        notes.append(f"pack cannot pull it through its [registry-mirrors]: {r.pull_error}")
    elif r.pull_reference and r.pull_reference != r.selected.reference:
        notes.append(f"pack pulls it as {r.pull_reference} (pack config [registry-mirrors])")
    return notes


def buildpack_label(bp: Buildpack) -> str:
    """How pack names a buildpack: ``id@version``, ``id`` without a version; an entry
    given only as ``uri`` (``docker://…``, ``urn:cnb:registry:…``) or ``image`` by that."""
    if bp.id:
        return f"{bp.id}@{bp.version}" if bp.version else bp.id
    return bp.uri or bp.image or "-"


def pack_run_images(b: Builder, pack_config: PackConfig) -> list[tuple[str, bool]]:
    """``pack builder inspect``'s "Run Images" list (writer ``runImages`` /
    ``writeLocalMirrors``): every pack-config entry, in file order, whose image equals a
    builder run image contributes its mirrors (user-configured); then each run image and
    its mirrors."""
    listed: list[tuple[str, bool]] = []
    for entry in pack_config.run_images:
        for run_image in b.run_images:
            if entry.image == run_image.image:
                listed.extend((m, True) for m in entry.mirrors)
    for run_image in b.run_images:
        listed.append((run_image.image, False))
        listed.extend((m, False) for m in run_image.mirrors)
    return listed


def builder(b: Builder, pack_config: PackConfig) -> list[Table]:
    facts = [
        ("Source", b.source),
        ("Description", b.description or "-"),
        ("Stack", b.stack_id or "-"),
        ("Lifecycle", b.lifecycle_version or "-"),
    ]
    if b.buildpacks:
        facts.append(("Buildpacks", ", ".join(buildpack_label(bp) for bp in b.buildpacks)))
    tables = [Table("Builder", ["field", "value"], [list(f) for f in facts])]
    for index, run_image in enumerate(b.run_images):
        user = pack_config.mirrors_for(run_image.image)
        rows = [[m, "user-mirror (pack config)"] for m in user]
        rows.append([run_image.image, "image"])
        rows.extend([m, "mirror"] for m in run_image.mirrors)
        note = [] if index == 0 else ["pack only selects from the first run image"]
        title = f"Run image #{index + 1} (match order)"
        tables.append(Table(title, ["reference", "source"], rows, notes=note))
    listed = [
        [name, "(user-configured)" if user else ""]
        for name, user in pack_run_images(b, pack_config)
    ]
    tables.append(Table("Run Images (as pack builder inspect lists them)", ["name", ""], listed))
    if b.buildpacks:
        rows = [
            [
                bp.id or "-",
                bp.name or "-",
                bp.version or "-",
                bp.homepage or bp.uri or bp.image or "-",
            ]
            for bp in b.buildpacks
        ]
        tables.append(Table("Buildpacks", ["ID", "NAME", "VERSION", "HOMEPAGE / URI"], rows))
    return tables


def short_digest(digest: str | None) -> str:
    return digest.split(":", 1)[1][:12] if digest and ":" in digest else "-"


def sync_cell(e: Evaluated) -> str:
    """The verdict word, with the platforms it concerns."""
    if e.sync is None:
        return "unverified" if e.unchecked else "-"
    word = e.sync.value
    if e.sync.value in ("identical", "equivalent"):
        return f"yes ({word})"
    differing = [
        p.platform
        for p in e.platforms
        if p.state.value == "different" and p.platform != "single manifest"
    ]
    missing = [p.platform for p in e.platforms if p.state.value == "missing"]
    if differing:
        return f"NO: {word} ({', '.join(differing)})"
    if missing and e.sync.value == "partial":
        return f"NO: {word} (lacks {', '.join(missing)})"
    return f"NO: {word}"


MAX_PROBLEMS_SHOWN = 5


def explain(e: Evaluated) -> list[str]:
    """What is wrong with one candidate, in words, and what it means for a build."""
    name = e.candidate.reference
    if e.sync is None:
        return [f"{name}: could not verify: {u}" for u in e.unchecked[:MAX_PROBLEMS_SHOWN]]
    lines: list[str] = []
    verdict = e.sync.value
    if verdict == "broken":
        where = (
            "in the run image itself" if e.candidate.source.value == "image" else "on the mirror"
        )
        for problem in e.problems[:MAX_PROBLEMS_SHOWN]:
            lines.append(f"{name}: broken: {problem} {where}: {problem.impact}")
        if len(e.problems) > MAX_PROBLEMS_SHOWN:
            lines.append(f"{name}: ... and {len(e.problems) - MAX_PROBLEMS_SHOWN} more missing")
    elif verdict == "partial":
        missing = [p.platform for p in e.platforms if p.state.value == "missing"]
        served = [p.platform for p in e.platforms if p.state.value == "same"]
        if e.platforms and len(served) == 1 and not _is_index(e):
            head = f"serves only {served[0]} (= the run image's {served[0]})"
        else:
            head = f"serves {', '.join(served)}"
        lines.append(f"{name}: partial: {head}: {', '.join(missing)} builds would fail")
    elif verdict == "stale":
        for p in e.platforms:
            if p.state.value == "different" and p.platform == "single manifest":
                lines.append(
                    f"{name}: stale: serves {p.digest}, the run image {p.run_image_digest}: "
                    "builds get other bits"
                )
            elif p.state.value == "different":
                lines.append(
                    f"{name}: stale: {p.platform} is {p.digest} on the mirror, "
                    f"{p.run_image_digest} on the run image: {p.platform} builds get other bits"
                )
        if not lines:
            lines.append(f"{name}: stale: {'; '.join(e.notes)}: builds get other bits")
    elif verdict == "equivalent":
        lines.append(f"{name}: equivalent (note): {'; '.join(e.notes)}")
    for note in e.notes:
        if note.startswith("no ") and e.pick_platform:
            lines.append(f"{name}: {note}")
    return lines


def _is_index(e: Evaluated) -> bool:
    media_type = e.probe.media_type or ""
    return "index" in media_type or "manifest.list" in media_type


def status_cell(e: Evaluated) -> str:
    detail = f": {e.probe.detail}" if e.probe.detail else ""
    return f"{e.probe.status.value}{detail}"


def check(report: CheckReport) -> list[Table]:
    r = report.resolution
    rows = [
        [
            str(e.candidate.rank),
            e.candidate.reference,
            e.candidate.source.value,
            "yes" if e.candidate.matches_preferred else "no",
            status_cell(e),
            short_digest(e.probe.digest),
            sync_cell(e),
            "<- pack's pick" if e.candidate.selected else "",
        ]
        for e in report.results
    ]
    title = (
        f"Run image candidates for {r.app_image.original} "
        f"({r.mode.value} mode, preferred registry {r.preferred_registry})"
    )
    columns = ["#", "reference", "source", "on preferred", "status", "digest", "in sync", ""]
    marked = frozenset(i for i, e in enumerate(report.results) if e.candidate.selected)
    notes = [line for e in report.results for line in explain(e)]
    return [Table(title, columns, rows, marked=marked, notes=[*notes, report.verdict()])]


def mirrors(report: MirrorsReport) -> list[Table]:
    tables = []
    for index, group in enumerate(report.run_images):
        rows = [
            [
                e.candidate.reference,
                e.candidate.source.value,
                status_cell(e),
                short_digest(e.probe.digest),
                _reference_cell(e) if e is group.image else sync_cell(e),
            ]
            for e in (group.image, *group.mirrors)
        ]
        title = f"Run image #{index + 1}: {group.image.candidate.reference}"
        columns = ["reference", "source", "status", "digest", "in sync"]
        notes = [line for e in (group.image, *group.mirrors) for line in explain(e)]
        tables.append(Table(title, columns, rows, notes=notes))
    tables.append(Table("", [], [], notes=[report.verdict()]))
    return tables


def _reference_cell(e: Evaluated) -> str:
    """The run image is the reference; it can still be broken itself."""
    return "(reference)" if e.sync is None or e.in_sync else f"(reference) {sync_cell(e)}"


if TYPE_CHECKING:
    from inspector.checks.sync import SyncReport


def sync(report: SyncReport) -> list[Table]:
    """One table per run image: mirror, state before, action, bytes, result."""
    from inspector.checks.sync import human_size

    tables = []
    groups: dict[str, list[list[str]]] = {}
    digests: dict[str, str | None] = {}
    for r in report.results:
        row = [r.mirror, r.state.value, r.action.value, human_size(r.bytes), r.detail]
        groups.setdefault(r.run_image, []).append(row)
        digests[r.run_image] = digests.get(r.run_image) or r.digest
    suffix = " (dry run: nothing written)" if report.dry_run else ""
    for image, rows in groups.items():
        title = f"Sync {image} (digest {short_digest(digests[image])}){suffix}"
        tables.append(Table(title, ["mirror", "was", "action", "bytes", "result"], rows))
    tables.append(Table("", [], [], notes=[report.verdict()]))
    return tables


def builder_detail(b: Builder, pack_config: PackConfig) -> list[Table]:
    """``builder`` plus what a builder image adds (image, platform, digest, creator)."""
    tables = builder(b, pack_config)
    first = tables[0]
    extra = [["Image", b.image]] if b.image else []
    labels = {"platform": "Platform", "digest": "Digest", "created_by": "Created by"}
    extra += [[title, b.extras[key]] for key, title in labels.items() if key in b.extras]
    tables[0] = Table(first.title, first.columns, [*first.rows, *extra])
    return tables


def preflight(report: PreflightReport) -> list[Table]:
    rows = [[i.name, i.result.value.upper(), i.reason] for i in report.items]
    title = f"Preflight for publishing {report.app_image.original}"
    return [
        *check(report.check),
        Table(title, ["check", "result", "reason"], rows, notes=[report.verdict()]),
    ]


def rebase(report: RebaseReport) -> list[Table]:
    new = report.new_base

    def yes_no(value: bool | None) -> str:
        return "unknown" if value is None else ("yes" if value else "no")

    run = report.selectable
    mirrors = f" (mirrors: {', '.join(run.mirrors)})" if run.mirrors else ""
    facts = [
        ["App image", f"{report.app.reference.original} ({report.app.platform or '?'})"],
        ["Recorded run image", run.image + mirrors],
        ["Current base", report.metadata.reference or "-"],
        ["Current top layer", short_digest(report.metadata.top_layer or None)],
        ["New base", new.manifest_digest or new.digest or (new.detail or "-")],
        ["New top layer", short_digest(new.top_layer)],
        ["Rebase needed", yes_no(report.rebase_needed)],
        ["--force required", yes_no(report.force_required)],
    ]
    return [
        *check(report.check),
        Table("Rebase", ["field", "value"], facts, notes=[report.verdict()]),
    ]


def selector_error(r: Resolution) -> list[Table]:
    """lifecycle's error when nothing is readable (it has no fallback); else nothing."""
    if not r.error:
        return []
    return [
        Table("", [], [], notes=[f"FAIL: with --selector lifecycle the build fails: {r.error}"])
    ]


def pull(p: PullCheck | None) -> list[Table]:
    """One verdict line for the pull through [registry-mirrors]; nothing when none applies."""
    if p is None:
        return []
    return [Table("", [], [], notes=[p.verdict()])]
