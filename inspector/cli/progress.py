"""Live progress on stderr, for terminals only: probes done of started, and once a run is
slow, the registries it is still waiting on. Nothing is written when stderr is not a
terminal (CI logs, pipes), so stdout and stderr stay what scripts expect.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from inspector.formats.escape import escape

if TYPE_CHECKING:
    from rich.console import Console

    from inspector.registry.client import RegistryClient

SLOW_AFTER = 1.5  # seconds: from then on, name the registries still answering
TICK = 0.1
SHOWN_REGISTRIES = 3


def stderr_console() -> Console | None:
    """A console on stderr when it is a terminal, else ``None`` (no progress at all)."""
    try:
        if not sys.stderr.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    from rich.console import Console

    return Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")), highlight=False)


class ProbeCounter:
    """Counts the client's probes as they start and end, per registry."""

    def __init__(self) -> None:
        self.started = 0
        self.finished = 0
        self.pending: Counter[str] = Counter()
        self.since = time.monotonic()

    def watch(self, client: RegistryClient) -> None:
        probe = client.probe

        async def counted(ref: Any, *args: Any, **kwargs: Any) -> Any:
            registry = str(getattr(ref, "registry", "?"))
            self.started += 1
            self.pending[registry] += 1
            try:
                return await probe(ref, *args, **kwargs)
            finally:
                self.finished += 1
                self.pending[registry] -= 1
                if not self.pending[registry]:
                    del self.pending[registry]

        client.probe = counted  # type: ignore[method-assign]

    def text(self, message: str, now: float | None = None) -> str:
        line = escape(message)
        if self.started:
            line += f": {self.finished}/{self.started} probes done"
        elapsed = (time.monotonic() if now is None else now) - self.since
        if elapsed >= SLOW_AFTER and self.pending:
            slowest = self.pending.most_common(SHOWN_REGISTRIES)
            waiting = ", ".join(f"{escape(host)} ({n})" for host, n in slowest)
            more = len(self.pending) - len(slowest)
            waiting += f" and {more} more" if more > 0 else ""
            line += f"; waiting on {waiting} after {elapsed:.0f} s"
        return line


@contextmanager
def probing(message: str, client: RegistryClient | None = None) -> Iterator[None]:
    """A spinner with the probe count while the block runs (inside the event loop)."""
    console = stderr_console()
    if console is None:
        yield
        return
    counter = ProbeCounter()
    if client is not None:
        counter.watch(client)
    from rich.text import Text  # not markup: "[::1]" in a reference is text

    with console.status(Text(counter.text(message))) as status:

        async def tick() -> None:
            while True:
                await asyncio.sleep(TICK)
                status.update(Text(counter.text(message)))

        try:
            ticker = asyncio.get_running_loop().create_task(tick())
        except RuntimeError:  # no loop: a plain spinner
            ticker = None
        try:
            yield
        finally:
            if ticker is not None:
                ticker.cancel()
            if client is not None:
                del client.probe  # the class's method again
