"""The one shape every builder source loads into, so later stages never ask where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from inspector.errors import ConfigError

if TYPE_CHECKING:
    from inspector.sources.builder_schema import UnknownKey

__all__ = ["Builder", "Buildpack", "ConfigError", "RunImage"]  # ConfigError: moved, kept here


@dataclass(frozen=True, slots=True)
class RunImage:
    """A run image and its mirrors, in the order the builder lists them."""

    image: str
    mirrors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Buildpack:
    """A buildpack as a builder lists it. A builder.toml entry may give only ``uri``
    (``docker://…``, ``urn:cnb:registry:…``, a path or URL) or ``image`` instead of an id."""

    id: str
    version: str = ""
    homepage: str = ""
    name: str = ""
    uri: str = ""
    image: str = ""


@dataclass(frozen=True, slots=True)
class Builder:
    """A builder's run images plus what `pack builder inspect` shows.

    ``source`` is the file path or image reference it was read from. ``image`` is the
    builder image reference when read from a registry (pack prefers its registry in
    daemon mode). ``stack_run_image`` keeps the legacy ``[stack]`` run image when a
    builder.toml also has ``[[run.images]]`` (the latter wins, as in pack) so audit can
    report a disagreement. ``unknown_keys`` are the keys of a builder.toml that pack
    rejects (a misspelt ``mirror`` for ``mirrors``): inspector reads the file all the
    same, and every command names them.
    """

    source: str
    run_images: tuple[RunImage, ...]
    stack_id: str | None = None
    build_image: str | None = None
    description: str | None = None
    lifecycle_version: str | None = None
    buildpacks: tuple[Buildpack, ...] = ()
    image: str | None = None
    stack_run_image: RunImage | None = None
    extras: dict[str, str] = field(default_factory=dict)
    unknown_keys: tuple[UnknownKey, ...] = ()

    @property
    def run_image(self) -> RunImage:
        """The run image pack selects from (only the first one counts)."""
        return self.run_images[0]
