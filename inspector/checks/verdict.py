"""Is a mirror what a build would pull? The pure comparison behind ``sync`` verdicts.

Input: the run image's tree and the mirror's tree (top digest plus every image manifest
it leads to, nested indexes flattened), and what a presence check found missing on the
mirror. Output: one of ``identical`` / ``equivalent`` / ``partial`` / ``stale`` /
``broken``, the per-platform list and the problems. No I/O here; see ``depth.py``.

Platforms are matched as a multiset: an index may list the same os/architecture twice
(gzip and zstd variants, Windows images differing only in ``os.version``), so entries are
paired first by platform *and* digest, then by the full platform (os, architecture,
variant, ``os.version``, ``os.features``), then by os/architecture/variant alone; what is
left is ``missing`` (the run image's) or ``extra`` (the mirror's). Attestation and
signature entries (``unknown/unknown``, annotation ``vnd.docker.reference.type``, an
``artifactType``) are never run by a build, so they do not count as platforms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

INDEX_MEDIA_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
# Nested indexes are legal (an index of indexes); deeper than this is refused as broken
# input rather than followed forever.
MAX_DEPTH = 8
REFERENCE_TYPE = "vnd.docker.reference.type"


class Sync(StrEnum):
    IDENTICAL = "identical"
    EQUIVALENT = "equivalent"
    PARTIAL = "partial"
    STALE = "stale"
    BROKEN = "broken"


class State(StrEnum):
    SAME = "same"
    DIFFERENT = "different"
    MISSING = "missing"
    EXTRA = "extra"


@dataclass(frozen=True, slots=True, order=True)
class PlatformKey:
    os: str = ""
    architecture: str = ""
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()

    @property
    def base(self) -> tuple[str, str, str]:
        return (self.os, self.architecture, self.variant)

    def __str__(self) -> str:
        if not (self.os or self.architecture):
            return "(no platform)"
        text = f"{self.os}/{self.architecture}"
        if self.variant:
            text += f"/{self.variant}"
        if self.os_version:
            text += f" ({self.os_version})"
        if self.os_features:
            text += " +" + "+".join(self.os_features)
        return text

    @classmethod
    def of(cls, platform: Any) -> PlatformKey | None:
        if not isinstance(platform, dict):
            return None
        features = platform.get("os.features")
        return cls(
            str(platform.get("os", "")),
            str(platform.get("architecture", "")),
            str(platform.get("variant", "")),
            str(platform.get("os.version", "")),
            tuple(sorted(str(f) for f in features)) if isinstance(features, list) else (),
        )


@dataclass(frozen=True, slots=True)
class Descriptor:
    """One entry of an index."""

    digest: str
    media_type: str
    platform: PlatformKey | None
    attestation: bool  # not a runnable image: attestation, signature, other artifact

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_MEDIA_TYPES


def image_blobs(document: Any) -> list[tuple[str, dict[str, Any]]]:
    """``(role, descriptor)`` for an image manifest's config and layers as its repository
    stores them: foreign (non-distributable) layers carry ``urls`` and live elsewhere."""
    if not isinstance(document, dict):
        return []
    config, layers = document.get("config"), document.get("layers")
    found = [("config", config)] if isinstance(config, dict) else []
    found += [
        ("layer", d) for d in (layers if isinstance(layers, list) else []) if isinstance(d, dict)
    ]
    return [(role, d) for role, d in found if not d.get("urls")]


def descriptors(document: Any) -> list[Descriptor]:
    """The ``manifests`` of an index document (malformed entries are skipped)."""
    entries = document.get("manifests") if isinstance(document, dict) else None
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("digest"), str):
            continue
        platform = PlatformKey.of(entry.get("platform"))
        annotations = entry.get("annotations")
        attestation = (
            (platform is not None and platform.base[:2] == ("unknown", "unknown"))
            or (isinstance(annotations, dict) and REFERENCE_TYPE in annotations)
            or isinstance(entry.get("artifactType"), str)
        )
        found.append(
            Descriptor(entry["digest"], str(entry.get("mediaType", "")), platform, attestation)
        )
    return found


@dataclass(frozen=True, slots=True)
class Leaf:
    """An image manifest a tree leads to, with the platform its index gave it."""

    digest: str
    platform: PlatformKey | None  # None: the top manifest itself (no index around it)
    attestation: bool = False

    @property
    def label(self) -> str:
        return str(self.platform) if self.platform is not None else "single manifest"


@dataclass(frozen=True, slots=True)
class Tree:
    """A top manifest and what it leads to. ``indexes`` are the nested indexes (digest
    → platform label of the entry that named it)."""

    digest: str
    is_index: bool
    leaves: tuple[Leaf, ...]
    indexes: tuple[tuple[str, str], ...] = ()
    too_deep: bool = False
    # The index documents read (top and nested) by digest: pack's pick walks them.
    documents: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def runnable(self) -> tuple[Leaf, ...]:
        return tuple(leaf for leaf in self.leaves if not leaf.attestation)

    @property
    def attestations(self) -> tuple[Leaf, ...]:
        return tuple(leaf for leaf in self.leaves if leaf.attestation)


def single(digest: str) -> Tree:
    return Tree(digest, False, (Leaf(digest, None),))


def flatten(digest: str, top: Any, nested: Mapping[str, Any]) -> Tree:
    """The tree of an index whose nested indexes' documents are in ``nested`` (by digest).
    A nested index absent from ``nested`` contributes no leaves (its absence is a
    presence problem, found elsewhere). A leaf inherits the platform of the nearest
    entry that named one."""
    leaves: list[Leaf] = []
    indexes: list[tuple[str, str]] = []
    too_deep = False

    def walk(document: Any, inherited: PlatformKey | None, attested: bool, depth: int) -> None:
        nonlocal too_deep
        for entry in descriptors(document):
            platform = entry.platform or inherited
            attestation = attested or entry.attestation
            if entry.is_index:
                indexes.append((entry.digest, str(platform) if platform else "nested index"))
                if depth + 1 >= MAX_DEPTH:
                    too_deep = True
                elif entry.digest in nested:
                    walk(nested[entry.digest], platform, attestation, depth + 1)
                continue
            leaves.append(Leaf(entry.digest, platform or PlatformKey(), attestation))

    walk(top, None, False, 0)
    return Tree(digest, True, tuple(leaves), tuple(indexes), too_deep, {digest: top, **nested})


@dataclass(frozen=True, slots=True)
class PlatformDiff:
    """One platform entry: the mirror's child digest and the run image's."""

    platform: str
    digest: str | None
    run_image_digest: str | None
    state: State = State.SAME

    @property
    def in_sync(self) -> bool:
        return self.state is State.SAME


@dataclass(frozen=True, slots=True)
class Problem:
    """Something a mirror references but does not have. ``str()`` is the JSON text;
    ``impact`` says what it means for a build."""

    text: str
    impact: str = ""

    def __str__(self) -> str:
        return self.text


def missing_manifest(digest: str, label: str, *, index: bool = False) -> Problem:
    what = "nested index" if index else "child"
    return Problem(f"{what} {digest} ({label}) missing", f"every {label} pull fails")


def missing_blob(digest: str, role: str, label: str) -> Problem:
    return Problem(f"blob {digest} ({role} of {label}) missing", f"every {label} pull fails")


@dataclass(frozen=True, slots=True)
class Verdict:
    sync: Sync
    platforms: tuple[PlatformDiff, ...] = ()
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def in_sync(self) -> bool:
        return self.sync in (Sync.IDENTICAL, Sync.EQUIVALENT)


def pick_leaf(tree: Tree, platform: str) -> Leaf | None:
    """The image manifest pack pulls for ``platform`` (os/arch[/variant]), found as
    go-containerregistry's ``remote.Image`` finds it: the first entry of the index whose
    platform matches (an entry without one counts as linux/amd64), followed into a nested
    index, never back out of it. A single manifest is itself the pick."""
    if not tree.is_index:
        return tree.leaves[0] if tree.leaves else None
    os_name, _, rest = platform.partition("/")
    architecture, _, variant = rest.partition("/")
    labels = {leaf.digest: leaf for leaf in tree.runnable}
    document = tree.documents.get(tree.digest)
    for _ in range(MAX_DEPTH):
        chosen = None
        for entry in descriptors(document):
            key = entry.platform or PlatformKey("linux", "amd64")
            if (key.os, key.architecture) != (os_name, architecture):
                continue
            if variant and key.variant != variant:
                continue
            chosen = entry
            break
        if chosen is None:
            return None
        if not chosen.is_index:
            return labels.get(chosen.digest) or Leaf(chosen.digest, chosen.platform)
        document = tree.documents.get(chosen.digest)
        if document is None:
            return None  # the nested index itself is missing: a problem already
    return None


def match(run: Sequence[Leaf], mirror: Sequence[Leaf]) -> list[PlatformDiff]:
    """Pair the run image's runnable leaves with the mirror's, as a multiset."""
    left, right = list(run), list(mirror)
    pairs: list[tuple[Leaf | None, Leaf | None, State]] = []

    def take(accept: Any, state: State) -> None:
        for r in list(left):
            for m in right:
                if accept(r, m):
                    pairs.append((r, m, state))
                    left.remove(r)
                    right.remove(m)
                    break

    # The same digest is the same bits, however the two indexes describe it (one entry
    # without a platform, one with linux/amd64; arm64 with and without "v8").
    take(lambda r, m: r.digest == m.digest, State.SAME)
    take(
        lambda r, m: canonical_platform(r.platform) == canonical_platform(m.platform),
        State.DIFFERENT,
    )
    take(
        lambda r, m: (
            r.platform is not None
            and m.platform is not None
            and canonical_platform(r.platform).base == canonical_platform(m.platform).base
        ),
        State.DIFFERENT,
    )
    pairs += [(r, None, State.MISSING) for r in left]
    pairs += [(None, m, State.EXTRA) for m in right]
    return [
        PlatformDiff(_label(r, m), m.digest if m else None, r.digest if r else None, state)
        for r, m, state in pairs
    ]


def _label(run: Leaf | None, mirror: Leaf | None) -> str:
    """The run image's name for the platform (a single-manifest mirror has none)."""
    if run is not None:
        return run.label
    return mirror.label if mirror is not None else ""


