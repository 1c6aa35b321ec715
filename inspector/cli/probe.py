"""Commands that probe registries: ``check`` and ``mirrors``."""

from __future__ import annotations

from typing import Any

import click

from inspector.cli import config_warnings, online, options


@click.command()
@click.argument("app_image")
@options.builder_options
@options.mode_options
@options.registry_options
@options.referrers_option
@options.output_options
def check(app_image: str, **values: Any) -> None:
    """Resolve the run image for APP_IMAGE, probe every candidate, compare digests.

    Exit 1 when a candidate is missing, unreadable or out of sync (pack's pick first).
    """
    from inspector import reference
    from inspector.checks import pull_reference
    from inspector.checks.check import check as run_check
    from inspector.resolver import Mode, Selector

    choice, user = options.builder_inputs(values)
    types = options.artifact_types(values)
    app = reference.parse(app_image)
    builders: list[Any] = []  # kept for its unknown keys, which count as findings
    name = options.daemon_builder_name(values["daemon"], values["builder_name"], choice)

    async def job(client: Any) -> Any:
        builder = await online.load_builder(client, choice)
        builders.append(builder)
        with online.progress(f"Probing run image candidates for {app_image}"):
            report = await run_check(
                client,
                app,
                builder.run_images,
                user.mirrors_for,
                mode=Mode.DAEMON if values["daemon"] else Mode.PUBLISH,
                builder_image=name,
                selector=Selector(values["selector"]),
            )
            report = pull_reference.annotate(report, user.registry_mirrors)
            pull = await pull_reference.probe_pull(client, report)
        if not values["referrers"]:
            return report, pull, None
        from inspector.checks import referrers

        groups = referrers.groups_of(report.results)
        with online.progress("Comparing signatures, attestations and referrers"):
            return report, pull, await referrers.check_groups(client, groups, types)

    report, pull, attached = online.run(online.registry_options(values), job)
    # Only the renderer asked for is imported.
    if values["as_json"]:
        from inspector.formats import attachments, json

        document = json.check(report)
        document["pull"] = json.pull(pull)
        document = config_warnings.annotate(document, builders)
        json.dump(attachments.add_to_check(document, attached) if attached else document)
    else:
        from inspector.formats import attachments, human, table

        tables = [*human.check(report), *human.selector_error(report.resolution)]
        extra = attachments.tables(attached) if attached else []
        table.render([*tables, *human.pull(pull), *extra])
    ok = report.ok and (pull is None or pull.ok) and (attached is None or attached.ok)
    raise SystemExit(config_warnings.exit_code(ok, builders))


@click.command()
@options.builder_options
@options.registry_options
@options.referrers_option
@options.output_options
def mirrors(**values: Any) -> None:
    """For every run image of the builder: is each mirror present and identical to it?"""
    from inspector.checks.mirrors import mirrors as run_mirrors

    choice, user = options.builder_inputs(values)
    types = options.artifact_types(values)
    builders: list[Any] = []  # kept for its unknown keys, which count as findings

    async def job(client: Any) -> Any:
        builder = await online.load_builder(client, choice)
        builders.append(builder)
        with online.progress("Probing run images and mirrors"):
            report = await run_mirrors(client, builder.run_images, user.mirrors_for)
        if not values["referrers"]:
            return report, None
        from inspector.checks import referrers

        groups = [(g.image, g.mirrors) for g in report.run_images]
        with online.progress("Comparing signatures, attestations and referrers"):
            return report, await referrers.check_groups(client, groups, types)

    report, attached = online.run(online.registry_options(values), job)
    # Only the renderer asked for is imported.
    if values["as_json"]:
        from inspector.formats import attachments, json

        document = config_warnings.annotate(json.mirrors(report), builders)
        json.dump(attachments.add_to_mirrors(document, attached) if attached else document)
    else:
        from inspector.formats import attachments, human, table

        table.render(human.mirrors(report) + (attachments.tables(attached) if attached else []))
    ok = report.in_sync and (attached is None or attached.ok)
    raise SystemExit(config_warnings.exit_code(ok, builders))
