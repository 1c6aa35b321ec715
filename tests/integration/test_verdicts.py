"""Mirror verdicts on real registries, one image shape per test: no false green (a mirror
whose children or blobs are gone is ``broken``), no false red (attestations stripped or
annotations changed is ``equivalent``), nothing hidden (duplicate platforms, a
single-platform copy, nested indexes) — and ``sync`` repairing each shape, read back by
skopeo and blob HEADs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_support import Result, builder_toml, endpoints, inspector, isolate
from shapes import (
    Child,
    attestation,
    garbage_collect,
    head_manifest,
    image,
    index,
    index_entry,
    missing_content,
    oras_image,
    platform,
    skopeo_copy_one_platform,
    skopeo_raw,
)

from devtools.localregistry import RegistryProcess, delete_blob, delete_manifest

RegistryFactory = Callable[..., RegistryProcess]
RUN = "registry.example.com/example/run:1.0"
MIRROR = "mirror.example.org/example/run:1.0"
REPO = "example/run"
AMD64, ARM64 = platform("linux/amd64"), platform("linux/arm64/v8")


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


@dataclass
class Pair:
    """The run image's registry and a mirror registry, and how to run inspector on them."""

    origin: RegistryProcess
    mirror: RegistryProcess
    builder: Path
    capsys: pytest.CaptureFixture[str]

    def run(self, *args: str, json: bool = True) -> Result:
        flags = endpoints(registry_example_com=self.origin, mirror_example_org=self.mirror)
        extra = ["--json"] if json else []
        return inspector(self.capsys, *args, "-c", str(self.builder), *flags, *extra)

    def mirror_entry(self, *args: str) -> tuple[Result, dict[str, Any]]:
        result = self.run("mirrors", *args)
        [group] = result.json()["run_images"]
        [entry] = group["mirrors"]
        return result, entry

    def sync_and_verify(self, top: str) -> dict[str, Any]:
        """sync, then: the mirror serves the run image's digest, every manifest and blob
        reads back, and ``mirrors --deep`` says identical."""
        result = self.run("sync")
        assert result.code == 0, result.out
        [synced] = result.json()["mirrors"]
        assert synced["action"] == "copied", synced
        assert head_manifest(self.mirror, REPO, "1.0") == 200
        assert skopeo_raw(self.mirror, REPO, "1.0") == skopeo_raw(self.origin, REPO, "1.0")
        assert missing_content(self.mirror, REPO, "1.0") == []
        assert missing_content(self.mirror, REPO, top) == []
        after, entry = self.mirror_entry("--deep")
        assert (after.code, entry["sync"], entry["problems"]) == (0, "identical", [])
        return dict(synced)