def judge(run: Tree, mirror: Tree, problems: Iterable[Problem] = ()) -> Verdict:
    """The verdict for a mirror whose tree is ``mirror``; ``problems`` are what the
    presence checks found missing on it (children, blobs)."""
    found = tuple(problems)
    if mirror.too_deep:
        found += (
            Problem(
                f"indexes nested deeper than {MAX_DEPTH} levels: not followed",
                "pulls through the deepest index cannot be verified",
            ),
        )
    platforms: tuple[PlatformDiff, ...] = ()
    if run.is_index or mirror.is_index:
        platforms = tuple(match(run.runnable, mirror.runnable))
    if found:
        return Verdict(Sync.BROKEN, platforms, found)
    if mirror.digest == run.digest:
        return Verdict(Sync.IDENTICAL, platforms)
    if not platforms:  # two single manifests with other digests
        diff = PlatformDiff(run.leaves[0].label, mirror.digest, run.digest, State.DIFFERENT)
        return Verdict(Sync.STALE, (diff,), notes=("serves other bits than the run image",))
    states = [p.state for p in platforms]
    same = [p for p in platforms if p.state is State.SAME]
    if State.DIFFERENT in states:
        different = [p.platform for p in platforms if p.state is State.DIFFERENT]
        note = "other bits for " + ", ".join(different)
        return Verdict(Sync.STALE, platforms, notes=(note,))
    # The multiset can match while pack pulls other bits: it takes the *first* entry of
    # the index for its platform (an extra or reordered entry listed first wins).
    picked = _other_picks(run, mirror)
    if picked:
        return Verdict(Sync.STALE, platforms, notes=tuple(picked))
    extra = [p.platform for p in platforms if p.state is State.EXTRA]
    if extra:
        note = "serves " + ", ".join(extra) + ", which the run image does not"
        return Verdict(Sync.STALE, platforms, notes=(note,))
    if State.MISSING in states:
        missing = [p.platform for p in platforms if p.state is State.MISSING]
        if not same:
            note = "serves none of the run image's platforms (lacks " + ", ".join(missing) + ")"
            return Verdict(Sync.STALE, platforms, notes=(note,))
        return Verdict(Sync.PARTIAL, platforms, notes=(_partial_note(mirror, same, missing),))
    if not same:  # nothing shown to be the same: never "equivalent" by default
        return Verdict(Sync.STALE, platforms, notes=("no platform of the run image matched",))
    return Verdict(Sync.EQUIVALENT, platforms, notes=(_equivalent_note(run, mirror, platforms),))


