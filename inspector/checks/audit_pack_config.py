"""Offline checks of pack's config: its own entries, and how they relate to a builder's run images.

pack keys user mirrors by the run image string exactly as written, and the last
``[[run-images]]`` entry for a key wins (:meth:`PackConfig.mirrors_for`).
"""

from __future__ import annotations

from inspector.checks.audit_files import Loaded, load_failure
from inspector.checks.audit_locations import Layout, Spot, where
from inspector.checks.audit_references import invalid, mirror_findings, parse_or_none
from inspector.checks.audit_rules import Finding
from inspector.resolver import Source, no_user_mirrors, pick_per_registry
from inspector.sources.model import Builder, RunImage
from inspector.sources.pack_config import PackConfig
from inspector.sources.toml_positions import Locator


def pack_config_findings(user: Loaded[PackConfig]) -> list[Finding]:
    if user.value is None:
        return [load_failure(user, is_builder=False)]
    locator = Locator(user.text or "")
    entries = user.value.run_images
    findings: list[Finding] = []
    for k, entry in enumerate(entries):
        spot = Spot(user.path, locator, "run-images", k)
        key_at = spot.at(entry.image, "image")
        later = next(
            (j for j in range(k + 1, len(entries)) if entries[j].image == entry.image), None
        )
        if later is not None:
            later_at = Spot(user.path, locator, "run-images", later).at(entry.image, "image")
            findings.append(
                spot.finding(
                    "INS014",
                    key_at,
                    f"the entry for {entry.image} is replaced by the one at "
                    f"{where(later_at)}: pack keeps only the last",
                )
            )
            continue
        image = parse_or_none(entry.image)
        if image is None:
            findings.append(invalid(spot, key_at, "pack-config image", entry.image))
        # User mirrors come before the image, so among themselves only they claim registries.
        findings.extend(mirror_findings(entry, image, spot, "mirrors", {}, "user mirror"))
    return findings


def user_entry(user: Loaded[PackConfig], image: str) -> tuple[RunImage, Spot] | None:
    """The entry pack uses for ``image`` (exact string, the last one wins), and where it is."""
    if user.value is None:
        return None
    entries = user.value.run_images
    matching = [k for k, entry in enumerate(entries) if entry.image == image]
    if not matching:
        return None
    spot = Spot(user.path, Locator(user.text or ""), "run-images", matching[-1])
    return entries[matching[-1]], spot


def user_relations(builder: Builder, layout: Layout, user: Loaded[PackConfig]) -> list[Finding]:
    """INS013 and INS016 for entries that never apply, INS012 for user mirrors that win."""
    assert user.value is not None
    locator = Locator(user.text or "")
    findings: list[Finding] = []
    first = builder.run_images[0]
    first_ref = parse_or_none(first.image)
    source = layout.spots[0].file

    for k, entry in enumerate(user.value.run_images):
        spot = Spot(user.path, locator, "run-images", k)
        key_ref = parse_or_none(entry.image)
        if key_ref is None or entry.image == first.image:
            continue
        key_at = spot.at(entry.image, "image")
        if first_ref is not None and key_ref.normalized == first_ref.normalized:
            findings.append(
                spot.finding(
                    "INS013",
                    key_at,
                    f"image {entry.image} never applies to the run image {first.image} of "
                    f"{source}: pack matches the key by exact string; write "
                    f'image = "{first.image}"',
                )
            )
            continue
        for index, later in enumerate(builder.run_images[1:], start=2):
            later_ref = parse_or_none(later.image)
            if later_ref is not None and later_ref.normalized == key_ref.normalized:
                findings.append(
                    spot.finding(
                        "INS016",
                        key_at,
                        f"user mirrors for {entry.image} never apply: it is run image "
                        f"#{index} of {source}, and pack selects only from the first",
                    )
                )
                break

    effective = user_entry(user, first.image)
    if effective is None:
        return findings
    entry, spot = effective
    # What pack picks on each registry with and without this machine's user mirrors (the
    # resolver's rule): where a user mirror wins, the builder's pick is overridden. Only
    # the builder's pick on a registry can be overridden (its later candidates are INS008).
    builder_spot = layout.spots[0]
    builder_at = [
        builder_spot.at(first.image, layout.image_key),
        *builder_spot.each(first.mirrors, layout.mirrors_key),
    ]
    user_at = spot.each(entry.mirrors, "mirrors")
    with_user = pick_per_registry([first], lambda _image: entry.mirrors)
    for registry, pick in pick_per_registry([first], no_user_mirrors).items():
        winner = with_user[registry]
        # A user mirror naming the very same image changes nothing worth a note.
        if winner.source is not Source.USER_MIRROR or winner.normalized == pick.normalized:
            continue
        what = "run image" if pick.source is Source.IMAGE else "mirror"
        findings.append(
            spot.finding(
                "INS012",
                user_at[winner.rank - 1],
                f"user mirror {winner.reference} comes before the builder's {what} "
                f"{pick.reference} ({where(builder_at[pick.rank - 1], source)}) on {registry}: "
                "pack on this machine picks it",
            )
        )
    return findings
