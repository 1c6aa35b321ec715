"""``rebase``: which run image ``pack rebase`` would use for an app image, and what it does.

pack ``pkg/client/rebase.go`` reads the app image's ``io.buildpacks.lifecycle.metadata``
label, takes ``runImage.{image,mirrors}`` when ``runImage.image`` is set, else
``stack.runImage``, and selects with ``resolveRunImage`` in publish mode with no builder
registry: the app's registry is preferred, the user's pack-config mirrors come first.

lifecycle (``phase/rebaser.go``, platform API >= 0.12, which pack uses) then refuses a new
base whose name is not among the recorded ``runImage``/``stack.runImage`` image and
mirrors — compared after ``ParseMaybe`` (digest dropped, fully qualified) — unless
``--force``; it also needs ``--force`` when the new base's os/arch differ from the app's.

A rebase changes the base when the selected run image now serves another image than the
recorded ``runImage.reference`` (``<name>@<digest>`` from a registry, a bare image ID from
a daemon) — compared for the app's platform when the run image is an index — or, with no
reference recorded, when the top layer differs from ``topLayer``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from inspector.checks.check import CheckReport, check
from inspector.reference import Reference, ReferenceError, parse
from inspector.registry.client import INDEX_TYPES, RegistryClient
from inspector.registry.model import Status
from inspector.resolver import Mode
from inspector.sources import image_config
from inspector.sources.image_config import DEFAULT_PLATFORM, ImageConfig, JsonObject
from inspector.sources.model import ConfigError, RunImage

LIFECYCLE_LABEL = "io.buildpacks.lifecycle.metadata"


@dataclass(frozen=True, slots=True)
class LifecycleMetadata:
    """The run-image part of ``io.buildpacks.lifecycle.metadata``."""

    run_image: RunImage  # runImage.{image,mirrors}; image may be ""
    stack_run_image: RunImage | None  # stack.runImage, when a stack is recorded
    reference: str = ""
    top_layer: str = ""

    def selectable(self) -> RunImage | None:
        """pack's precedence: ``runImage`` when its image is set, else ``stack.runImage``."""
        if self.run_image.image:
            return self.run_image
        if self.stack_run_image is not None and self.stack_run_image.image:
            return self.stack_run_image
        return None

    def contains_name(self, name: str) -> bool:
        """lifecycle ``containsName``: ``runImage`` then ``stack.runImage`` image/mirrors."""
        wanted = lifecycle_name(name)
        groups = [self.run_image]
        if self.stack_run_image is not None:
            groups.append(self.stack_run_image)
        return any(
            lifecycle_name(known) == wanted
            for group in groups
            for known in (group.image, *group.mirrors)
        )

    @property
    def recorded_digest(self) -> str | None:
        """The digest in ``reference``: ``name@sha256:…`` or a bare ``sha256:…`` image ID."""
        text = self.reference
        if "@" in text:
            return text.rsplit("@", 1)[1] or None
        return text if text.startswith("sha256:") else None


def lifecycle_name(text: str) -> str:
    """lifecycle ``internal/name.ParseMaybe``: drop a digest, fully qualify; unparseable
    text is compared as written."""
    to_parse = text.split("@")[0] if "@sha256:" in text else text
    try:
        return parse(to_parse).normalized
    except ReferenceError:
        return text


def parse_lifecycle_metadata(text: str, image: str) -> LifecycleMetadata:
    where = f"app image {image!r}: label {LIFECYCLE_LABEL}"
    metadata = JsonObject.parse(text, where)
    run = metadata.object("runImage")
    run_image = RunImage(run.string("image"), run.strings("mirrors")) if run else RunImage("")
    stack = metadata.object("stack")
    stack_run = stack.object("runImage") if stack is not None else None
    stack_run_image: RunImage | None = None
    if stack is not None:
        stack_run_image = (
            RunImage(stack_run.string("image"), stack_run.strings("mirrors"))
            if stack_run is not None
            else RunImage("")
        )
    return LifecycleMetadata(
        run_image=run_image,
        stack_run_image=stack_run_image,
        reference=run.string("reference") if run else "",
        top_layer=run.string("topLayer") if run else "",
    )


@dataclass(frozen=True, slots=True)
class NewBase:
    """The selected run image for the app's platform, as far as it could be read."""

    digest: str | None  # what the tag serves (an index digest for an index)
    manifest_digest: str | None = None  # the app's platform
    config_digest: str | None = None
    top_layer: str | None = None
    platform: str | None = None
    is_index: bool = False
    detail: str | None = None  # why the details above are missing


