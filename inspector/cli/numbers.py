"""Numbers on the command line, checked when the arguments are parsed: a bad one is bad
input (exit 2, naming the flag and the value), never a crash halfway through a run."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

import click

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


def port_error(port_text: str) -> str | None:
    """Why ``port_text`` is not a TCP port (1-65535), or ``None``."""
    if not port_text.isascii() or not port_text.isdigit():
        return f"port {port_text!r} is not a number"
    if not 1 <= int(port_text) <= 65535:
        return f"port {port_text} is not between 1 and 65535"
    return None


def endpoint_problem(text: str) -> str | None:
    """What is wrong with the numbers of one ``REGISTRY=URL`` (the registry's port, the
    URL's port), or ``None``; the rest of the URL is checked where it is used."""
    name, equals, url = text.partition("=")
    if not equals or not name or not url:
        return "expected REGISTRY=URL"
    host_port = name.rsplit("]", 1)[-1] if name.startswith("[") else name
    if ":" in host_port:
        problem = port_error(host_port.rpartition(":")[2])
        if problem:
            return f"registry {name!r}: {problem}"
    try:
        authority = urlsplit(url).netloc
    except ValueError:
        return None  # malformed URLs are named by the registry settings loader
    host = authority.rpartition("@")[2]
    host = host.rsplit("]", 1)[-1] if host.startswith("[") else host
    if ":" in host:
        port_text = host.rpartition(":")[2]
        if port_text:
            problem = port_error(port_text)
            if problem:
                return f"URL: {problem}"
    return None


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