def canonical_platform(key: PlatformKey | None) -> PlatformKey:
    """The platform a puller matches on: an entry without one counts as linux/amd64, and
    arm64 ``v8`` is arm64 without a variant (go-containerregistry, containerd)."""
    if key is None or not (key.os or key.architecture):
        return PlatformKey("linux", "amd64")
    if key.architecture == "arm64" and key.variant == "v8":
        return replace(key, variant="")
    return key


def _first(tree: Tree, key: PlatformKey) -> Leaf | None:
    return next((leaf for leaf in tree.runnable if canonical_platform(leaf.platform) == key), None)


def _other_picks(run: Tree, mirror: Tree) -> list[str]:
    """For each platform of the run image (os.version and os.features included, which a
    Windows host asks for), what pack pulls from each tree — its first matching entry —
    where the two differ."""
    if not (run.is_index and mirror.is_index):
        return []
    found = []
    for key in dict.fromkeys(canonical_platform(leaf.platform) for leaf in run.runnable):
        ours, theirs = _first(run, key), _first(mirror, key)
        if ours is not None and theirs is not None and ours.digest != theirs.digest:
            found.append(
                f"pack pulls {theirs.digest} for {key} from the mirror (its first "
                f"{key} entry), {ours.digest} from the run image"
            )
    return list(dict.fromkeys(found))


def _partial_note(mirror: Tree, same: list[PlatformDiff], missing: list[str]) -> str:
    served = ", ".join(p.platform for p in same)
    if not mirror.is_index:
        return f"serves only {served} (= the run image's {served}); lacks " + ", ".join(missing)
    return f"serves {served}; lacks " + ", ".join(missing)


def _equivalent_note(run: Tree, mirror: Tree, platforms: Sequence[PlatformDiff]) -> str:
    same = sum(1 for p in platforms if p.state is State.SAME)
    text = f"another digest, same image for each of the run image's {same} platform(s)"
    ours, theirs = len(run.attestations), len(mirror.attestations)
    differences = []
    if ours != theirs or {a.digest for a in run.attestations} != {
        a.digest for a in mirror.attestations
    }:
        differences.append(f"attestation entries ({ours} on the run image, {theirs} here)")
    if not differences:
        differences.append("annotations or entry order")
    return text + "; differs in " + "; ".join(differences)
