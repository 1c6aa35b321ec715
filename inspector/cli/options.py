"""Options shared by several commands, and the wiring that turns them into inputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from inspector.cli import numbers
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


def examples(*lines: str) -> str:
    """A command's help epilog: its examples, kept as written ("\\b": click does not
    re-wrap the paragraph)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


FORMATS = ("table", "json", "sarif")
COLOR_MODES = ("auto", "always", "never")

output_options = _stack(
    click.option(
        "--format",
        "output_format",
        type=click.Choice(FORMATS),
        help="Output: a table (default), one JSON document, or SARIF 2.1.0.",
    ),
    click.option("--json", "as_json", is_flag=True, help="Same as --format json."),
    click.option(
        "--color",
        type=click.Choice(COLOR_MODES),
        default="auto",
        show_default=True,
        help="Colour tables: auto (a terminal, unless NO_COLOR is set; FORCE_COLOR forces).",
    ),
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
        callback=lambda _ctx, _param, value: _platform(value),
        help="Platform (os/arch[/variant]) to read from a multi-platform builder or app image.",
    ),
    pack_config_options,
)

referrers_option = _stack(
    click.option(
        "--referrers",
        is_flag=True,
        help="Also compare (sync: copy) signatures, attestations, SBOMs and OCI referrers of "
        "the run image's digest (cosign tags, referrers API or its fallback tag).",
    ),
    click.option(
        "--artifact-type",
        "artifact_types",
        multiple=True,
        metavar="TYPE",
        help="With --referrers: only attachments of this artifact type (repeatable), e.g. "
        "application/vnd.dev.cosign.simplesigning.v1+json.",
    ),
)


def artifact_types(values: dict[str, Any]) -> tuple[str, ...]:
    """``--artifact-type`` values; they mean nothing without ``--referrers``."""
    types: tuple[str, ...] = tuple(values.get("artifact_types") or ())
    if types and not values.get("referrers"):
        raise click.UsageError("--artifact-type needs --referrers")
    return types


mode_options = _stack(
    click.option(
        "--daemon",
        is_flag=True,
        help="Emulate `pack build` without --publish: prefer the builder image's registry.",
    ),
    click.option(
        "--builder-name",
        metavar="NAME",
        help="With --daemon and -c FILE: the builder image name you pass to "
        "`pack build --builder` (pack prefers its registry).",
    ),
    click.option(
        "--selector",
        type=click.Choice(["pack", "lifecycle"]),
        default="pack",
        show_default=True,
        help="Whose rule picks: pack's, or lifecycle's own (platforms that run lifecycle "
        "without -run-image: no user mirrors, no fallback).",
    ),
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
        callback=numbers.check_endpoints,
        help="Send requests for REGISTRY to URL (repeatable).",
    ),
    click.option(
        "--timeout",
        type=numbers.SECONDS,
        default=DEFAULT_TIMEOUT,
        show_default=True,
        envvar="INSPECTOR_TIMEOUT",
        help="Seconds allowed for each request (connect and read), 0.1 to 3600 "
        "[env: INSPECTOR_TIMEOUT].",
    ),
    click.option(
        "--concurrency",
        type=numbers.CONCURRENCY,
        default=DEFAULT_CONCURRENCY,
        show_default=True,
        envvar="INSPECTOR_CONCURRENCY",
        help="Requests in flight at once, 1 to 1024 (capped by the open-file limit) "
        "[env: INSPECTOR_CONCURRENCY].",
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


def daemon_builder_name(
    daemon: bool, builder_name: str | None, choice: BuilderChoice
) -> str | None:
    """The builder image name whose registry pack prefers with --daemon; None publishing.

    pack takes it from ``pack build --builder`` (build.go:405); a builder.toml does not
    say it, so with -c FILE the user names it, and without a name --daemon is bad input.
    """
    from inspector import reference

    if choice.image is not None and builder_name and builder_name != choice.image:
        raise click.UsageError("--builder-name is for -c FILE; --builder IMAGE already names it")
    if not daemon:
        return None
    name = choice.image or builder_name
    if not name:
        raise click.UsageError(
            "--daemon needs the builder image's name (pack prefers its registry): "
            "give --builder IMAGE, or --builder-name NAME with -c FILE"
        )
    reference.parse(name)  # a bad name is bad input (exit 2), as in pack
    return name


def _platform(value: str) -> str:
    """``os/arch[/variant]`` or bad input (exit 2), before anything is asked (checked
    here, not by image_config's parser: that would import the HTTP stack for resolve)."""
    import re

    parts = value.split("/")
    if not 2 <= len(parts) <= 3 or not all(re.fullmatch(r"[A-Za-z0-9._-]+", p) for p in parts):
        raise click.BadParameter(
            f"invalid platform {value!r}: want os/arch[/variant], e.g. linux/amd64",
            param_hint="--platform",
        )
    return value
