"""The list of commands; each lives in a module of its own."""

from __future__ import annotations

import click

from inspector.cli.offline import builder, resolve
from inspector.cli.probe import check, mirrors


def register(group: click.Group) -> None:
    for command in (resolve, builder, check, mirrors):
        group.add_command(command)
    group.add_command(__import__("inspector.cli.audit", fromlist=["audit"]).audit)
    group.add_command(__import__("inspector.cli.sync", fromlist=["sync"]).sync)
    images = __import__("inspector.cli.images", fromlist=["preflight", "rebase"])
    group.add_command(images.preflight)
    group.add_command(images.rebase)
