"""A builder image read from its registry, as pack reads it (no Docker daemon).

The config blob's label ``io.buildpacks.builder.metadata`` (pack
``internal/builder/metadata.go``) holds the run images: ``images`` (``[[run.images]]``)
and, for older builders, ``stack.runImage``. pack's ``RunImages()`` is ``images`` followed
by the stack's run image, and ``DefaultRunImage()`` is its first entry — so ``images``
wins whenever it is non-empty. The stack id is the label ``io.buildpacks.stack.id``.

A label is written by whoever pushed the image: more than ``MAX_LABEL_CANDIDATES`` run
images and mirrors in all is refused (each would cost a request; real builders list a few).
"""

from __future__ import annotations

from inspector.reference import ReferenceError, parse
from inspector.registry.client import RegistryClient
from inspector.sources.image_config import DEFAULT_PLATFORM, JsonObject, fetch
from inspector.sources.model import Builder, Buildpack, ConfigError, RunImage

METADATA_LABEL = "io.buildpacks.builder.metadata"
STACK_LABEL = "io.buildpacks.stack.id"
MAX_LABEL_CANDIDATES = 1000  # run images plus mirrors, all run images together
WHAT = "builder image"


async def load(client: RegistryClient, image: str, platform: str = DEFAULT_PLATFORM) -> Builder:
    """Fetch ``image`` (``platform`` of an index) and read its builder metadata."""
    try:
        ref = parse(image)
    except ReferenceError as error:
        raise ConfigError(f"{WHAT}: {error}") from None
    config = await fetch(client, ref, platform, what=WHAT)
    where = f"{WHAT} {image!r}"
    label = config.labels.get(METADATA_LABEL)
    if label is None:
        raise ConfigError(f"{where}: no label {METADATA_LABEL} (is it a buildpacks builder?)")
    extras = {"platform": config.platform, "digest": config.digest}
    if config.is_index:
        extras["manifest_digest"] = config.manifest_digest
    return parse_metadata(
        label, image, stack_id=config.labels.get(STACK_LABEL) or None, extras=extras
    )


def parse_metadata(
    text: str,
    image: str,
    *,
    stack_id: str | None = None,
    extras: dict[str, str] | None = None,
) -> Builder:
    """The builder behind a metadata label; pure, so hostile JSON is easy to test."""
    where = f"{WHAT} {image!r}: label {METADATA_LABEL}"
    metadata = JsonObject.parse(text, where)

    entries = metadata.objects("images")
    stack = metadata.object("stack")
    stack_run = stack.object("runImage") if stack is not None else None
    listed = sum(1 + _count(e.value.get("mirrors")) for e in entries)
    if stack_run is not None:
        listed += 1 + _count(stack_run.value.get("mirrors"))
    if listed > MAX_LABEL_CANDIDATES:
        raise ConfigError(
            f"{where}: {listed} run images and mirrors; more than {MAX_LABEL_CANDIDATES} is refused"
        )
    images = [_run_image(entry) for entry in entries]
    legacy = _run_image(stack_run) if stack_run is not None else None
    if legacy is not None and not legacy.image:
        legacy = None

    stack_run_image: RunImage | None = None
    if images:
        empty = [i for i, run_image in enumerate(images) if not run_image.image]
        if empty:
            raise ConfigError(f"{where}: images[{empty[0]}].image is empty")
        stack_run_image = legacy  # kept, like builder_toml, so audit can compare
    elif legacy is not None:
        images = [legacy]
    else:
        raise ConfigError(f"{where}: no run image (neither images nor stack.runImage.image)")

    lifecycle = metadata.object("lifecycle")
    created = metadata.object("createdBy")
    details = dict(extras or {})
    if created is not None:
        creator = " ".join(p for p in (created.string("name"), created.string("version")) if p)
        if creator:
            details["created_by"] = creator
            details["created_by_name"] = created.string("name")
            details["created_by_version"] = created.string("version")
    buildpacks = tuple(
        Buildpack(
            entry.string("id"),
            entry.string("version"),
            entry.string("homepage"),
            name=entry.string("name"),
        )
        for entry in metadata.objects("buildpacks")
    )
    return Builder(
        source=image,
        run_images=tuple(images),
        stack_id=stack_id,
        description=metadata.string("description") or None,
        lifecycle_version=(lifecycle.string("version") or None) if lifecycle else None,
        buildpacks=buildpacks,
        image=image,
        stack_run_image=stack_run_image,
        extras=details,
    )


def _run_image(entry: JsonObject) -> RunImage:
    return RunImage(entry.string("image"), entry.strings("mirrors"))


def _count(value: object) -> int:
    return len(value) if isinstance(value, list) else 0
