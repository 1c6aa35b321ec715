"""Command line: parse arguments and wire the stages together. No logic lives here.

Every expected error becomes one line on stderr and exit 2; an unexpected one becomes one
line that names ``--debug``, which shows the traceback.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

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
        code = _bad_input(error.format_message(), args)
    except InputError as error:
        code = _bad_input(str(error), args)
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


def _wants_json(args: list[str]) -> bool:
    """``--json``, ``--format json`` or ``--format=json`` among the arguments (read before
    click parses them: the arguments may be what is wrong)."""
    for index, arg in enumerate(args):
        if arg == "--":
            return False
        if arg == "--json" or arg == "--format=json":
            return True
        if arg == "--format" and args[index + 1 : index + 2] == ["json"]:
            return True
    return False


def _bad_input(message: str, args: list[str]) -> int:
    """One line on stderr; under ``--json`` also the JSON error document on stdout, so
    ``inspector … --json | jq -e .in_sync`` fails even without ``pipefail``."""
    click.echo(f"inspector: error: {message}", err=True)
    if _wants_json(args):
        from inspector.formats import json

        json.dump(json.error(message))
    return EXIT_INPUT


def run() -> NoReturn:
    """The ``inspector`` script and ``python -m inspector``: :func:`main`, then end the
    process without tearing the interpreter down.

    Freeing every module and object at exit costs 30-60 ms after an online command, more
    than a round trip to a nearby registry; the operating system reclaims it all anyway.
    Output is flushed first and nothing else is pending by then (mypy's ``fast_exit``
    does the same). Under a profiler or tracer (cProfile, coverage) the exit is the
    ordinary one, so they can write their data. :func:`main` stays an ordinary function
    for callers in-process.
    """
    try:
        main()
    except SystemExit as done:
        code = done.code
    else:  # pragma: no cover - main() always ends in sys.exit
        code = EXIT_OK
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)  # what the interpreter does with sys.exit("message")
        code = 1
    status = code or EXIT_OK
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`inspector ... | head`) or stream
            status = status or 120  # the interpreter's own status for a failed flush
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(status)
    os._exit(status)