@dataclass(frozen=True, slots=True)
class RebaseReport:
    check: CheckReport
    app: ImageConfig
    metadata: LifecycleMetadata
    selectable: RunImage
    new_base: NewBase
    rebase_needed: bool | None
    force_reasons: tuple[str, ...]

    @property
    def force_required(self) -> bool:
        return bool(self.force_reasons)

    @property
    def current_base(self) -> str | None:
        return self.metadata.recorded_digest

    @property
    def base_ok(self) -> bool:
        """pack's pick is there and identical to the recorded run image's current bits."""
        pick = self.check.selected
        return pick.status is Status.AVAILABLE and pick.in_sync is not False

    def verdict(self) -> str:
        pick = self.check.selected
        name = pick.candidate.reference
        if pick.status is not Status.AVAILABLE:
            detail = f" ({pick.probe.detail})" if pick.probe.detail else ""
            return f"FAIL: pack rebase would use {name}, but it is {pick.status.value}{detail}"
        if pick.in_sync is False:
            return (
                f"FAIL: pack rebase would use {name}, but it is out of sync with "
                f"{pick.candidate.run_image}"
            )
        if self.rebase_needed is None:
            head = f"pack rebase would use {name}; cannot tell whether the base changes"
        elif self.rebase_needed:
            head = f"pack rebase would use {name}: the base changes (rebase needed)"
        else:
            head = f"pack rebase would use {name}: the base is current (nothing to rebase)"
        if self.force_required:
            return f"WARN: {head}; lifecycle needs --force: " + "; ".join(self.force_reasons)
        prefix = {None: "WARN: ", True: "REBASE: ", False: "OK: "}[self.rebase_needed]
        return prefix + head


def rebase_needed(metadata: LifecycleMetadata, new: NewBase) -> bool | None:
    """Does the new base differ from the recorded one? ``None`` when it cannot be told."""
    recorded = metadata.recorded_digest
    if recorded is not None and new.digest is not None:
        image_id = "@" not in metadata.reference  # a daemon's image ID: the config digest
        same = {new.digest, new.manifest_digest, new.config_digest if image_id else None}
        if recorded in same:
            return False
        if (new.is_index and new.manifest_digest is None) or (
            image_id and new.config_digest is None
        ):
            return None  # the platform image could not be read
        return True
    if metadata.top_layer and new.top_layer:
        return metadata.top_layer != new.top_layer
    return None


def force_reasons(
    metadata: LifecycleMetadata, selected: str, app: ImageConfig, new: NewBase
) -> tuple[str, ...]:
    reasons = []
    if not metadata.contains_name(selected):
        reasons.append(f"new base image {selected!r} not found in existing run image metadata")
    app_os_arch = "/".join(app.platform.split("/")[:2])
    new_os_arch = "/".join((new.platform or "").split("/")[:2])
    if new.platform and app_os_arch and new_os_arch != app_os_arch:
        reasons.append(f"the new base is {new.platform}, the app is {app.platform}")
    return tuple(reasons)


async def read_app(client: RegistryClient, app_image: Reference, platform: str) -> ImageConfig:
    return await image_config.fetch(client, app_image, platform, what="app image")


async def _new_base(client: RegistryClient, report: CheckReport, platform: str) -> NewBase:
    pick = report.selected
    if pick.status is not Status.AVAILABLE or pick.candidate.ref is None:
        return NewBase(None, detail=f"{pick.candidate.reference} is {pick.status.value}")
    is_index = pick.probe.media_type in INDEX_TYPES
    try:
        # By the probed digest, so the comparison is of exactly what was probed.
        config = await image_config.fetch(
            client, pick.candidate.ref, platform, what="run image", identifier=pick.probe.digest
        )
    except ConfigError as error:
        return NewBase(pick.probe.digest, is_index=is_index, detail=str(error))
    return NewBase(
        pick.probe.digest,
        config.manifest_digest,
        config.config_digest,
        config.top_layer,
        config.platform,
        is_index=config.is_index,
    )


async def rebase(
    client: RegistryClient,
    app_image: Reference,
    user_mirrors: Callable[[str], Sequence[str]],
    *,
    platform: str = DEFAULT_PLATFORM,
    run_image: str | None = None,
) -> RebaseReport:
    """Read the app image, select as ``pack rebase`` does, and compare bases.

    ``run_image`` is pack's ``--run-image``: used as given, no mirrors.
    """
    app = await read_app(client, app_image, platform)
    label = app.labels.get(LIFECYCLE_LABEL)
    if label is None:
        raise ConfigError(
            f"app image {app_image.original!r}: could not find label {LIFECYCLE_LABEL} "
            "(not built by buildpacks?)"
        )
    metadata = parse_lifecycle_metadata(label, app_image.original)
    if run_image is not None:
        selectable: RunImage | None = RunImage(run_image)
        mirrors: Callable[[str], Sequence[str]] = lambda _image: ()  # noqa: E731
    else:
        selectable, mirrors = metadata.selectable(), user_mirrors
    if selectable is None:
        raise ConfigError(
            f"app image {app_image.original!r}: run image must be specified "
            f"(no runImage.image or stack.runImage.image in {LIFECYCLE_LABEL}); "
            "pass --run-image"
        )
    report = await check(
        client,
        app_image,
        [selectable],
        mirrors,
        mode=Mode.PUBLISH,
        platform=app.platform or platform,
    )
    # The app's own platform (from its config) picks the run image's platform image.
    new = await _new_base(client, report, app.platform or platform)
    selected = report.selected.candidate.reference
    return RebaseReport(
        check=report,
        app=app,
        metadata=metadata,
        selectable=selectable,
        new_base=new,
        rebase_needed=rebase_needed(metadata, new),
        force_reasons=force_reasons(metadata, selected, app, new),
    )
