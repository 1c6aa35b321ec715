"""Which image pack pulls from a tree, which blobs a manifest names, and the words a
person reads for each verdict."""

from __future__ import annotations

from collections.abc import Sequence

from inspector.checks.depth import blobs_of, pick_leaf
from inspector.checks.evaluate import Evaluated
from inspector.checks.verdict import (
    Leaf,
    PlatformKey,
    Problem,
    Sync,
    Tree,
    flatten,
    judge,
    missing_blob,
    single,
)
from inspector.formats.human import explain, sync_cell
from inspector.reference import parse
from inspector.registry.model import Probe, Status
from inspector.resolver import Candidate, Source

AMD = Leaf("sha256:" + "a" * 64, PlatformKey("linux", "amd64"))
ARM_V7 = Leaf("sha256:" + "b" * 64, PlatformKey("linux", "arm", "v7"))
ARM64 = Leaf("sha256:" + "c" * 64, PlatformKey("linux", "arm64", "v8"))
ATT = Leaf("sha256:" + "d" * 64, PlatformKey("unknown", "unknown"), attestation=True)
TREE = Tree("sha256:" + "e" * 64, True, (ATT, AMD, ARM_V7, ARM64))


def entry(leaf: Leaf, media_type: str = "application/vnd.oci.image.manifest.v1+json") -> dict:  # type: ignore[type-arg]
    found: dict = {"mediaType": media_type, "digest": leaf.digest, "size": 1}  # type: ignore[type-arg]
    if leaf.platform is not None:
        key = leaf.platform
        found["platform"] = {"os": key.os, "architecture": key.architecture}
        if key.variant:
            found["platform"]["variant"] = key.variant
    return found


INDEX = "application/vnd.oci.image.index.v1+json"


def test_pick_is_the_first_matching_entry_as_go_containerregistry_does() -> None:
    tree = flatten(
        TREE.digest, {"manifests": [entry(ATT), entry(AMD), entry(ARM_V7), entry(ARM64)]}, {}
    )
    assert pick_leaf(tree, "linux/amd64") == AMD
    assert pick_leaf(tree, "linux/arm64") == ARM64  # no variant asked: any variant
    assert pick_leaf(tree, "linux/arm64/v8") == ARM64
    assert pick_leaf(tree, "linux/arm/v6") is None
    assert pick_leaf(single(AMD.digest), "linux/s390x") == Leaf(AMD.digest, None)


def test_pick_follows_an_entry_without_platform_as_linux_amd64() -> None:
    inner_digest = "sha256:" + "1" * 64
    inner = {"manifests": [entry(ARM64), entry(AMD)]}
    nested = Leaf(inner_digest, None)
    tree = flatten(TREE.digest, {"manifests": [entry(nested, INDEX)]}, {inner_digest: inner})
    # go-containerregistry assumes linux/amd64 for an entry without a platform and
    # follows it; an arm64 pull finds no matching entry at the top.
    assert pick_leaf(tree, "linux/amd64") == AMD
    assert pick_leaf(tree, "linux/arm64") is None
    assert {leaf.digest for leaf in tree.runnable} == {AMD.digest, ARM64.digest}


def test_blobs_are_config_then_distributable_layers() -> None:
    document = {
        "config": {"digest": "sha256:1"},
        "layers": [
            {"digest": "sha256:2"},
            {"digest": "sha256:3", "urls": ["https://example.com/foreign"]},
            "junk",
        ],
    }
    assert [(b.digest, b.role) for b in blobs_of(document)] == [
        ("sha256:1", "config"),
        ("sha256:2", "layer"),
    ]
    assert blobs_of([]) == []


def evaluated(
    sync: Sync | None, run: Tree, mine: Tree, problems: Sequence[Problem] = ()
) -> Evaluated:
    verdict = judge(run, mine, problems)
    candidate = Candidate(
        rank=2,
        reference="mirror.example.org/run:1",
        source=Source.MIRROR,
        run_image="registry.example.com/run:1",
        run_image_index=0,
        ref=parse("mirror.example.org/run:1"),
        error=None,
        matches_preferred=True,
    )
    probe = Probe("mirror.example.org/run:1", Status.AVAILABLE, mine.digest)
    assert verdict.sync is sync
    return Evaluated(
        candidate, probe, verdict.sync, verdict.platforms, verdict.problems, verdict.notes
    )


def test_partial_single_manifest_in_words() -> None:
    run = Tree("sha256:" + "e" * 64, True, (AMD, ARM64))
    e = evaluated(Sync.PARTIAL, run, single(AMD.digest))
    assert sync_cell(e) == "NO: partial (lacks linux/arm64/v8)"
    assert explain(e) == [
        "mirror.example.org/run:1: partial: serves only linux/amd64 (= the run image's "
        "linux/amd64): linux/arm64/v8 builds would fail"
    ]


def test_broken_in_words_names_the_child_and_its_impact() -> None:
    problem = missing_blob("sha256:" + "f" * 64, "layer", "linux/amd64")
    e = evaluated(Sync.BROKEN, TREE, TREE, [problem])
    assert sync_cell(e) == "NO: broken"
    assert explain(e) == [
        f"mirror.example.org/run:1: broken: blob sha256:{'f' * 64} (layer of linux/amd64) "
        "missing on the mirror: every linux/amd64 pull fails"
    ]


def test_identical_and_equivalent_cells() -> None:
    assert sync_cell(evaluated(Sync.IDENTICAL, TREE, TREE)) == "yes (identical)"
    stripped = Tree("sha256:" + "9" * 64, True, (AMD, ARM_V7, ARM64))
    e = evaluated(Sync.EQUIVALENT, TREE, stripped)
    assert sync_cell(e) == "yes (equivalent)"
    assert explain(e)[0].startswith("mirror.example.org/run:1: equivalent (note): another digest")
