"""``sync``: copy the run image to its missing or stale mirrors (``--dry-run``: the plan)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from inspector.cli import online, options

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
@options.output_options
def sync(**values: Any) -> None:
    """Copy each run image to its missing or stale mirrors, then verify the digests match.

    Copies are faithful (manifest bytes unchanged, so digests are identical); blobs the
    mirror already has are skipped, blobs on the same registry are mounted, others are
    streamed. A mirror's tag moves only after everything it references is there.

    Exit 1 when a mirror could not be synced (the others are still tried).
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
    only: tuple[str, ...] = values["only"]
    dry_run: bool = values["dry_run"]

    async def job(client: Any) -> Any:
        builder = await online.load_builder(client, choice)
        syncing.check_only(builder.run_images, user.mirrors_for, only)
        with online.progress("Probing run images and mirrors", client):
            report = await run_mirrors(client, builder.run_images, user.mirrors_for)
        with _progress(enabled=True) as progress:
            return await syncing.sync(
                client,
                report,
                only=only,
                dry_run=dry_run,
                progress=progress,
                transfers=values["concurrency"] // 2,
            )

    # Blobs go over HTTP/1.1: HTTP/2 multiplexes them on one connection under the
    # server's flow-control window (Go's default: 1 MB per stream), which caps an upload
    # at that much per round trip.
    report = online.run(online.registry_options(values, http2=False), job)
    from inspector.formats import human, json

    output.emit(out, tables=lambda: human.sync(report), document=lambda: json.sync(report))
    raise SystemExit(0 if report.ok else 1)


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
