"""Wiring for commands that talk to registries: one client per run, inside asyncio.run."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from inspector.cli import options
from inspector.registry.defaults import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from inspector.registry.client import RegistryClient
    from inspector.registry.model import Probe
    from inspector.sources.model import Builder

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RegistryOptions:
    registry_config: str | None
    endpoints: tuple[str, ...]
    timeout: float
    concurrency: int
    verbose: int = 0
    http2: bool = True


def registry_options(values: dict[str, Any], *, http2: bool = True) -> RegistryOptions:
    return RegistryOptions(
        values.get("registry_config"),
        tuple(values.get("endpoints") or ()),
        float(values.get("timeout", DEFAULT_TIMEOUT)),
        int(values.get("concurrency", DEFAULT_CONCURRENCY)),
        int(values.get("verbose", 0)),
        http2,
    )


def _configure_logging(verbose: int) -> None:
    import logging  # here, not at the top: offline commands import this module too

    # Warnings (e.g. TLS verification off) always reach stderr; -v adds each request.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("inspector: %(message)s"))
    logger = logging.getLogger("inspector")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False


def make_client(opts: RegistryOptions) -> RegistryClient:
    from inspector.registry import credentials, fdlimit, hosts
    from inspector.registry.client import RegistryClient

    _configure_logging(opts.verbose)
    return RegistryClient(
        hosts.load(opts.registry_config, opts.endpoints),
        credentials.Keychain.from_environment(),
        timeout=opts.timeout,
        # Within the open-file limit (raised to the hard one first): see fdlimit.
        concurrency=fdlimit.cap_concurrency(opts.concurrency),
        http2=opts.http2,
    )


def run(opts: RegistryOptions, job: Callable[[RegistryClient], Awaitable[T]]) -> T:
    """Run ``job`` with a fresh client that is closed afterwards."""
    import asyncio  # here, not at the top: `resolve` must start without it

    from inspector.registry.fdlimit import TooManyOpenFiles

    client = make_client(opts)

    async def main() -> T:
        async with client:
            try:
                return await job(client)
            except TooManyOpenFiles:
                # Every other request hits the same wall: stop them here, quietly, so
                # the run ends with one line, not one traceback per task at shutdown
                # (nor anyio's connection attempts that were cancelled before they ran).
                import warnings

                warnings.filterwarnings("ignore", "coroutine .* was never awaited")
                others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                for task in others:
                    task.cancel()
                await asyncio.gather(*others, return_exceptions=True)
                raise

    return asyncio.run(main())


async def load_builder(client: RegistryClient, choice: options.BuilderChoice) -> Builder:
    if choice.image is not None:
        from inspector.sources import builder_image

        return await builder_image.load(client, choice.image, choice.platform)
    from inspector.cli import config_warnings
    from inspector.sources import builder_toml

    builder = builder_toml.load(choice.config or "")
    config_warnings.announce(builder)
    return builder


@contextmanager
def progress(message: str, client: RegistryClient | None = None) -> Iterator[None]:
    """A spinner on stderr while probing, only when stderr is a terminal: probes done of
    started and, when slow, the registries still pending (see ``cli/progress.py``)."""
    from inspector.cli.progress import probing

    with probing(message, client):
        yield


def probe_references(references: Iterable[str], registry_opts: dict[str, Any]) -> dict[str, Probe]:
    """Probe references (keyed by normalized form); for ``audit --online``."""
    from inspector.checks.evaluate import probe_all
    from inspector.reference import ReferenceError, parse

    refs = []
    for text in references:
        try:
            refs.append(parse(text))
        except ReferenceError:
            continue
    opts = registry_options(registry_opts)
    return run(opts, lambda client: probe_all(client, refs))
