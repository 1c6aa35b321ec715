"""``inspector schema COMMAND``: the JSON Schema of a command's ``--format json`` output."""

from __future__ import annotations

import click

from inspector.formats.schema import SCHEMAS


@click.command()
@click.argument("command", type=click.Choice(sorted(SCHEMAS)))
def schema(command: str) -> None:
    """Print the JSON Schema (draft 2020-12) of COMMAND's JSON document.

    `error` is the document printed for bad input under --format json. Keys the
    contract names are required; others may be added in any version.

    \b
    Example:
      inspector schema mirrors > mirrors.schema.json
      inspector mirrors -c builder.toml --json | check-jsonschema --schemafile mirrors.schema.json -
    """
    from inspector.formats.schema import text

    click.echo(text(command), nl=False)
