"""The list of commands; each lives in a module of its own."""

from __future__ import annotations

import click

from inspector.cli.offline import builder, resolve


def register(group: click.Group) -> None:
    for command in (resolve, builder):
        group.add_command(command)
