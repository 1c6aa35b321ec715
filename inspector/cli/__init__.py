"""Command line: parse arguments and wire the stages together. No logic lives here.

Every expected error becomes one line on stderr and exit 2; an unexpected one becomes one
line that names ``--debug``, which shows the traceback.
"""

from __future__ import annotations

import sys

import click

# httpx imports its own command-line client (httpx._main: rich, pygments) whenever rich is
# installed, about 40 ms of every online command's start-up. A None entry in sys.modules
# makes that one import fail, which httpx expects and handles (its `httpx` script then
# says to install httpx[cli]); nothing of httpx we use needs it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from inspector import __version__  # noqa: E402 (after the line above, on purpose)
from inspector.cli import commands  # noqa: E402
from inspector.errors import InputError  # noqa: E402

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


@click.group(cls=commands.LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="inspector")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error.")
def cli(debug: bool) -> None:
    """Which run image will pack use for an app image, and is every mirror present and in sync?

    Exit codes: 0 all good, 1 findings, 2 bad input.
    """


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        code = cli.main(args, prog_name="inspector", standalone_mode=False)
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.Abort:
        click.echo("inspector: aborted", err=True)
        code = 130
    except click.ClickException as error:
        # Usage errors: one line, naming the flag or value, like every other bad input.
        click.echo(f"inspector: error: {error.format_message()}", err=True)
        code = EXIT_INPUT
    except InputError as error:
        click.echo(f"inspector: error: {error}", err=True)
        code = EXIT_INPUT
    except KeyboardInterrupt:
        code = 130
    except Exception as error:
        if debug:
            raise
        click.echo(
            f"inspector: internal error: {type(error).__name__} (run again with --debug "
            "for the traceback)",
            err=True,
        )
        code = EXIT_INTERNAL
    sys.exit(code if isinstance(code, int) else EXIT_OK)
