"""The list of commands; each lives in a module of its own."""

from __future__ import annotations

import click

from inspector.cli.audit import audit
from inspector.cli.images import preflight, rebase
from inspector.cli.offline import builder, resolve
from inspector.cli.probe import check, mirrors
from inspector.cli.sync import sync


def register(group: click.Group) -> None:
    for command in (resolve, builder, check, mirrors, preflight, rebase, audit, sync):
        group.add_command(command)
