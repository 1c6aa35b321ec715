"""Run images of a builder.toml, as pack's builder config reader sees them.

Two shapes: ``[[run.images]] image/mirrors`` and the legacy ``[stack] id, build-image,
run-image, run-image-mirrors``. When both are present ``[[run.images]]`` wins, as in
pack (``pkg/builder/config_reader.go``); the ``[stack]`` run image is kept on the
result so audit can report a disagreement.
"""

from __future__ import annotations

from pathlib import Path

from inspector import toml_file
from inspector.sources import builder_schema
from inspector.sources.builder_schema import UnknownKey
from inspector.sources.model import Builder, Buildpack, ConfigError, RunImage
from inspector.sources.toml_positions import Locator

WHAT = "builder config"


def load(path: str | Path) -> Builder:
    path = Path(path)
    where = f"{WHAT} {str(path)!r}"
    text = toml_file.read(path, WHAT)
    raw, unknown_paths = builder_schema.normalize(toml_file.parse(text, path, WHAT))
    document = toml_file.Fields(raw, where)

    run_images: list[RunImage] = []
    run = document.table_of("run")
    for entry in run.tables("images") if run else []:
        image = entry.string("image")
        if not image:
            raise ConfigError(f"{entry.where}: image is required")
        run_images.append(RunImage(image, entry.strings("mirrors")))

    stack = document.table_of("stack")
    stack_run_image: RunImage | None = None
    stack_id = build_image = None
    if stack is not None:
        stack_id = stack.string("id")
        build_image = stack.string("build-image")
        image = stack.string("run-image")
        if image:
            stack_run_image = RunImage(image, stack.strings("run-image-mirrors"))
        else:
            stack.strings("run-image-mirrors")  # still type-check it
    build = document.table_of("build")
    if build is not None:
        build_image = build.string("image") or build_image

    if not run_images:
        if stack_run_image is None:
            raise ConfigError(
                f"{where}: no run image (neither [[run.images]] nor [stack] run-image)"
            )
        run_images.append(stack_run_image)
        stack_run_image = None

    buildpacks = tuple(
        Buildpack(
            entry.string("id") or "",
            entry.string("version") or "",
            uri=entry.string("uri") or "",
            image=entry.string("image") or "",
        )
        for entry in document.tables("buildpacks")
    )
    lifecycle = document.table_of("lifecycle")
    return Builder(
        unknown_keys=_located(text, unknown_paths),
        source=str(path),
        run_images=tuple(run_images),
        stack_id=stack_id,
        build_image=build_image,
        description=document.string("description"),
        lifecycle_version=lifecycle.string("version") if lifecycle else None,
        buildpacks=buildpacks,
        stack_run_image=stack_run_image,
    )


def _located(text: str, paths: list[tuple[str | int, ...]]) -> tuple[UnknownKey, ...]:
    if not paths:
        return ()
    locator = Locator(text)  # only for a file with unknown keys: most have none
    found = []
    for path in paths:
        position = locator.at(path)
        line, column = (position.line, position.column) if position else (1, None)
        found.append(UnknownKey(path, line, column))
    return tuple(found)
