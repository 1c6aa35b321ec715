"""Commands that read app images from registries: ``preflight`` and ``rebase``."""

from __future__ import annotations

from typing import Any

import click

from inspector.cli import online, options


def _tag_reference(text: str) -> Any:
    """pack ``parseTagReference``: the app image must name a tag, not a digest."""
    from inspector import reference
    from inspector.errors import InputError

    ref = reference.parse(text)
    if ref.digest is not None:
        raise InputError(f"{text!r} is not a tag reference (pack publishes to a tag)")
    return ref


@click.command(
    epilog=options.examples(
        "inspector preflight registry.example.com/acme/app:1.0 -c builder.toml",
        "inspector preflight registry.example.com/acme/app:1.0 -c builder.toml --format sarif",
    )
)
@click.argument("app_image")
@options.builder_options
@options.registry_options
@options.output_options
def preflight(app_image: str, **values: Any) -> None:
    """Is publishing APP_IMAGE (pack build --publish) safe?

    \b
    Checks, each PASS / WARN / FAIL / INFO with a reason:
      run image on the app's registry  WARN if pack's pick is elsewhere
      run image exists and is readable FAIL if missing/unauthorized/unreachable
      run image identical to builder's FAIL if stale (per platform for indexes)
      app repository accepts a push    FAIL if refused; checked by starting a blob
                                       upload and cancelling it: nothing is written
      app tag is new                   INFO if the publish will overwrite it

    Exit 0 when nothing fails, 1 when a check fails, 2 for bad input.
    """
    from inspector.checks.preflight import preflight as run_preflight
    from inspector.cli import output

    out = output.choose(values, "preflight")
    choice, user = options.builder_inputs(values)
    app = _tag_reference(app_image)

    async def job(client: Any) -> Any:
        builder = await online.load_builder(client, choice)
        with online.progress(f"Checking the publish of {app_image}", client):
            report = await run_preflight(
                client, app, builder.run_images, user.mirrors_for, builder_image=builder.image
            )
            return await _pulled(client, report, user.registry_mirrors)

    report, pull = online.run(online.registry_options(values), job)

    def more_tables() -> Any:
        from inspector.formats import human

        return human.pull(pull)

    def more_document(document: dict[str, Any]) -> dict[str, Any]:
        from inspector.formats import json

        return json.with_pull(document, pull)

    output.emit_report(
        out,
        "preflight",
        report,
        choice.config,
        more_tables=more_tables,
        more_document=more_document,
        pull=pull,
    )
    raise SystemExit(0 if report.ok and (pull is None or pull.ok) else 1)


async def _pulled(client: Any, report: Any, registry_mirrors: Any) -> tuple[Any, Any]:
    """The report with pack's [registry-mirrors] pull reference set, and that probed."""
    from dataclasses import replace

    from inspector.checks import pull_reference

    checked, pull = await pull_reference.pulled(client, report.check, registry_mirrors)
    return replace(report, check=checked), pull


@click.command(
    epilog=options.examples(
        "inspector rebase registry.example.com/acme/app:1.0",
        "inspector rebase registry.example.com/acme/app:1.0 --fail-if-needed --json",
    )
)
@click.argument("app_image")
@click.option(
    "--platform",
    default="linux/amd64",
    show_default=True,
    help="Platform (os/arch[/variant]) to read when APP_IMAGE is multi-platform.",
)
@click.option("--run-image", help="Like pack rebase --run-image: use this run image as given.")
@click.option(
    "--fail-if-needed",
    is_flag=True,
    help="Exit 1 also when the rebase would change the base (or that cannot be told).",
)
@click.option(
    "--force",
    is_flag=True,
    help="You will run pack rebase --force: a new base outside the recorded names is fine.",
)
@options.pack_config_options
@options.registry_options
@options.output_options
def rebase(app_image: str, **values: Any) -> None:
    """Which run image `pack rebase APP_IMAGE --publish` would use, and what it would do.

    Reads the app image's io.buildpacks.lifecycle.metadata label from the registry,
    selects the run image as pack rebase does (the app's registry preferred, your
    pack-config mirrors first), probes it, and reports whether the base would change
    (rebase_needed) and whether lifecycle would refuse it without --force
    (force_required: its name is not among the recorded run image and mirrors).

    \b
    Exit 1 when pack's pick is missing, unreadable or out of sync with the run image,
    or --force would be needed (unless you pass --force); a needed rebase is not a
    failure unless --fail-if-needed. Exit 2 for bad input or an app image without
    buildpacks metadata.
    """
    from inspector.checks.rebase import rebase as run_rebase
    from inspector.cli import output
    from inspector.sources.image_config import check_platform

    out = output.choose(values, "rebase")

    app = _tag_reference(app_image)
    check_platform(values["platform"])
    user = options.load_pack_config(values["pack_config"], values["no_pack_config"])

    async def job(client: Any) -> Any:
        with online.progress(f"Reading {app_image} and its run image", client):
            report = await run_rebase(
                client,
                app,
                user.mirrors_for,
                platform=values["platform"],
                run_image=values["run_image"],
            )
            return await _pulled(client, report, user.registry_mirrors)

    report, pull = online.run(online.registry_options(values), job)
    from inspector.formats import human, json

    def document() -> dict[str, Any]:
        return json.with_pull(json.rebase(report), pull)

    output.emit(out, tables=lambda: [*human.rebase(report), *human.pull(pull)], document=document)
    failed = not report.base_ok or (report.force_required and not values["force"])
    failed = failed or (pull is not None and not pull.ok)
    failed = failed or (values["fail_if_needed"] and report.rebase_needed is not False)
    raise SystemExit(1 if failed else 0)
