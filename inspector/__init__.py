"""inspector: which run image will Cloud Native Buildpacks use, and is every mirror in sync?

The Python API: synchronous functions returning the report objects the CLI renders.
Each reads the builder from ``builder_config`` (a builder.toml) or ``builder`` (a
builder image in a registry), like ``-c`` and ``--builder``::

    import inspector

    report = inspector.mirrors(builder_config="builder.toml")
    print(report.in_sync, report.verdict())

Bad input (an invalid reference, an unreadable builder.toml) raises
:class:`inspector.errors.InputError`; what registries answer, failures included, is in
the report (each candidate's ``status``), never an exception.
Everything is imported on first call: ``import inspector`` stays instant.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from inspector.checks.audit_rules import Finding
    from inspector.checks.check import CheckReport
    from inspector.checks.mirrors import MirrorsReport
    from inspector.checks.sync import SyncReport
    from inspector.resolver import Resolution
    from inspector.sources.model import Builder
    from inspector.sources.pack_config import PackConfig

T = TypeVar("T")

__version__ = "0.1.0"
__all__ = ["__version__", "audit", "check", "mirrors", "resolve", "sync"]


def resolve(
    app_image: str,
    *,
    builder_config: str | None = None,
    builder: str | None = None,
    pack_config: str | None = None,
    use_pack_config: bool = True,
    daemon: bool = False,
    platform: str = "linux/amd64",
    **registry: Any,
) -> Resolution:
    """Offline: the ordered run-image candidates for ``app_image`` and pack's pick.

    Nothing is probed (a ``builder`` image is read from its registry).
    ``registry`` takes the network keywords of :func:`check`.
    """
    from inspector import reference
    from inspector import resolver as rules

    loaded, user = _inputs(
        builder_config, builder, platform, pack_config, use_pack_config, registry
    )
    return rules.resolve(
        reference.parse(app_image),
        loaded.run_images,
        user.mirrors_for,
        mode=rules.Mode.DAEMON if daemon else rules.Mode.PUBLISH,
        builder_image=loaded.image,
    )


def check(
    app_image: str,
    *,
    builder_config: str | None = None,
    builder: str | None = None,
    pack_config: str | None = None,
    use_pack_config: bool = True,
    daemon: bool = False,
    platform: str = "linux/amd64",
    registry_config: str | None = None,
    endpoints: Sequence[str] = (),
    timeout: float | None = None,
    concurrency: int | None = None,
) -> CheckReport:
    """Resolve, then probe every candidate and compare digests (``inspector check``).

    ``endpoints`` are ``REGISTRY=URL`` strings (``--endpoint``); ``registry_config`` is a
    registry config TOML (default ``$INSPECTOR_REGISTRY_CONFIG``). ``report.ok`` is what
    the CLI's exit code says; ``report.selected`` is pack's pick.
    """
    from inspector.checks.check import check as run_check
    from inspector.reference import parse
    from inspector.resolver import Mode

    app = parse(app_image)
    opts = _registry(registry_config, endpoints, timeout, concurrency)
    user = _pack_config(pack_config, use_pack_config)

    async def job(client: Any) -> CheckReport:
        loaded = await _builder(client, builder_config, builder, platform)
        return await run_check(
            client,
            app,
            loaded.run_images,
            user.mirrors_for,
            mode=Mode.DAEMON if daemon else Mode.PUBLISH,
            builder_image=loaded.image,
        )

    return _run(opts, job)


def mirrors(
    *,
    builder_config: str | None = None,
    builder: str | None = None,
    pack_config: str | None = None,
    use_pack_config: bool = True,
    platform: str = "linux/amd64",
    registry_config: str | None = None,
    endpoints: Sequence[str] = (),
    timeout: float | None = None,
    concurrency: int | None = None,
) -> MirrorsReport:
    """Is every mirror of every run image present and identical (``inspector mirrors``)?

    ``report.in_sync`` is the verdict; ``report.run_images[i].mirrors`` the details.
    """
    from inspector.checks.mirrors import mirrors as run_mirrors

    opts = _registry(registry_config, endpoints, timeout, concurrency)
    user = _pack_config(pack_config, use_pack_config)

    async def job(client: Any) -> MirrorsReport:
        loaded = await _builder(client, builder_config, builder, platform)
        return await run_mirrors(client, loaded.run_images, user.mirrors_for)

    return _run(opts, job)


def audit(
    files: Sequence[str],
    *,
    pack_config: str | None = None,
    use_pack_config: bool = True,
    online: bool = False,
    registry_config: str | None = None,
    endpoints: Sequence[str] = (),
    timeout: float | None = None,
    concurrency: int | None = None,
) -> list[Finding]:
    """Lint builder.toml files (and pack's config); ``online`` also probes the registries.

    Returns the findings, sorted; each has ``rule_id``, ``level``, ``file``, ``line``.
    """
    from inspector.checks import audit as checks

    user = checks.read_pack_config(pack_config) if use_pack_config else None
    builders = [checks.read_builder(path) for path in files]
    probes = None
    if online:
        from inspector.cli.online import probe_references

        values = _registry_values(registry_config, endpoints, timeout, concurrency)
        probes = probe_references(checks.references_to_probe(builders, user), values)
    return checks.audit(builders, user, probes)


def sync(
    *,
    builder_config: str | None = None,
    builder: str | None = None,
    only: Sequence[str] = (),
    dry_run: bool = False,
    pack_config: str | None = None,
    use_pack_config: bool = True,
    platform: str = "linux/amd64",
    registry_config: str | None = None,
    endpoints: Sequence[str] = (),
    timeout: float | None = None,
    concurrency: int | None = None,
) -> SyncReport:
    """Copy each run image to its missing or stale mirrors (``dry_run``: plan only).

    ``only`` limits the mirrors written (as written in the builder, or normalized); with
    a ``builder`` image it is required unless ``dry_run``: the image's label names the
    targets. ``report.ok`` is true when every mirror ends identical.
    """
    from inspector.checks import sync as syncing
    from inspector.checks.mirrors import mirrors as run_mirrors
    from inspector.errors import InputError

    if builder is not None and not only and not dry_run:
        # The mirrors of a builder image come from its label, which whoever can push the
        # image controls: writes go only where the caller named them.
        raise InputError("sync from a builder image writes only to the mirrors named in only=")
    opts = _registry(registry_config, endpoints, timeout, concurrency, http2=False)
    user = _pack_config(pack_config, use_pack_config)

    async def job(client: Any) -> SyncReport:
        loaded = await _builder(client, builder_config, builder, platform)
        syncing.check_only(loaded.run_images, user.mirrors_for, only)
        report = await run_mirrors(client, loaded.run_images, user.mirrors_for)
        transfers = max(1, opts.concurrency // 2)
        return await syncing.sync(client, report, only=only, dry_run=dry_run, transfers=transfers)

    return _run(opts, job)


# --- wiring shared with the CLI ------------------------------------------------------------


def _registry_values(
    registry_config: str | None,
    endpoints: Sequence[str],
    timeout: float | None,
    concurrency: int | None,
) -> dict[str, Any]:
    """The keyword arguments as the CLI's registry option values."""
    import os

    values: dict[str, Any] = {
        "registry_config": registry_config or os.environ.get("INSPECTOR_REGISTRY_CONFIG"),
        "endpoints": tuple(endpoints),
    }
    if timeout is not None:
        values["timeout"] = timeout
    if concurrency is not None:
        values["concurrency"] = concurrency
    return values


def _registry(
    registry_config: str | None,
    endpoints: Sequence[str],
    timeout: float | None,
    concurrency: int | None,
    *,
    http2: bool = True,
) -> Any:
    from inspector.cli import online

    values = _registry_values(registry_config, endpoints, timeout, concurrency)
    return online.registry_options(values, http2=http2)


def _pack_config(path: str | None, use: bool) -> PackConfig:
    from inspector.sources import pack_config as loader

    return loader.load(path) if use else loader.PackConfig(None)


def _choice(builder_config: str | None, builder: str | None, platform: str) -> Any:
    from inspector.cli.options import BuilderChoice
    from inspector.errors import InputError

    if bool(builder_config) == bool(builder):
        raise InputError("give exactly one of builder_config (a builder.toml) and builder")
    return BuilderChoice(builder_config, builder, platform)


async def _builder(
    client: Any, builder_config: str | None, builder: str | None, platform: str
) -> Builder:
    from inspector.cli import online

    return await online.load_builder(client, _choice(builder_config, builder, platform))


def _run(opts: Any, job: Callable[[Any], Awaitable[T]]) -> T:
    from inspector.cli import online

    return online.run(opts, job)


def _inputs(
    builder_config: str | None,
    builder: str | None,
    platform: str,
    pack_config: str | None,
    use_pack_config: bool,
    registry: dict[str, Any],
) -> tuple[Builder, PackConfig]:
    user = _pack_config(pack_config, use_pack_config)
    choice = _choice(builder_config, builder, platform)
    if choice.image is None:
        from inspector.sources import builder_toml

        return builder_toml.load(choice.config or ""), user
    opts = _registry(
        registry.get("registry_config"),
        registry.get("endpoints", ()),
        registry.get("timeout"),
        registry.get("concurrency"),
    )
    return _run(opts, lambda client: _builder(client, None, builder, platform)), user
