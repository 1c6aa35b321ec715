"""``--referrers`` output: the ``attachments`` keys added to the ``mirrors``/``check``/``sync``
JSON documents, and the table of what a mirror lacks. Added after the command's own document
is built, so the other renderers do not change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inspector.formats.table import Table

if TYPE_CHECKING:
    from inspector.checks.attach_sync import AttachmentsSync
    from inspector.checks.referrers import (
        Attachment,
        AttachmentCheck,
        AttachmentsReport,
        MirrorAttachments,
        SourceAttachments,
    )


def source_entry(a: Attachment, name: str) -> dict[str, Any]:
    return {
        "kind": a.kind.value,
        "reference": a.reference(name),
        "digest": a.digest,
        "artifact_type": a.artifact_type,
        "media_type": a.media_type,
        "subject": a.subject,
        "platform": a.platform,
    }


def check_entry(c: AttachmentCheck, source_name: str) -> dict[str, Any]:
    """One attachment as a mirror holds it: ``reference`` is where it belongs on the mirror."""
    entry = source_entry(c.attachment, source_name)
    entry["source_reference"] = entry["reference"]
    entry.update(
        {
            "reference": c.reference,
            "on_mirror": c.on_mirror,
            "state": c.state.value,
            "mirror_digest": c.mirror_digest,
        }
    )
    if c.detail:
        entry["detail"] = c.detail
    return entry


def _source_name(source: SourceAttachments) -> str:
    ref = source.image.candidate.ref
    return ref.name if ref else source.image.candidate.reference


def source_document(source: SourceAttachments) -> dict[str, Any]:
    document: dict[str, Any] = {
        "attachments": [source_entry(a, _source_name(source)) for a in source.attachments],
        "referrers_api": source.api,
    }
    if source.error:
        document["attachments_error"] = source.error
    return document


def mirror_document(m: MirrorAttachments, source: SourceAttachments) -> dict[str, Any]:
    document: dict[str, Any] = {
        "attachments": [check_entry(c, _source_name(source)) for c in m.checks],
        "attachments_in_sync": m.ok,
        "referrers_api": m.api,
    }
    if m.error:
        document["attachments_error"] = m.error
    return document


def add_to_mirrors(document: dict[str, Any], report: AttachmentsReport) -> dict[str, Any]:
    """``run_images[i]`` get the source's attachments, each mirror its comparison."""
    for entry, group in zip(document["run_images"], report.groups, strict=False):
        entry.update(source_document(group.source))
        # Matched by reference, not position: the document may order or merge mirrors.
        by_reference = {m.mirror.candidate.reference: m for m in group.mirrors}
        for mirror_entry in entry.get("mirrors", []):
            found = by_reference.get(mirror_entry.get("reference"))
            if found is not None:
                mirror_entry.update(mirror_document(found, group.source))
    return _judged(document, report)


def add_to_check(document: dict[str, Any], report: AttachmentsReport) -> dict[str, Any]:
    """Each candidate of ``check``: the run image its attachments, a mirror its comparison."""
    for group in report.groups:
        image = group.source.image.candidate
        for entry in document["candidates"]:
            if entry["rank"] == image.rank:
                entry.update(source_document(group.source))
        for found in group.mirrors:
            for entry in document["candidates"]:
                if entry["rank"] == found.mirror.candidate.rank:
                    entry.update(mirror_document(found, group.source))
    return _judged(document, report)


def _judged(document: dict[str, Any], report: AttachmentsReport) -> dict[str, Any]:
    """A missing or different attachment is a finding (exit 1): ``ok`` and ``in_sync`` say
    so too, so ``jq -e .in_sync`` agrees with the exit code."""
    document["attachments_in_sync"] = report.ok
    document["attachments_verdict"] = report.verdict()
    if not report.ok:
        from inspector.formats.json import mark_finding

        mark_finding(document)
    return document


def safe(text: str) -> str:
    """A string a registry chose, for a terminal: control characters escaped (the table
    escapes every cell again; escaping is idempotent, so this only keeps the rule local)."""
    from inspector.formats.escape import escape

    return escape(text)


def _short(digest: str | None) -> str:
    return digest.split(":", 1)[1][:12] if digest and ":" in digest else "-"


def tables(report: AttachmentsReport) -> list[Table]:
    """Per run image: what is attached at the source, then what each mirror lacks."""
    out: list[Table] = []
    for group in report.groups:
        source = group.source
        image = source.image.candidate.reference
        if source.error:
            out.append(Table(f"Attachments of {image}: unknown ({safe(source.error)})", [], []))
            continue
        rows = [
            [a.kind.value, a.tag or a.digest, safe(a.artifact_type or "-"), safe(a.platform or "-")]
            for a in source.attachments
        ]
        api = "referrers API" if source.api else "referrers fallback tag"
        title = f"Attachments of {image} ({len(rows)}, {api})"
        out.append(Table(title, ["kind", "tag or digest", "artifact type", "platform"], rows))
        lacking = [
            [
                m.mirror.candidate.reference,
                c.attachment.kind.value,
                c.reference,
                _short(c.attachment.digest),
                c.state.value + (f" ({_short(c.mirror_digest)})" if c.mirror_digest else ""),
            ]
            for m in group.mirrors
            for c in m.lacking
        ]
        lacking += [
            [m.mirror.candidate.reference, "-", "-", "-", f"not compared: {safe(m.error)}"]
            for m in group.mirrors
            if m.error
        ]
        if lacking:
            columns = ["mirror", "kind", "reference", "digest", "on mirror"]
            out.append(Table(f"Attachments missing on mirrors of {image}", columns, lacking))
    out.append(Table("", [], [], notes=[safe(report.verdict())]))
    return out


def add_to_sync(document: dict[str, Any], result: AttachmentsSync) -> dict[str, Any]:
    """Each synced mirror gets ``attachments`` with the action taken for each."""
    for entry in document.get("mirrors", []):
        key = entry.get("normalized") or entry.get("mirror") or ""
        done = result.for_mirror(str(entry.get("run_image")), key)
        if done is not None:
            entry["attachments"] = [
                {**check_entry(c.check, c.source_name), "action": c.action, "detail": c.detail}
                for c in done
            ]
    document["attachments_ok"] = result.ok
    document["attachments_verdict"] = result.verdict()
    document["ok"] = bool(document.get("ok", True)) and result.ok
    return document


def sync_tables(result: AttachmentsSync) -> list[Table]:
    rows = [
        [c.mirror, c.check.attachment.kind.value, c.check.reference, c.action, safe(c.detail)]
        for c in result.items
    ]
    suffix = " (dry run: nothing written)" if result.dry_run else ""
    columns = ["mirror", "kind", "reference", "action", "result"]
    return [
        Table(f"Attachments{suffix}", columns, rows) if rows else Table("", [], []),
        Table("", [], [], notes=[safe(result.verdict())]),
    ]
