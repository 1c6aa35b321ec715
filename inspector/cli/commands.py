"""The list of commands; each lives in a module of its own, imported only when it runs
(or for ``--help``): a command does not pay for the others' imports at start-up."""

from __future__ import annotations

import importlib

import click

# Command name -> the module that defines it (as a function of the same name).
COMMANDS: dict[str, str] = {
    "resolve": "inspector.cli.offline",
    "builder": "inspector.cli.offline",
    "check": "inspector.cli.probe",
    "mirrors": "inspector.cli.probe",
    "preflight": "inspector.cli.images",
    "rebase": "inspector.cli.images",
    "audit": "inspector.cli.audit",
    "sync": "inspector.cli.sync",
    "schema": "inspector.cli.schema",
}


class LazyGroup(click.Group):
    """A click group that imports a command's module when the command is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in COMMANDS:
            command = self._load(cmd_name)
        elif command is None:
            # An unknown name: click suggests close matches from ``self.commands``.
            for name in COMMANDS:
                if name not in self.commands:
                    self._load(name)
        return command

    def _load(self, name: str) -> click.Command:
        command = getattr(importlib.import_module(COMMANDS[name]), name)
        assert isinstance(command, click.Command)
        self.add_command(command)
        return command
