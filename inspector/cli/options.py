"""Options shared by several commands, and the wiring that turns them into inputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from inspector.registry.defaults import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from inspector.sources.pack_config import PackConfig

F = TypeVar("F", bound=Callable[..., Any])


def _stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(function: F) -> F:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


output_options = _stack(
    click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout."),
    click.option("--debug", is_flag=True, hidden=True, help="Show tracebacks."),
    click.option("-v", "--verbose", count=True, help="Log requests to stderr (no secrets)."),
)

pack_config_options = _stack(
    click.option(
        "--pack-config",
        type=click.Path(dir_okay=False),
        help="pack's config.toml [default: $PACK_HOME/config.toml, else ~/.pack/config.toml].",
    ),
    click.option("--no-pack-config", is_flag=True, help="Ignore pack's config (user mirrors)."),
)

builder_options = _stack(
    click.option(
        "-c",
        "--builder-config",
        type=click.Path(dir_okay=False),
        help="A builder.toml.",
    ),
    click.option("--builder", "builder_image", metavar="IMAGE", help="A builder image."),
    click.option(
        "--platform",
        default="linux/amd64",
        show_default=True,
        help="Platform (os/arch[/variant]) to read from a multi-platform builder or app image.",
    ),
    pack_config_options,
)

referrers_option = click.option(
    "--referrers",
    is_flag=True,
    help="Also compare (sync: copy) signatures, attestations, SBOMs and OCI referrers of "
    "the run image's digest (cosign tags, referrers API or its fallback tag).",
)

mode_options = click.option(
    "--daemon",
    is_flag=True,
    help="Emulate `pack build` without --publish: prefer the builder image's registry.",
)

registry_options = _stack(
    click.option(
        "--registry-config",
        type=click.Path(dir_okay=False),
        envvar="INSPECTOR_REGISTRY_CONFIG",
        help="Per-registry endpoint/TLS settings (TOML) [env: INSPECTOR_REGISTRY_CONFIG].",
    ),
    click.option(
        "--endpoint",
        "endpoints",
        multiple=True,
        metavar="REGISTRY=URL",
        help="Send requests for REGISTRY to URL (repeatable).",
    ),
    click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=DEFAULT_TIMEOUT,
        show_default=True,
        help="Seconds allowed for each request (connect and read).",
    ),
    click.option(
        "--concurrency",
        type=click.IntRange(min=1),
        default=DEFAULT_CONCURRENCY,
        show_default=True,
        help="Requests in flight at once.",
    ),
)


@dataclass(frozen=True, slots=True)
class BuilderChoice:
    config: str | None
    image: str | None
    platform: str


def builder_choice(
    builder_config: str | None, builder_image: str | None, platform: str
) -> BuilderChoice:
    if bool(builder_config) == bool(builder_image):
        raise click.UsageError("give exactly one of -c/--builder-config FILE and --builder IMAGE")
    return BuilderChoice(builder_config, builder_image, platform)


def load_pack_config(pack_config: str | None, no_pack_config: bool) -> PackConfig:
    from inspector.sources import pack_config as loader

    if pack_config and no_pack_config:
        raise click.UsageError("--pack-config and --no-pack-config exclude each other")
    if no_pack_config:
        return loader.PackConfig(None)
    return loader.load(pack_config)


def builder_inputs(values: dict[str, Any]) -> tuple[BuilderChoice, PackConfig]:
    """The builder (-c FILE or --builder IMAGE) and pack config of a command's options."""
    choice = builder_choice(values["builder_config"], values["builder_image"], values["platform"])
    return choice, load_pack_config(values["pack_config"], values["no_pack_config"])
