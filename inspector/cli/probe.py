"""Commands that probe registries: ``check`` and ``mirrors``."""

from __future__ import annotations

from typing import Any

import click

from inspector.cli import online, options


@click.command(
    epilog=options.examples(
        "inspector check registry.example.com/acme/app -c builder.toml",
        "inspector check registry.example.com/acme/app -c builder.toml --format sarif",
    )
)
@click.argument("app_image")
@options.builder_options
@options.mode_options
@options.registry_options
@options.output_options
def check(app_image: str, **values: Any) -> None:
    """Resolve the run image for APP_IMAGE, probe every candidate, compare digests.

    Exit 1 when a candidate is missing, unreadable or out of sync (pack's pick first).
    """
    from inspector import reference
    from inspector.checks.check import check as run_check
    from inspector.cli import output
    from inspector.resolver import Mode

    out = output.choose(values, "check")
    choice, user = options.builder_inputs(values)
    app = reference.parse(app_image)

    async def job(client: Any) -> Any:
        builder = await online.load_builder(client, choice)
        with online.progress(f"Probing run image candidates for {app_image}", client):
            return await run_check(
                client,
                app,
                builder.run_images,
                user.mirrors_for,
                mode=Mode.DAEMON if values["daemon"] else Mode.PUBLISH,
                builder_image=builder.image,
            )

    report = online.run(online.registry_options(values), job)
    output.emit_report(out, "check", report, choice.config)
    raise SystemExit(0 if report.ok else 1)


@click.command(
    epilog=options.examples(
        "inspector mirrors -c builder.toml",
        "inspector mirrors --builder registry.example.com/builder --json | jq -e .in_sync",
    )
)
@options.builder_options
@options.registry_options
@options.output_options
def mirrors(**values: Any) -> None:
    """For every run image of the builder: is each mirror present and identical to it?"""
    from inspector.checks.mirrors import mirrors as run_mirrors
    from inspector.cli import output

    out = output.choose(values, "mirrors")
    choice, user = options.builder_inputs(values)

    async def job(client: Any) -> Any:
        builder = await online.load_builder(client, choice)
        with online.progress("Probing run images and mirrors", client):
            return await run_mirrors(client, builder.run_images, user.mirrors_for)

    report = online.run(online.registry_options(values), job)
    output.emit_report(out, "mirrors", report, choice.config)
    raise SystemExit(0 if report.in_sync else 1)