@pytest.fixture
def pair(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Pair:
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    return Pair(registry_factory(), registry_factory(), builder, capsys)


def two_platforms(
    registry: RegistryProcess, *, arm_seed: str = "arm64"
) -> tuple[str, Child, Child]:
    amd = image(registry, REPO, "amd64", AMD64)
    arm = image(registry, REPO, arm_seed, ARM64)
    digest, _ = index(registry, REPO, "1.0", [amd.entry(), arm.entry()])
    return digest, amd, arm


# -- no false green ---------------------------------------------------------------------------


def test_children_garbage_collected_are_broken_and_sync_repairs(pair: Pair) -> None:
    top, amd, arm = two_platforms(pair.origin)
    assert two_platforms(pair.mirror)[0] == top
    # Children pushed by digest carry no tag: GC with --delete-untagged deletes them
    # while the tagged index stays.
    log = garbage_collect(pair.mirror)
    assert "Deleting" in log or "deleting" in log.lower()
    assert skopeo_raw(pair.mirror, REPO, "1.0") is not None
    assert skopeo_raw(pair.mirror, REPO, amd.digest) is None  # skopeo agrees: gone

    result, entry = pair.mirror_entry()

    assert result.code == 1
    assert entry["digest"] == top  # the top-level digest still matches: not "identical"
    assert (entry["sync"], entry["in_sync"]) == ("broken", False)
    assert sorted(entry["problems"]) == sorted(
        [
            f"child {amd.digest} (linux/amd64) missing",
            f"child {arm.digest} (linux/arm64/v8) missing",
        ]
    )
    text = pair.run("mirrors", json=False).out
    assert (
        f"child {arm.digest} (linux/arm64/v8) missing on the mirror: "
        "every linux/arm64/v8 pull fails" in text
    )
    app = pair.run("check", "mirror.example.org/acme/app")
    assert app.code == 1 and app.json()["verdict"].startswith(
        f"FAIL: pack would pick {MIRROR}, but it is broken"
    )

    plan = pair.run("sync", "--dry-run").json()["mirrors"][0]
    assert (plan["state"], plan["action"]) == ("broken", "planned")
    assert plan["detail"].startswith("repair: child sha256:")
    synced = pair.sync_and_verify(top)
    assert synced["state"] == "broken"


def test_deleted_child_manifest_is_broken_and_named(pair: Pair) -> None:
    top, _, arm = two_platforms(pair.origin)
    two_platforms(pair.mirror)
    delete_manifest(pair.mirror.url, REPO, arm.digest)

    result, entry = pair.mirror_entry()

    assert (result.code, entry["sync"]) == (1, "broken")
    assert entry["problems"] == [f"child {arm.digest} (linux/arm64/v8) missing"]
    pair.sync_and_verify(top)


def test_deleted_layer_blob_needs_deep_or_the_pick(pair: Pair) -> None:
    top, amd, _ = two_platforms(pair.origin)
    two_platforms(pair.mirror)
    delete_blob(pair.mirror.url, REPO, amd.layers[0])

    default, entry = pair.mirror_entry()
    assert (default.code, entry["sync"]) == (0, "identical")  # default depth: manifests only
    deep, entry = pair.mirror_entry("--deep")
    assert (deep.code, entry["sync"]) == (1, "broken")
    assert entry["problems"] == [f"blob {amd.layers[0]} (layer of linux/amd64) missing"]

    # check verifies pack's pick (the mirror, on the app's registry) down to its blobs.
    app = "mirror.example.org/acme/app"
    picked = pair.run("check", app)
    assert picked.code == 1
    candidate = next(c for c in picked.json()["candidates"] if c["selected"])
    assert (candidate["reference"], candidate["sync"]) == (MIRROR, "broken")
    assert candidate["verified_platform"] == "linux/amd64"
    # The arm64 image has all its blobs: that pick is fine.
    arm = pair.run("check", app, "--platform", "linux/arm64/v8")
    assert arm.code == 0, arm.json()["verdict"]
    preflight = pair.run("preflight", app).json()
    item = next(i for i in preflight["checks"] if i["id"] == "run-image-in-sync")
    assert (item["result"], item["reason"]) == (
        "fail",
        f"broken: blob {amd.layers[0]} (layer of linux/amd64) missing "
        "(every linux/amd64 pull fails)",
    )

    pair.sync_and_verify(top)


# -- no false red ---------------------------------------------------------------------------


def test_attestations_stripped_is_equivalent_and_strict_makes_it_a_finding(pair: Pair) -> None:
    amd = image(pair.origin, REPO, "amd64", AMD64)
    arm = image(pair.origin, REPO, "arm64", ARM64)
    attestations = [attestation(pair.origin, REPO, of) for of in (amd, arm)]
    entries = [amd.entry(), arm.entry(), *(a.entry() for a in attestations)]
    top, _ = index(pair.origin, REPO, "1.0", entries)
    # The mirror's images come from oras-py: same bytes, another client.
    mirrored = [
        oras_image(pair.mirror, REPO, seed, where)
        for seed, where in (("amd64", AMD64), ("arm64", ARM64))
    ]
    assert [m.digest for m in mirrored] == [amd.digest, arm.digest]  # same bytes
    stripped, _ = index(pair.mirror, REPO, "1.0", [m.entry() for m in mirrored])
    assert stripped != top

    result, entry = pair.mirror_entry()

    assert (result.code, entry["sync"], entry["in_sync"]) == (0, "equivalent", True)
    assert "attestation entries (2 on the run image, 0 here)" in entry["notes"][0]
    assert [(p["platform"], p["state"]) for p in entry["platforms"]] == [
        ("linux/amd64", "same"),
        ("linux/arm64/v8", "same"),
    ]
    strict, entry = pair.mirror_entry("--strict")
    assert (strict.code, entry["sync"]) == (1, "equivalent")
    app = "mirror.example.org/acme/app"
    assert pair.run("check", app).code == 0
    picked = pair.run("check", app, "--strict")
    assert picked.code == 1
    assert picked.json()["verdict"].startswith(f"FAIL: pack would pick {MIRROR}: equivalent")
    pair.sync_and_verify(top)


def test_annotation_only_difference_is_equivalent(pair: Pair) -> None:
    top, amd, arm = two_platforms(pair.origin)
    image(pair.mirror, REPO, "amd64", AMD64)
    image(pair.mirror, REPO, "arm64", ARM64)
    other, _ = index(
        pair.mirror,
        REPO,
        "1.0",
        [amd.entry(), arm.entry()],
        annotations={"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
    )
    assert other != top

    result, entry = pair.mirror_entry()

    assert (result.code, entry["sync"], entry["in_sync"]) == (0, "equivalent", True)
    assert "annotations or entry order" in entry["notes"][0]
    table = pair.run("mirrors", json=False)
    assert "yes (equivalent)" in table.out and table.code == 0
    pair.sync_and_verify(top)


# -- nothing hidden ---------------------------------------------------------------------------


def test_single_platform_copy_by_skopeo_is_partial_and_says_which(pair: Pair) -> None:
    top, amd, _ = two_platforms(pair.origin)
    skopeo_copy_one_platform(pair.origin, pair.mirror, REPO, "1.0", "amd64")

    result, entry = pair.mirror_entry()

    assert (result.code, entry["digest"], entry["sync"]) == (1, amd.digest, "partial")
    assert {(p["platform"], p["state"]) for p in entry["platforms"]} == {
        ("linux/amd64", "same"),
        ("linux/arm64/v8", "missing"),
    }
    text = pair.run("mirrors", json=False).out
    assert (
        "serves only linux/amd64 (= the run image's linux/amd64): linux/arm64/v8 builds would fail"
        in text
    )
    pair.sync_and_verify(top)


def test_twenty_platforms_three_stale_are_named(pair: Pair) -> None:
    arches = [f"arch{i:02d}" for i in range(20)]
    stale = {3, 9, 17}
    run_children = [image(pair.origin, REPO, a, platform(f"linux/{a}")) for a in arches]
    top, _ = index(pair.origin, REPO, "1.0", [c.entry() for c in run_children])
    mirror_children = [
        (oras_image if i % 2 else image)(
            pair.mirror, REPO, a + ("-old" if i in stale else ""), platform(f"linux/{a}")
        )
        for i, a in enumerate(arches)
    ]
    index(pair.mirror, REPO, "1.0", [c.entry() for c in mirror_children])

    result, entry = pair.mirror_entry()

    assert (result.code, entry["sync"]) == (1, "stale")
    different = [p["platform"] for p in entry["platforms"] if p["state"] == "different"]
    assert different == [f"linux/{arches[i]}" for i in sorted(stale)]
    assert len(entry["platforms"]) == 20
    pair.sync_and_verify(top)


def test_windows_os_version_duplicates_each_compared(pair: Pair) -> None:
    ltsc2019 = platform("windows/amd64", os_version="10.0.17763.5329")
    ltsc2022 = platform("windows/amd64", os_version="10.0.20348.2227")
    run = [image(pair.origin, REPO, "2019", ltsc2019), image(pair.origin, REPO, "2022", ltsc2022)]
    top, _ = index(pair.origin, REPO, "1.0", [c.entry() for c in run])
    mirror = [image(pair.mirror, REPO, "2019", ltsc2019), image(pair.mirror, REPO, "old", ltsc2022)]
    index(pair.mirror, REPO, "1.0", [c.entry() for c in mirror])

    result, entry = pair.mirror_entry()

    assert (result.code, entry["sync"]) == (1, "stale")
    assert [(p["platform"], p["state"]) for p in entry["platforms"]] == [
        ("windows/amd64 (10.0.17763.5329)", "same"),
        ("windows/amd64 (10.0.20348.2227)", "different"),
    ]
    pair.sync_and_verify(top)


def test_gzip_and_zstd_variants_of_one_platform_both_checked(pair: Pair) -> None:
    run = [
        image(pair.origin, REPO, "amd64", AMD64),
        image(pair.origin, REPO, "z", AMD64, zstd=True),
    ]
    top, _ = index(pair.origin, REPO, "1.0", [c.entry() for c in run])
    mirror = [
        image(pair.mirror, REPO, "amd64", AMD64),
        image(pair.mirror, REPO, "z-old", AMD64, zstd=True),
    ]
    index(pair.mirror, REPO, "1.0", [c.entry() for c in mirror])

    result, entry = pair.mirror_entry()

    assert (result.code, entry["sync"]) == (1, "stale")
    assert sorted((p["platform"], p["state"]) for p in entry["platforms"]) == [
        ("linux/amd64", "different"),
        ("linux/amd64", "same"),
    ]
    different = next(p for p in entry["platforms"] if p["state"] == "different")
    assert (different["digest"], different["run_image_digest"]) == (mirror[1].digest, run[1].digest)
    pair.sync_and_verify(top)


def nested_index(registry: RegistryProcess, levels: int, arm_seed: str) -> str:
    amd = image(registry, REPO, "amd64", AMD64)
    arm = image(registry, REPO, arm_seed, ARM64)
    digest, size = index(registry, REPO, None, [amd.entry(), arm.entry()])
    for level in range(levels - 1):
        tag = "1.0" if level == levels - 2 else None
        digest, size = index(registry, REPO, tag, [index_entry(digest, size)])
    return digest


@pytest.mark.parametrize("levels", [2, 3])
def test_nested_indexes_stale_platform_named(pair: Pair, levels: int) -> None:
    top = nested_index(pair.origin, levels, "arm64")
    other = nested_index(pair.mirror, levels, "arm64-old")
    assert other != top

    result, entry = pair.mirror_entry()

    assert (result.code, entry["sync"]) == (1, "stale")
    assert [(p["platform"], p["state"]) for p in entry["platforms"]] == [
        ("linux/amd64", "same"),
        ("linux/arm64/v8", "different"),
    ]
    pair.sync_and_verify(top)


@pytest.mark.parametrize("levels", [2, 3])
def test_nested_identical_with_a_deleted_leaf_is_broken(pair: Pair, levels: int) -> None:
    top = nested_index(pair.origin, levels, "arm64")
    assert nested_index(pair.mirror, levels, "arm64") == top
    arm = image(pair.mirror, REPO, "arm64", ARM64)
    delete_manifest(pair.mirror.url, REPO, arm.digest)

    result, entry = pair.mirror_entry()

    assert (result.code, entry["sync"]) == (1, "broken")
    assert entry["problems"] == [f"child {arm.digest} (linux/arm64/v8) missing"]
    pair.sync_and_verify(top)


# -- an answer that proves nothing is not a verdict --------------------------------------


@pytest.mark.parametrize("where", ["child HEAD", "mirror index GET"])
def test_unusable_answer_is_unverified_never_identical(
    pair: Pair, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    from fault_proxy import CORRUPT, RESPOND, FaultProxy

    _, amd, arm = two_platforms(pair.origin)
    if where == "child HEAD":
        two_platforms(pair.mirror)
    else:  # the same children in another order: another digest, so its index is read
        image(pair.mirror, REPO, "amd64", AMD64)
        image(pair.mirror, REPO, "arm64", ARM64)
        index(pair.mirror, REPO, "1.0", [arm.entry(), amd.entry()])
    with FaultProxy(pair.mirror.host) as proxy:
        if where == "child HEAD":
            proxy.add(RESPOND, method="HEAD", path=arm.digest, status=500, body=b"")
        else:
            proxy.add(CORRUPT, method="GET", path="/manifests/sha256:")
        flags = endpoints(registry_example_com=pair.origin, mirror_example_org=proxy.url)

        result = inspector(capsys, "mirrors", "-c", str(pair.builder), *flags, "--json")
        text = inspector(capsys, "mirrors", "-c", str(pair.builder), *flags)

    [entry] = result.json()["run_images"][0]["mirrors"]
    assert result.code == 1
    assert (entry["status"], entry["sync"], entry["in_sync"]) == ("available", None, None)
    assert entry["unchecked"] and entry["problems"] == []
    assert "could not verify" in text.out and "unverified" in text.out


def test_broken_run_image_is_a_finding_and_its_intact_mirror_identical(pair: Pair) -> None:
    top, _, arm = two_platforms(pair.origin)
    two_platforms(pair.mirror)
    delete_manifest(pair.origin.url, REPO, arm.digest)

    result = pair.run("mirrors")
    text = pair.run("mirrors", json=False)

    [group] = result.json()["run_images"]
    assert result.code == 1
    assert (group["sync"], group["in_sync"]) == ("broken", False)
    assert group["problems"] == [f"child {arm.digest} (linux/arm64/v8) missing"]
    [entry] = group["mirrors"]
    assert (entry["digest"], entry["sync"]) == (top, "identical")
    assert (
        f"{RUN}: broken: child {arm.digest} (linux/arm64/v8) missing in the run image itself"
        in text.out
    )
    assert text.out.rstrip().endswith("FAIL: 1 run image(s) not available or broken")


def test_pick_without_an_image_for_the_build_platform_is_a_finding(pair: Pair) -> None:
    two_platforms(pair.origin)
    two_platforms(pair.mirror)
    app = "mirror.example.org/acme/app"

    result = pair.run("check", app, "--platform", "linux/s390x")

    assert result.code == 1
    document = result.json()
    pick = next(c for c in document["candidates"] if c["selected"])
    assert (pick["sync"], pick["verified_platform"], pick["platform_found"]) == (
        "identical",
        "linux/s390x",
        False,
    )
    assert document["verdict"] == (
        f"FAIL: pack would pick {MIRROR}, but it has no linux/s390x image: "
        "a linux/s390x build fails at pull"
    )
    assert pair.run("check", app, "--platform", "linux/arm64").code == 0


@pytest.mark.parametrize("deleted", [False, True], ids=["complete", "child-deleted"])
def test_registry_refusing_head_by_digest_is_read_instead(
    pair: Pair, capsys: pytest.CaptureFixture[str], deleted: bool
) -> None:
    from fault_proxy import RESPOND, FaultProxy

    _, _, arm = two_platforms(pair.origin)
    two_platforms(pair.mirror)
    if deleted:
        delete_manifest(pair.mirror.url, REPO, arm.digest)
    with FaultProxy(pair.mirror.host) as proxy:
        proxy.add(RESPOND, method="HEAD", path="/manifests/sha256:", status=405, body=b"")
        flags = endpoints(registry_example_com=pair.origin, mirror_example_org=proxy.url)

        result = inspector(capsys, "mirrors", "-c", str(pair.builder), *flags, "--json")
        gets = [s.path for s in proxy.seen("GET") if "/manifests/sha256:" in s.path]

    [entry] = result.json()["run_images"][0]["mirrors"]
    assert len(gets) == 2  # each child read from the mirror itself, once
    if deleted:
        assert (result.code, entry["sync"]) == (1, "broken")
        assert entry["problems"] == [f"child {arm.digest} (linux/arm64/v8) missing"]
    else:
        assert (result.code, entry["sync"]) == (0, "identical")
