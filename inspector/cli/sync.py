"""``sync``: copy the run image to its missing or stale mirrors (``--dry-run``: the plan)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from inspector.cli import config_warnings, online, options

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


@click.command(
    epilog=options.examples(
        "inspector sync -c builder.toml --dry-run",
        "inspector sync -c builder.toml --only mirror.example.org/example/run:jammy",
    )
)
@options.builder_options
@options.registry_options
@click.option(
    "--dry-run", is_flag=True, help="Print the plan (mirrors, bytes to move); write nothing."
)
@click.option(
    "--only",
    multiple=True,
    metavar="MIRROR",
    help="Sync only this mirror, as written in the builder or normalized (repeatable).",
)
@click.option(
    "--allow-registry",
    "allow_registries",
    multiple=True,
    metavar="HOST",
    help="Write only to mirrors on this registry (repeatable). With --builder IMAGE, "
    "this or --only is required: the label is not yours to trust with write targets.",
)
@options.referrers_option
@options.output_options
def sync(**values: Any) -> None:
    """Make every mirror that is not identical to its run image identical, repairing broken
    ones (missing children or blobs) even when the digest already matches; then verify.

    Copies are faithful (manifest bytes unchanged, so digests are identical); blobs the
    mirror already has are skipped, blobs on the same registry are mounted, others are
    streamed. A mirror's tag moves only after everything it references is there.

    Exit 1 when a mirror could not be synced (the others are still tried), or when the
    write targets come from a remote --builder label and neither --only nor
    --allow-registry names them (then the plan is printed and nothing is written).
    """
    from inspector.checks import sync as syncing
    from inspector.checks.mirrors import mirrors as run_mirrors
    from inspector.cli import output

    out = output.choose(values, "sync")

    if values["concurrency"] < 2:
        raise click.BadParameter(
            "sync needs at least 2 (a streamed blob holds a download and an upload open)",
            param_hint="--concurrency",
        )
    choice, user = options.builder_inputs(values)
    types = options.artifact_types(values)
    only: tuple[str, ...] = values["only"]
    allowed = _allowed_registries(values["allow_registries"])
    dry_run: bool = values["dry_run"]
    # A remote builder names both the source and the targets: without a local word on
    # where writes may go, a hostile label could overwrite any tag the user may push to.
    unguarded = choice.image is not None and not only and not allowed
    refused: list[str] = []

    builders: list[Any] = []  # kept for its unknown keys, which count as findings

    async def job(client: Any) -> Any:
        builder = await online.load_builder(client, choice)
        builders.append(builder)
        syncing.check_only(builder.run_images, user.mirrors_for, only)
        with online.progress("Probing run images and mirrors", client):
            # Deep: a mirror that lost a blob is broken and must be repaired.
            report = await run_mirrors(client, builder.run_images, user.mirrors_for, deep=True)
        scope = only
        plan_only = dry_run
        if unguarded and not dry_run:
            refused.append(
                f"the write targets come from the label of the remote builder {choice.image}; "
                "nothing was written. Name them: --only MIRROR or --allow-registry HOST "
                "(or use a local -c builder.toml)"
            )
            plan_only = True
        elif allowed:
            scope = _on_registries(report, allowed, only)
            if not scope:
                if not dry_run:
                    refused.append(
                        "no mirror is on an --allow-registry registry; nothing was written"
                    )
                plan_only = True
        with _progress(enabled=not plan_only) as progress:
            result = await syncing.sync(
                client,
                report,
                only=scope,
                dry_run=plan_only,
                progress=progress,
                transfers=values["concurrency"] // 2,
            )
        if not values["referrers"]:
            return result, None
        from inspector.checks.attach_sync import sync_attachments

        attached = await sync_attachments(
            client,
            report,
            result,
            dry_run=plan_only,  # a refused run writes no attachment either
            transfers=values["concurrency"] // 2,
            artifact_types=types,
        )
        return result, attached

    # Blobs go over HTTP/1.1: HTTP/2 multiplexes them on one connection under the
    # server's flow-control window (Go's default: 1 MB per stream), which caps an upload
    # at that much per round trip.
    report, attached = online.run(online.registry_options(values, http2=False), job)
    from inspector.formats import attachments, human, json

    def document() -> dict[str, Any]:
        made = config_warnings.annotate(json.sync(report), builders)
        if refused:  # nothing was written: not ok, and why (also on stderr)
            made["ok"] = False
            made["refused"] = list(refused)
        return attachments.add_to_sync(made, attached) if attached else made

    output.emit(
        out,
        tables=lambda: [
            *human.sync(report),
            *(attachments.sync_tables(attached) if attached else []),
        ],
        document=document,
    )
    for reason in refused:
        click.echo(f"inspector: sync: {reason}", err=True)
    ok = report.ok and not refused and (attached is None or attached.ok)
    raise SystemExit(config_warnings.exit_code(ok, builders))


def _allowed_registries(values: tuple[str, ...]) -> frozenset[str]:
    from inspector.reference import ReferenceError, registry_host
    from inspector.registry.hosts import canonical

    allowed = set()
    for value in values:
        try:  # the registry grammar pack uses (my_registry:5000 and [::1]:5000 are fine)
            allowed.add(canonical(registry_host(value).lower()))
        except ReferenceError as error:
            raise click.BadParameter(str(error), param_hint="--allow-registry") from None
    return frozenset(allowed)


def _on_registries(report: Any, allowed: frozenset[str], only: tuple[str, ...]) -> tuple[str, ...]:
    """The mirrors (as written) on an allowed registry, within ``--only`` if given."""
    from inspector.checks.sync import matches
    from inspector.registry.hosts import canonical

    chosen: list[str] = []
    for group in report.run_images:
        for mirror in group.mirrors:
            candidate = mirror.candidate
            ref = candidate.ref
            if ref is None or canonical(ref.registry.lower()) not in allowed:
                continue
            named = (matches(v, candidate.reference, candidate.normalized) for v in only)
            if only and not any(named):
                continue
            chosen.append(candidate.reference)
    return tuple(dict.fromkeys(chosen))


class _RichTask:
    def __init__(self, progress: _RichProgress, task: TaskID) -> None:
        self._progress, self._task = progress, task

    def advance(self, count: int) -> None:
        self._progress.bar.advance(self._task, count)

    def done(self) -> None:
        self._progress.bar.stop_task(self._task)
        self._progress.finished(self._task)


class _RichProgress:
    """Byte bars per mirror under one phase line: planning (reading the run image and
    what each mirror lacks), copying, then writing manifests and verifying."""

    PLANNING = "Planning: reading the run image and what each mirror lacks"
    COPYING = "Copying blobs"
    VERIFYING = "Writing manifests, moving tags, verifying"

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self._phase = bar.add_task(self.PLANNING, total=None)
        self._active: set[TaskID] = set()

    def task(self, description: str, total: int) -> _RichTask:
        from inspector.formats.escape import escape

        task = self.bar.add_task(escape(description), total=total)
        self._active.add(task)
        self.bar.update(self._phase, description=self.COPYING)
        return _RichTask(self, task)

    def finished(self, task: TaskID) -> None:
        self._active.discard(task)
        if not self._active:
            self.bar.update(self._phase, description=self.VERIFYING)


@contextmanager
def _progress(*, enabled: bool) -> Iterator[_RichProgress | None]:
    """Phase and byte progress on stderr, only when stderr is a terminal."""
    from inspector.cli.progress import stderr_console

    console = stderr_console() if enabled else None
    if console is None:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        SpinnerColumn(finished_text=" "),
        TextColumn("{task.description}", markup=False),  # references are not markup
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        yield _RichProgress(bar)
