"""Candidate order and selection of the run image, exactly as pack does it. Pure: no I/O.

pack ``pkg/client/common.go``:

* ``resolveRunImage``: the preferred registry is the builder image's registry, unless
  publishing (or there is no builder registry), then it is the app image's registry.
* ``getBestRunMirror``: candidates are the user's mirrors for the run image
  (``additionalMirrors[runImage.Image]``, ``internal/commands/commands.go`` ``getMirrors``),
  then the run image, then the builder's mirrors; pack drops the ones it cannot read
  (``filterImageList``), returns the first whose ``ref.Context().RegistryStr()`` equals the
  preferred registry, else the first readable one, else the run image.

lifecycle's ``platform/run_image.go`` ``BestRunImageMirrorFor`` (``Selector.LIFECYCLE``,
for platforms that run lifecycle without ``-run-image``) differs: the candidates are the
run image then its mirrors (no user mirrors), the target is the app image's registry, and
when nothing is readable it is an error, not a fallback.

After selecting, pack pulls the pick through its ``[registry-mirrors]`` (``translate``,
pack ``internal/name/name.go`` TranslateRegistry); that is ``Resolution.pull_reference``.

Readability is an input: offline every candidate counts as readable; online the caller
passes pack's access check emulated against the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from inspector.reference import Reference, ReferenceError, parse
from inspector.sources.model import RunImage


class Mode(StrEnum):
    PUBLISH = "publish"  # pack build --publish, pack rebase
    DAEMON = "daemon"  # pack build without --publish


class Selector(StrEnum):
    PACK = "pack"  # pkg/client/common.go getBestRunMirror
    LIFECYCLE = "lifecycle"  # platform/run_image.go BestRunImageMirrorFor


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
    """The candidates with the pick marked.

    ``pull_reference`` is what pack pulls for the pick after ``[registry-mirrors]``
    (the pick itself when no mirror applies); ``None`` with ``pull_error`` when pack's
    translation fails. ``error`` is set when lifecycle finds nothing readable: it fails
    instead of falling back (the run image is still marked, for display, with that reason).
    """

    app_image: Reference
    mode: Mode
    preferred_registry: str
    candidates: tuple[Candidate, ...]
    builder_image: str | None = None
    selector: Selector = Selector.PACK
    pull_reference: str | None = None
    pull_error: str | None = None
    error: str | None = None

    @property
    def selected(self) -> Candidate:
        return next(c for c in self.candidates if c.selected)

    @property
    def run_image(self) -> Candidate:
        """The first run image itself (what every mirror is compared with)."""
        return next(c for c in self.candidates if c.source is Source.IMAGE)


def preferred_registry(
    app_image: Reference,
    mode: Mode,
    builder_image: str | None,
    selector: Selector = Selector.PACK,
) -> str:
    """pack ``resolveRunImage`` (common.go:55-58): the builder's registry only when not
    publishing. lifecycle's target is always the app image's registry."""
    if selector is Selector.PACK and mode is Mode.DAEMON and builder_image:
        return parse(builder_image).registry
    return app_image.registry


def translate(name: str, registry_mirrors: Mapping[str, str] | None) -> str:
    """pack ``internal/name/name.go`` TranslateRegistry: where pack really pulls ``name``.

    A nil map returns ``name`` untouched (unparsed); otherwise ``"*"`` wins over the
    name's registry, the repository keeps ``library/``, a digest (any identifier holding
    ``:``) is joined with ``@``, and the result must parse. Raises :class:`ReferenceError`
    where pack returns an error.
    """
    if registry_mirrors is None:
        return name
    ref = parse(name)
    mirror = registry_mirrors.get("*")  # getMirror: "*" first
    if mirror is None:
        mirror = registry_mirrors.get(ref.registry)
    if mirror is None:
        return name
    separator = "@" if ":" in ref.identifier else ":"
    translated = f"{mirror}/{ref.repository}{separator}{ref.identifier}"
    parse(translated)
    return translated


def with_pull_reference(
    resolution: Resolution, registry_mirrors: Mapping[str, str] | None
) -> Resolution:
    """Set where pack pulls the pick (``build.go:617``); lifecycle has no registry mirrors."""
    if resolution.selector is Selector.LIFECYCLE or resolution.error:
        return replace(resolution, pull_reference=resolution.selected.reference)
    try:
        pulled = translate(resolution.selected.reference, registry_mirrors)
    except ReferenceError as failure:
        return replace(resolution, pull_reference=None, pull_error=str(failure))
    return replace(resolution, pull_reference=pulled, pull_error=None)


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
    selector: Selector = Selector.PACK,
) -> list[Candidate]:
    """Mark the pick among the first run image's candidates, with a reason for each.

    ``readable=None`` is the offline rule: every parseable candidate is readable. With
    ``Selector.LIFECYCLE`` and nothing readable the run image is marked with a reason
    saying lifecycle fails (see :func:`lifecycle_error`).
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
    elif selector is Selector.LIFECYCLE:
        pick = next(c for c in pool if c.source is Source.IMAGE)
        why = LIFECYCLE_FAILS
    else:
        pick = next(c for c in pool if c.source is Source.IMAGE)
        why = "nothing is readable: pack falls back to the run image"
    if selector is Selector.LIFECYCLE:
        why = why.replace("pack falls back", "lifecycle falls back")

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


def pick_per_registry(
    run_images: Sequence[RunImage], user_mirrors: Callable[[str], Sequence[str]]
) -> dict[str, Candidate]:
    """For every registry among the first run image's candidates, the candidate pack picks
    (offline) when that registry is the preferred one, in candidate order: what a later
    candidate on the same registry is only a fallback for (audit INS008, INS012)."""
    listed = candidates(run_images[:1], user_mirrors, "")
    picks: dict[str, Candidate] = {}
    for registry in dict.fromkeys(c.registry for c in listed if c.registry is not None):
        assert registry is not None
        marked = select(candidates(run_images[:1], user_mirrors, registry), registry)
        picks[registry] = next(c for c in marked if c.selected)
    return picks


LIFECYCLE_FAILS = "nothing is readable: lifecycle fails (failed to find accessible run image)"


def lifecycle_error(marked: Sequence[Candidate]) -> str | None:
    """The error lifecycle returns when no candidate is readable (run_image.go:51)."""
    pick = next((c for c in marked if c.selected), None)
    return LIFECYCLE_FAILS if pick is not None and pick.reason == LIFECYCLE_FAILS else None


def no_user_mirrors(_image: str) -> Sequence[str]:
    """lifecycle knows nothing of pack's config: no user mirrors."""
    return ()


def resolve(
    app_image: Reference,
    run_images: Sequence[RunImage],
    user_mirrors: Callable[[str], Sequence[str]],
    *,
    mode: Mode = Mode.PUBLISH,
    builder_image: str | None = None,
    readable: Callable[[Candidate], bool] | None = None,
    selector: Selector = Selector.PACK,
    registry_mirrors: Mapping[str, str] | None = None,
) -> Resolution:
    """Order the candidates and mark the pick. ``readable=None`` resolves offline."""
    preferred = preferred_registry(app_image, mode, builder_image, selector)
    if selector is Selector.LIFECYCLE:
        user_mirrors = no_user_mirrors
    listed = candidates(run_images, user_mirrors, preferred)
    marked = tuple(select(listed, preferred, readable, selector))
    resolution = Resolution(
        app_image,
        mode,
        preferred,
        marked,
        builder_image=builder_image,
        selector=selector,
        error=lifecycle_error(marked),
    )
    return with_pull_reference(resolution, registry_mirrors)
