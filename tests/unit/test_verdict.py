"""The pure mirror verdict: platforms matched as a multiset, attestations ignored,
nested indexes flattened, problems make a mirror broken."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from inspector.checks.verdict import (
    MAX_DEPTH,
    PlatformKey,
    State,
    Sync,
    Tree,
    descriptors,
    flatten,
    judge,
    missing_manifest,
    single,
)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def entry(seed: str, os: str = "linux", arch: str = "amd64", **extra: Any) -> dict[str, Any]:
    platform: dict[str, Any] = {"os": os, "architecture": arch}
    for key in ("variant", "os.version", "os.features"):
        if key.replace(".", "_") in extra:
            platform[key] = extra.pop(key.replace(".", "_"))
    return {
        "mediaType": OCI_MANIFEST,
        "digest": digest(seed),
        "size": 1,
        "platform": platform,
        **extra,
    }


def attestation(seed: str, of: str) -> dict[str, Any]:
    return {
        **entry(seed, "unknown", "unknown"),
        "annotations": {
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": digest(of),
        },
    }


def index(*entries: dict[str, Any], **annotations: str) -> tuple[str, dict[str, Any]]:
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": list(entries),
    }
    if annotations:
        document["annotations"] = annotations
    body = json.dumps(document, sort_keys=True).encode()
    return "sha256:" + hashlib.sha256(body).hexdigest(), document


def tree(*entries: dict[str, Any], **annotations: str) -> Tree:
    top, document = index(*entries, **annotations)
    return flatten(top, document, {})


RUN = (
    entry("amd64"),
    entry("arm64", arch="arm64", variant="v8"),
    attestation("att-amd64", "amd64"),
    attestation("att-arm64", "arm64"),
)


def test_same_digest_is_identical_and_in_sync() -> None:
    run = tree(*RUN)
    verdict = judge(run, run)
    assert verdict.sync is Sync.IDENTICAL and verdict.in_sync
    assert [(p.platform, p.state) for p in verdict.platforms] == [
        ("linux/amd64", State.SAME),
        ("linux/arm64/v8", State.SAME),
    ]


def test_attestations_stripped_is_equivalent_with_a_note() -> None:
    verdict = judge(tree(*RUN), tree(*RUN[:2]))
    assert verdict.sync is Sync.EQUIVALENT and verdict.in_sync
    assert "attestation entries (2 on the run image, 0 here)" in verdict.notes[0]


def test_annotation_only_difference_is_equivalent() -> None:
    verdict = judge(tree(*RUN), tree(*RUN, **{"org.opencontainers.image.created": "now"}))
    assert verdict.sync is Sync.EQUIVALENT
    assert "annotations or entry order" in verdict.notes[0]


def test_single_platform_copy_is_partial_and_names_the_platform_it_equals() -> None:
    verdict = judge(tree(*RUN), single(digest("arm64")))
    assert verdict.sync is Sync.PARTIAL and not verdict.in_sync
    assert verdict.notes == (
        "serves only linux/arm64/v8 (= the run image's linux/arm64/v8); lacks linux/amd64",
    )
    assert {(p.platform, p.state) for p in verdict.platforms} == {
        ("linux/arm64/v8", State.SAME),
        ("linux/amd64", State.MISSING),
    }


def test_single_manifest_with_other_bits_is_stale() -> None:
    verdict = judge(tree(*RUN), single(digest("something else")))
    assert verdict.sync is Sync.STALE


def test_two_single_manifests_differing_is_stale() -> None:
    verdict = judge(single(digest("a")), single(digest("b")))
    assert verdict.sync is Sync.STALE
    assert verdict.platforms[0].state is State.DIFFERENT


def test_twenty_platforms_three_stale_names_each() -> None:
    arches = [f"arch{i}" for i in range(20)]
    run = tree(*(entry(a, arch=a) for a in arches))
    mirror = tree(
        *(entry(a + ("-old" if i in (3, 9, 17) else ""), arch=a) for i, a in enumerate(arches))
    )
    verdict = judge(run, mirror)
    assert verdict.sync is Sync.STALE
    stale = [p.platform for p in verdict.platforms if p.state is State.DIFFERENT]
    assert stale == ["linux/arch3", "linux/arch9", "linux/arch17"]
    assert len(verdict.platforms) == 20
    assert verdict.notes == ("other bits for linux/arch3, linux/arch9, linux/arch17",)


def test_windows_os_version_duplicates_are_two_platforms() -> None:
    ltsc2019 = entry("2019", "windows", os_version="10.0.17763.5329")
    ltsc2022 = entry("2022", "windows", os_version="10.0.20348.2227")
    stale2022 = entry("2022-old", "windows", os_version="10.0.20348.2227")
    verdict = judge(tree(ltsc2019, ltsc2022), tree(ltsc2019, stale2022))
    assert verdict.sync is Sync.STALE
    assert [(p.platform, p.state) for p in verdict.platforms] == [
        ("windows/amd64 (10.0.17763.5329)", State.SAME),
        ("windows/amd64 (10.0.20348.2227)", State.DIFFERENT),
    ]


def test_windows_newer_os_version_on_the_run_image_pairs_as_different() -> None:
    old = entry("2022-old", "windows", os_version="10.0.20348.2000")
    new = entry("2022", "windows", os_version="10.0.20348.2227")
    verdict = judge(tree(new), tree(old))
    assert verdict.sync is Sync.STALE
    assert [p.state for p in verdict.platforms] == [State.DIFFERENT]


def test_gzip_and_zstd_duplicates_are_matched_as_a_multiset() -> None:
    gzip, zstd = entry("gzip"), entry("zstd")
    # Same entries, other order: the multiset matches, but pack (go-containerregistry)
    # pulls the first linux/amd64 entry, so the mirror gives it the zstd image.
    reordered = judge(tree(gzip, zstd), tree(zstd, gzip))
    assert reordered.sync is Sync.STALE
    assert all(p.state is State.SAME for p in reordered.platforms)
    assert f"pack pulls {zstd['digest']} for linux/amd64 from the mirror" in reordered.notes[0]
    verdict = judge(tree(gzip, zstd), tree(gzip, entry("zstd-old")))
    assert verdict.sync is Sync.STALE
    assert sorted(p.state for p in verdict.platforms) == [State.DIFFERENT, State.SAME]
    # Only one of the two: partial, not in sync (a zstd-capable puller may pick it).
    assert judge(tree(gzip, zstd), tree(gzip)).sync is Sync.PARTIAL


def test_extra_platforms_on_the_mirror_are_stale() -> None:
    # Not "equivalent": a linux/s390x build would get bits the run image does not have.
    verdict = judge(tree(entry("amd64")), tree(entry("amd64"), entry("s390x", arch="s390x")))
    assert verdict.sync is Sync.STALE
    assert verdict.notes[0] == "serves linux/s390x, which the run image does not"


def test_an_extra_entry_listed_first_for_a_platform_is_what_pack_pulls() -> None:
    good, old = entry("amd64"), entry("amd64-old")
    verdict = judge(tree(good), tree(old, good))
    assert verdict.sync is Sync.STALE and not verdict.in_sync
    assert f"pack pulls {old['digest']} for linux/amd64 from the mirror" in verdict.notes[0]
    # Listed after the right one, pack never pulls it for linux/amd64; still not
    # "equivalent", since the index serves an image the run image does not list.
    assert judge(tree(good), tree(good, old)).sync is Sync.STALE


def test_no_common_platform_is_stale() -> None:
    verdict = judge(tree(entry("amd64")), tree(entry("s390x", arch="s390x")))
    assert verdict.sync is Sync.STALE


def test_problems_make_a_mirror_broken_even_with_the_same_digest() -> None:
    run = tree(*RUN)
    problem = missing_manifest(digest("arm64"), "linux/arm64/v8")
    verdict = judge(run, run, [problem])
    assert verdict.sync is Sync.BROKEN and not verdict.in_sync
    assert str(verdict.problems[0]) == f"child {digest('arm64')} (linux/arm64/v8) missing"
    assert verdict.problems[0].impact == "every linux/arm64/v8 pull fails"


def nested(levels: int, leaf_seed: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """An index ``levels`` deep whose innermost index lists amd64 and arm64."""
    inner_digest, inner = index(entry(leaf_seed), entry("arm64", arch="arm64"))
    documents = {inner_digest: inner}
    current_digest, current = inner_digest, inner
    for _ in range(levels - 1):
        current_digest, current = index(
            {"mediaType": OCI_INDEX, "digest": current_digest, "size": 1}
        )
        documents[current_digest] = current
    return current_digest, current, documents


@pytest.mark.parametrize("levels", [2, 3])
def test_nested_indexes_are_flattened_and_the_stale_platform_named(levels: int) -> None:
    run_digest, run_document, run_nested = nested(levels, "amd64")
    mirror_digest, mirror_document, mirror_nested = nested(levels, "amd64-old")
    run = flatten(run_digest, run_document, run_nested)
    mirror = flatten(mirror_digest, mirror_document, mirror_nested)
    assert len(run.indexes) == levels - 1
    verdict = judge(run, mirror)
    assert verdict.sync is Sync.STALE
    assert [(p.platform, p.state) for p in verdict.platforms] == [
        ("linux/arm64", State.SAME),
        ("linux/amd64", State.DIFFERENT),
    ]


def test_nesting_deeper_than_the_limit_is_broken() -> None:
    top, document, documents = nested(MAX_DEPTH + 1, "amd64")
    deep = flatten(top, document, documents)
    assert deep.too_deep and deep.leaves == ()
    assert judge(deep, deep).sync is Sync.BROKEN
    ok_top, ok_document, ok_documents = nested(MAX_DEPTH, "amd64")
    assert not flatten(ok_top, ok_document, ok_documents).too_deep


def test_platform_key_includes_os_version_and_features() -> None:
    key = PlatformKey.of(
        {
            "os": "windows",
            "architecture": "amd64",
            "os.version": "10.0.1",
            "os.features": ["win32k"],
        }
    )
    assert str(key) == "windows/amd64 (10.0.1) +win32k"
    found = descriptors({"manifests": [attestation("a", "b"), entry("c"), "junk", {"x": 1}]})
    assert [d.attestation for d in found] == [True, False]


def test_windows_entries_in_another_order_are_what_each_host_pulls() -> None:
    # A Windows host asks for its os.version: each gets the same image from both orders.
    ltsc2019 = entry("2019", "windows", os_version="10.0.17763.5329")
    ltsc2022 = entry("2022", "windows", os_version="10.0.20348.2227")
    verdict = judge(tree(ltsc2019, ltsc2022), tree(ltsc2022, ltsc2019))
    assert verdict.sync is Sync.EQUIVALENT and verdict.in_sync


def test_one_child_described_two_ways_is_the_same_bits() -> None:
    # No platform on one side, linux/amd64 on the other; arm64 with and without "v8".
    amd = entry("amd64")
    bare = {key: value for key, value in amd.items() if key != "platform"}
    arm_v8 = entry("arm64", arch="arm64", variant="v8")
    arm = {**arm_v8, "platform": {"os": "linux", "architecture": "arm64"}}
    verdict = judge(tree(bare, arm_v8), tree(amd, arm))
    assert verdict.sync is Sync.EQUIVALENT, verdict
    assert all(p.state is State.SAME for p in verdict.platforms)
