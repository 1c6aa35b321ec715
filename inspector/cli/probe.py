"""Commands that probe registries: ``check`` and ``mirrors``."""

from __future__ import annotations

from typing import Any

import click

from inspector.cli import config_warnings, online, options

_depth_options = options._stack(
    click.option(
        "--deep",
        is_flag=True,
        help="Also HEAD every config and layer blob of every candidate (once per repository).",
    ),
    click.option(
        "--strict",
        is_flag=True,
        help="Count 'equivalent' (other index digest, same images) as a finding too.",
    ),
)


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
@_depth_options
@options.referrers_option
@options.output_options
def check(app_image: str, **values: Any) -> None:
    """Resolve the run image for APP_IMAGE, probe every candidate, judge each by what a
    build would pull: identical, equivalent, partial, stale or broken.

    Every child manifest is checked (HEAD by digest); pack's pick is verified down to the
    blobs of its --platform image; --deep checks every blob of every candidate.

    Exit 1 when a candidate is missing, unreadable, partial, stale or broken (with
    --strict: or equivalent).
    """
    from inspector import reference
    from inspector.checks import pull_reference
    from inspector.checks.check import check as run_check
    from inspector.cli import output
    from inspector.resolver import Mode, Selector

    out = output.choose(values, "check")
    choice, user = options.builder_inputs(values)
    types = options.artifact_types(values)
    app = reference.parse(app_image)
    builders: list[Any] = []  # kept for its unknown keys, which count as findings
    name = options.daemon_builder_name(values["daemon"], values["builder_name"], choice)

    async def job(client: Any) -> Any:
        builder = await online.load_builder(client, choice)
        builders.append(builder)
        with online.progress(f"Probing run image candidates for {app_image}", client):
            report = await run_check(
                client,
                app,
                builder.run_images,
                user.mirrors_for,
                mode=Mode.DAEMON if values["daemon"] else Mode.PUBLISH,
                builder_image=name,
                selector=Selector(values["selector"]),
                platform=values["platform"],
                deep=values["deep"],
                strict=values["strict"],
            )
            report, pull = await pull_reference.pulled(client, report, user.registry_mirrors)
        if not values["referrers"]:
            return report, pull, None
        from inspector.checks import referrers

        groups = referrers.groups_of(report.results)
        with online.progress("Comparing signatures, attestations and referrers", client):
            return report, pull, await referrers.check_groups(client, groups, types)

    report, pull, attached = online.run(online.registry_options(values), job)

    def more_tables() -> Any:
        from inspector.formats import attachments, human

        extra = attachments.tables(attached) if attached else []
        return [*human.selector_error(report.resolution), *human.pull(pull), *extra]

    def more_document(document: dict[str, Any]) -> dict[str, Any]:
        from inspector.formats import attachments, json

        document = config_warnings.annotate(json.with_pull(document, pull), builders)
        return attachments.add_to_check(document, attached) if attached else document

    output.emit_report(
        out,
        "check",
        report,
        choice.config,
        more_tables=more_tables,
        more_document=more_document,
        pull=pull,
    )
    ok = report.ok and (pull is None or pull.ok) and (attached is None or attached.ok)
    raise SystemExit(config_warnings.exit_code(ok, builders))


@click.command(
    epilog=options.examples(
        "inspector mirrors -c builder.toml",
        "inspector mirrors --builder registry.example.com/builder --json | jq -e .in_sync",
    )
)
@options.builder_options
@options.registry_options
@_depth_options
@options.referrers_option
@options.output_options
def mirrors(**values: Any) -> None:
    """For every run image of the builder: is each mirror present, and does it serve
    what a build would pull (identical, equivalent, partial, stale or broken)?

    Every child manifest is checked (HEAD by digest); --deep also checks every blob.
    Exit 1 when a mirror is missing, unreadable, partial, stale or broken.
    """
    from inspector.checks.mirrors import mirrors as run_mirrors
    from inspector.cli import output

    out = output.choose(values, "mirrors")
    choice, user = options.builder_inputs(values)
    types = options.artifact_types(values)
    builders: list[Any] = []  # kept for its unknown keys, which count as findings

    async def job(client: Any) -> Any:
        builder = await online.load_builder(client, choice)
        builders.append(builder)
        with online.progress("Probing run images and mirrors", client):
            report = await run_mirrors(
                client,
                builder.run_images,
                user.mirrors_for,
                deep=values["deep"],
                strict=values["strict"],
            )
        if not values["referrers"]:
            return report, None
        from inspector.checks import referrers

        groups = [(g.image, g.mirrors) for g in report.run_images]
        with online.progress("Comparing signatures, attestations and referrers", client):
            return report, await referrers.check_groups(client, groups, types)

    report, attached = online.run(online.registry_options(values), job)

    def more_tables() -> Any:
        from inspector.formats import attachments

        return attachments.tables(attached) if attached else []

    def more_document(document: dict[str, Any]) -> dict[str, Any]:
        from inspector.formats import attachments

        document = config_warnings.annotate(document, builders)
        return attachments.add_to_mirrors(document, attached) if attached else document

    output.emit_report(
        out, "mirrors", report, choice.config, more_tables=more_tables, more_document=more_document
    )
    ok = report.ok and (attached is None or attached.ok)
    raise SystemExit(config_warnings.exit_code(ok, builders))
