"""Candidate order and selection of the run image, exactly as pack does it. Pure: no I/O.

pack ``pkg/client/common.go``:

* ``resolveRunImage``: the preferred registry is the builder image's registry, unless
  publishing (or there is no builder registry), then it is the app image's registry.
* ``getBestRunMirror``: candidates are the user's mirrors for the run image
  (``additionalMirrors[runImage.Image]``, ``internal/commands/commands.go`` ``getMirrors``),
  then the run image, then the builder's mirrors; pack drops the ones it cannot read
  (``filterImageList``), returns the first whose ``ref.Context().RegistryStr()`` equals the
  preferred registry, else the first readable one, else the run image.

lifecycle's ``platform/run_image.go`` ``BestRunImageMirrorFor`` differs: it has no user
mirrors, and it returns an error when no candidate is readable instead of falling back.
This module follows pack, since pack is what picks the run image for ``pack build``.

Readability is an input: offline every candidate counts as readable; online the caller
passes pack's access check emulated against the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from inspector.reference import Reference, ReferenceError, parse
from inspector.sources.model import RunImage


class Mode(StrEnum):
    PUBLISH = "publish"  # pack build --publish, pack rebase
    DAEMON = "daemon"  # pack build without --publish


class Source(StrEnum):
    USER_MIRROR = "user-mirror"
    IMAGE = "image"
    MIRROR = "mirror"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One place the run image may be pulled from, in pack's order.

    ``run_image_index`` is 0 for the run image pack selects from; later run images are
    listed so they can be checked, but are never ``selectable``. ``ref`` is ``None`` when
    the reference does not parse (pack skips such a candidate); ``error`` then says why.
    """

    rank: int
    reference: str
    source: Source
    run_image: str
    run_image_index: int
    ref: Reference | None
    error: str | None
    matches_preferred: bool
    selected: bool = False
    readable: bool = True
    reason: str = ""

    @property
    def selectable(self) -> bool:
        return self.run_image_index == 0

    @property
    def registry(self) -> str | None:
        return self.ref.registry if self.ref else None

    @property
    def normalized(self) -> str | None:
        return self.ref.normalized if self.ref else None


@dataclass(frozen=True, slots=True)
class Resolution:
    app_image: Reference
    mode: Mode
    preferred_registry: str
    candidates: tuple[Candidate, ...]

    @property
    def selected(self) -> Candidate:
        return next(c for c in self.candidates if c.selected)

    @property
    def run_image(self) -> Candidate:
        """The first run image itself (what every mirror is compared with)."""
        return next(c for c in self.candidates if c.source is Source.IMAGE)


def preferred_registry(app_image: Reference, mode: Mode, builder_image: str | None) -> str:
    """pack ``resolveRunImage``: the builder's registry only when not publishing."""
    if mode is Mode.DAEMON and builder_image:
        return parse(builder_image).registry
    return app_image.registry


def candidates(
    run_images: Sequence[RunImage],
    user_mirrors: Callable[[str], Sequence[str]],
    preferred: str,
) -> list[Candidate]:
    """Every candidate in pack's order: for each run image, user mirrors, image, mirrors."""
    listed: list[Candidate] = []
    for index, run_image in enumerate(run_images):
        entries = [(m, Source.USER_MIRROR) for m in user_mirrors(run_image.image)]
        entries.append((run_image.image, Source.IMAGE))
        entries.extend((m, Source.MIRROR) for m in run_image.mirrors)
        for reference, source in entries:
            ref: Reference | None
            try:
                ref, error = parse(reference), None
            except ReferenceError as failure:
                ref, error = None, str(failure)
            listed.append(
                Candidate(
                    rank=len(listed) + 1,
                    reference=reference,
                    source=source,
                    run_image=run_image.image,
                    run_image_index=index,
                    ref=ref,
                    error=error,
                    matches_preferred=ref is not None and ref.registry == preferred,
                )
            )
    return listed


def select(
    listed: Sequence[Candidate],
    preferred: str,
    readable: Callable[[Candidate], bool] | None = None,
) -> list[Candidate]:
    """Mark pack's pick among the first run image's candidates, with a reason for each.

    ``readable=None`` is the offline rule: every parseable candidate is readable.
    """

    def can_read(candidate: Candidate) -> bool:
        if candidate.ref is None:
            return False  # pack cannot pull what it cannot parse
        return True if readable is None else readable(candidate)

    offline = readable is None
    word = "" if offline else "readable "
    pool = [c for c in listed if c.selectable]
    readable_pool = [c for c in pool if can_read(c)]
    on_preferred = [c for c in readable_pool if c.matches_preferred]
    if on_preferred:
        pick, why = on_preferred[0], f"first {word}candidate on {preferred}"
    elif readable_pool:
        pick = readable_pool[0]
        why = f"no {word}candidate on {preferred}: pack falls back to the first {word}one"
    else:
        pick = next(c for c in pool if c.source is Source.IMAGE)
        why = "nothing is readable: pack falls back to the run image"

    marked = []
    for candidate in listed:
        is_readable = can_read(candidate)
        marked.append(
            replace(
                candidate,
                selected=candidate is pick,
                readable=is_readable,
                reason=why
                if candidate is pick
                else _why_not(candidate, pick, preferred, is_readable, offline),
            )
        )
    return marked


def _why_not(
    candidate: Candidate, pick: Candidate, preferred: str, is_readable: bool, offline: bool
) -> str:
    if candidate.ref is None:
        return f"skipped by pack: {candidate.error}"
    if not candidate.selectable:
        return f"run image #{candidate.run_image_index + 1}: pack only selects from the first"
    if not is_readable and not offline:
        return "dropped by pack: not readable"
    if candidate.matches_preferred:
        return f"on {preferred}, but rank {pick.rank} comes first"
    return f"on {candidate.ref.registry}, not {preferred}"


def resolve(
    app_image: Reference,
    run_images: Sequence[RunImage],
    user_mirrors: Callable[[str], Sequence[str]],
    *,
    mode: Mode = Mode.PUBLISH,
    builder_image: str | None = None,
    readable: Callable[[Candidate], bool] | None = None,
) -> Resolution:
    """Order the candidates and mark pack's pick. ``readable=None`` resolves offline."""
    preferred = preferred_registry(app_image, mode, builder_image)
    listed = candidates(run_images, user_mirrors, preferred)
    return Resolution(app_image, mode, preferred, tuple(select(listed, preferred, readable)))
