"""Commands that probe nothing: ``resolve`` and ``builder`` (a builder image is read only)."""

from __future__ import annotations

from typing import Any

import click

from inspector.cli import options


@click.command(
    epilog=options.examples(
        "inspector resolve registry.example.com/acme/app -c builder.toml",
        "inspector resolve registry.example.com/acme/app --builder registry.example.com/builder",
    )
)
@click.argument("app_image")
@options.builder_options
@options.mode_options
@options.registry_options
@options.output_options
def resolve(
    app_image: str,
    builder_config: str | None,
    builder_image: str | None,
    platform: str,
    pack_config: str | None,
    no_pack_config: bool,
    daemon: bool,
    builder_name: str | None,
    selector: str,
    as_json: bool,
    output_format: str | None,
    color: str,
    debug: bool,
    verbose: int,
    **registry: Any,
) -> None:
    """Offline: the ordered run-image candidates for APP_IMAGE and which one pack selects.

    Nothing is probed; only a --builder IMAGE is read from its registry. The pull
    reference applies your pack config's [registry-mirrors] to the pick, as pack does.
    """
    from inspector import reference, resolver
    from inspector.cli import output

    out = output.choose(
        {"as_json": as_json, "output_format": output_format, "color": color}, "resolve"
    )
    choice = options.builder_choice(builder_config, builder_image, platform)
    app = reference.parse(app_image)
    name = options.daemon_builder_name(daemon, builder_name, choice)
    user = options.load_pack_config(pack_config, no_pack_config)
    builder = _load_builder(choice, registry, verbose)
    result = resolver.resolve(
        app,
        builder.run_images,
        user.mirrors_for,
        mode=resolver.Mode.DAEMON if daemon else resolver.Mode.PUBLISH,
        builder_image=name,
        selector=resolver.Selector(selector),
        registry_mirrors=user.registry_mirrors,
    )
    from inspector.formats import human, json

    output.emit(
        out, tables=lambda: human.resolution(result), document=lambda: json.resolution(result)
    )


@click.command(
    epilog=options.examples(
        "inspector builder -c builder.toml",
        "inspector builder registry.example.com/example/builder:jammy --json",
    )
)
@click.argument("image", required=False)
@click.option("-c", "--builder-config", type=click.Path(dir_okay=False), help="A builder.toml.")
@click.option("--platform", default="linux/amd64", show_default=True, help="Platform to read.")
@options.pack_config_options
@options.registry_options
@options.output_options
def builder(
    image: str | None,
    builder_config: str | None,
    platform: str,
    pack_config: str | None,
    no_pack_config: bool,
    as_json: bool,
    output_format: str | None,
    color: str,
    debug: bool,
    verbose: int,
    **registry: Any,
) -> None:
    """Like `pack builder inspect`: run images and mirrors in match order.

    IMAGE is read from its registry (no Docker daemon); the registry options apply to it.
    """
    from inspector.cli import output

    out = output.choose(
        {"as_json": as_json, "output_format": output_format, "color": color}, "builder"
    )
    choice = options.builder_choice(builder_config, image, platform)
    user = options.load_pack_config(pack_config, no_pack_config)
    loaded = _load_builder(choice, registry, verbose)
    from inspector.formats import human, json

    output.emit(
        out,
        tables=lambda: human.builder_detail(loaded, user),
        document=lambda: json.builder_detail(loaded, user),
    )


def _load_builder(choice: options.BuilderChoice, registry: dict[str, Any], verbose: int) -> Any:
    """A builder.toml offline; a builder image from its registry (httpx imported only then)."""
    if choice.image is None:
        from inspector.cli import config_warnings
        from inspector.sources import builder_toml

        loaded = builder_toml.load(choice.config or "")
        config_warnings.announce(loaded)
        return loaded
    from inspector.cli import online

    opts = online.registry_options({**registry, "verbose": verbose})
    return online.run(opts, lambda client: online.load_builder(client, choice))
