"""Numbers on the command line, checked when the arguments are parsed: a bad one is bad
input (exit 2, naming the flag and the value), never a crash halfway through a run."""

from __future__ import annotations

import math
from typing import Any

import click

from inspector.registry.ports import endpoint_problem

# A request may take minutes on a slow link, but not a day: a larger value is a typo.
MAX_TIMEOUT = 3600.0
MIN_TIMEOUT = 0.1
# Requests in flight at once. Far above what any registry lets one client open (and
# every request holds a socket): beyond it is a typo, or the file-descriptor limit.
MAX_CONCURRENCY = 1024


class Seconds(click.ParamType):  # type: ignore[type-arg]
    """A finite number of seconds in [MIN_TIMEOUT, MAX_TIMEOUT] (``nan``, ``inf`` refused)."""

    name = "SECONDS"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float) and math.isfinite(value):
            number = value
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        if not MIN_TIMEOUT <= number <= MAX_TIMEOUT:
            self.fail(
                f"{value!r} is not between {MIN_TIMEOUT:g} and {MAX_TIMEOUT:g} seconds", param, ctx
            )
        return number


SECONDS = Seconds()
CONCURRENCY = click.IntRange(min=1, max=MAX_CONCURRENCY)


def check_endpoints(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """click callback of ``--endpoint``: numbers checked at parse time, for every command."""
    for text in value or ():
        problem = endpoint_problem(text)
        if problem:
            # The URL could carry a password: only the registry name is echoed.
            raise click.BadParameter(f"{text.partition('=')[0]!r}: {problem}", ctx, param)
    return value
