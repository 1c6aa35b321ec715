"""``--referrers`` end to end on real distribution 2.8.2 registries (no referrers API: the
fallback tag ``sha256-<hex>`` holds the referrers index).

The source run image is signed the way cosign lays it out (``.sig`` with simplesigning
layers, ``.att`` with a DSSE envelope) and has an OCI 1.1 referrer (an SBOM whose
``subject`` is the image) listed under the fallback tag. What the mirror holds afterwards is
read by an independent client, skopeo, and by plain httpx. Two tests put the fault proxy in
front of the mirror: one answering the referrers API as a registry with it would (over
distribution's real storage), one pushing a competing signature mid-sync.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_support import Result, builder_toml, endpoints, inspector, inspector_requests, isolate

from devtools import cosign
from devtools.localregistry import (
    MANIFEST_ACCEPT,
    PushedImage,
    PushedIndex,
    RegistryProcess,
    push_image,
    push_index,
)
from tests.integration.fault_proxy import CALL, RESPOND, FaultProxy
from tests.schema_support import validate_document

RegistryFactory = Callable[..., RegistryProcess]
RUN = "registry.example.com/example/run:1.0"
MIRROR = "mirror.example.org/example/run:1.0"
REPO = "example/run"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


@dataclass(frozen=True)
class Signed:
    image: PushedImage
    signature: cosign.PushedArtifact
    attestation: cosign.PushedArtifact
    referrer: cosign.PushedArtifact


def sign(registry: RegistryProcess, image: PushedImage) -> Signed:
    return Signed(
        image,
        cosign.push_signature(registry.url, REPO, image.digest),
        cosign.push_attestation(registry.url, REPO, image.digest),
        cosign.push_referrer(
            registry.url, REPO, cosign.image_subject(image.manifest, image.media_type)
        ),
    )


def skopeo_raw(registry: RegistryProcess, reference: str) -> bytes:
    """The manifest bytes skopeo reads (``reference`` is ``repo:tag`` or ``repo@digest``)."""
    assert shutil.which("skopeo"), "skopeo is needed as the independent reader"
    done = subprocess.run(
        [
            "skopeo",
            "inspect",
            "--raw",
            "--tls-verify=false",
            f"docker://{registry.host}/{reference}",
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def digest_of(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def setup(
    registry_factory: RegistryFactory, tmp_path: Path, *, mirror_image: bool = True
) -> tuple[RegistryProcess, RegistryProcess, Signed, list[str], Path]:
    source, mirror = registry_factory(), registry_factory()
    image = push_image(source.url, REPO, "1.0", oci=True)
    if mirror_image:
        push_image(mirror.url, REPO, "1.0", oci=True)  # same bits: the image is in sync
    flags = endpoints(registry_example_com=source, mirror_example_org=mirror)
    flags.append("--no-pack-config")
    return source, mirror, sign(source, image), flags, builder_toml(tmp_path, (RUN, [MIRROR]))


def run(capsys: pytest.CaptureFixture[str], command: str, builder: Path, *extra: str) -> Result:
    return inspector(capsys, command, "-c", str(builder), *extra)


def mirror_attachments(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    entries = document["run_images"][0]["mirrors"][0]["attachments"]
    return {entry["kind"]: entry for entry in entries}


def writes(registry: RegistryProcess) -> list[tuple[str, str]]:
    return [(m, p) for m, p in inspector_requests(registry) if m in WRITES]


# --- finding ----------------------------------------------------------------------------------


def test_mirror_without_the_attachments_is_a_finding_naming_each_one(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _source, _mirror, signed, flags, builder = setup(registry_factory, tmp_path)

    # Without the flag the image alone is compared: in sync (the complaint).
    assert run(capsys, "mirrors", builder, *flags).code == 0
    result = run(capsys, "mirrors", builder, *flags, "--referrers", "--json")

    assert result.code == 1, result
    document = result.json()
    validate_document("mirrors", document)  # the shipped schema knows "attachments"
    # The image itself is identical; what it lacks are attachments, and the document's
    # own verdict agrees with the exit code.
    assert all(m["in_sync"] for g in document["run_images"] for m in g["mirrors"])
    assert (document["in_sync"], document["attachments_in_sync"]) == (False, False)
    at_source = {a["kind"]: a for a in document["run_images"][0]["attachments"]}
    assert at_source["signature"]["digest"] == signed.signature.digest
    assert at_source["signature"]["artifact_type"] == cosign.SIMPLESIGNING
    assert at_source["attestation"]["artifact_type"] == cosign.DSSE
    assert at_source["referrer"]["artifact_type"] == "application/spdx+json"
    found = mirror_attachments(document)
    assert set(found) == {"signature", "attestation", "referrer"}
    hexdigest = signed.image.digest.split(":")[1]
    assert found["signature"] == found["signature"] | {
        "reference": f"mirror.example.org/example/run:sha256-{hexdigest}.sig",
        "digest": signed.signature.digest,
        "on_mirror": False,
        "state": "missing",
    }
    assert found["attestation"]["reference"].endswith(f":sha256-{hexdigest}.att")
    assert found["attestation"]["digest"] == signed.attestation.digest
    assert found["referrer"]["reference"] == (
        f"mirror.example.org/example/run@{signed.referrer.digest}"
    )
    assert all(entry["on_mirror"] is False for entry in found.values())

    table = run(capsys, "mirrors", builder, *flags, "--referrers")
    assert table.code == 1
    for entry in found.values():
        assert entry["reference"] in table.out
    assert "FAIL: 3 attachment(s) missing" in table.out


def test_a_mirror_signature_with_other_bits_is_different(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _source, mirror, signed, flags, builder = setup(registry_factory, tmp_path)
    other = cosign.push_signature(mirror.url, REPO, signed.image.digest, seed="someone-else")
    assert other.digest != signed.signature.digest

    result = run(capsys, "mirrors", builder, *flags, "--referrers", "--json")

    assert result.code == 1
    signature = mirror_attachments(result.json())["signature"]
    assert signature["state"] == "different"
    assert signature["on_mirror"] is False
    assert signature["mirror_digest"] == other.digest


def test_check_referrers_judges_each_candidate(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _source, _mirror, _signed, flags, builder = setup(registry_factory, tmp_path)
    app = "mirror.example.org/example/app"

    plain = inspector(capsys, "check", app, "-c", str(builder), *flags)
    result = inspector(capsys, "check", app, "-c", str(builder), *flags, "--referrers", "--json")

    assert plain.code == 0
    assert result.code == 1
    validate_document("check", result.json())
    candidates = {c["reference"]: c for c in result.json()["candidates"]}
    assert len(candidates[RUN]["attachments"]) == 3
    assert {a["on_mirror"] for a in candidates[MIRROR]["attachments"]} == {False}
    assert candidates[MIRROR]["attachments_in_sync"] is False
    assert (result.json()["ok"], result.json()["in_sync"]) == (False, False)
    table = inspector(capsys, "check", app, "-c", str(builder), *flags, "--referrers")
    assert table.code == 1
    assert "Attachments missing on mirrors of " + RUN in table.out
    assert table.out.count(MIRROR + "  ") >= 3  # one row per missing attachment


# --- sync -----------------------------------------------------------------------------------


def test_sync_copies_every_attachment_with_its_digest(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source, mirror, signed, flags, builder = setup(registry_factory, tmp_path, mirror_image=False)
    hexdigest = signed.image.digest.split(":")[1]

    plan = run(capsys, "sync", builder, *flags, "--referrers", "--dry-run", "--json")
    assert plan.code == 0, plan
    assert writes(mirror) == []
    planned = plan.json()["mirrors"][0]["attachments"]
    assert sorted(a["action"] for a in planned) == ["planned"] * 3

    result = run(capsys, "sync", builder, *flags, "--referrers", "--json")

    assert result.code == 0, result
    validate_document("sync", result.json())
    actions = {a["kind"]: a["action"] for a in result.json()["mirrors"][0]["attachments"]}
    assert actions == {"signature": "copied", "attestation": "copied", "referrer": "copied"}
    # skopeo reads each attachment from the mirror: the source's exact bytes.
    sig = skopeo_raw(mirror, f"{REPO}:sha256-{hexdigest}.sig")
    att = skopeo_raw(mirror, f"{REPO}:sha256-{hexdigest}.att")
    ref = skopeo_raw(mirror, f"{REPO}@{signed.referrer.digest}")
    assert sig == signed.signature.manifest and digest_of(sig) == signed.signature.digest
    assert att == signed.attestation.manifest and digest_of(att) == signed.attestation.digest
    assert ref == signed.referrer.manifest
    annotations = json.loads(sig)["layers"][0]["annotations"]
    assert cosign.SIGNATURE_ANNOTATION in annotations
    # The mirror had no fallback index: it gets the source's, byte for byte.
    fallback = skopeo_raw(mirror, f"{REPO}:sha256-{hexdigest}")
    assert fallback == skopeo_raw(source, f"{REPO}:sha256-{hexdigest}")
    assert [m["digest"] for m in json.loads(fallback)["manifests"]] == [signed.referrer.digest]
    # Every blob of every attachment is there too.
    for artifact in (signed.signature, signed.attestation, signed.referrer):
        for blob in artifact.blob_digests:
            blob_path = f"/v2/{REPO}/blobs/{blob}"
            assert httpx_status(mirror, blob_path) == 200

    after = run(capsys, "mirrors", builder, *flags, "--referrers", "--json")
    assert after.code == 0, after
    assert after.json()["attachments_in_sync"] is True

    written = len(writes(mirror))
    again = run(capsys, "sync", builder, *flags, "--referrers", "--json")
    assert again.code == 0
    assert len(writes(mirror)) == written  # nothing moves the second time
    assert {a["action"] for a in again.json()["mirrors"][0]["attachments"]} == {"up-to-date"}


def httpx_status(registry: RegistryProcess, path: str) -> int:
    """HEAD status; ``Accept`` names the OCI types, without which distribution answers 404
    for an OCI manifest that is there."""
    import httpx

    return httpx.head(f"{registry.url}{path}", headers={"Accept": MANIFEST_ACCEPT}).status_code


def test_sync_merges_the_fallback_index_and_keeps_the_mirrors_entries(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source, mirror, signed, flags, builder = setup(registry_factory, tmp_path)
    image = signed.image
    theirs = cosign.push_referrer(
        mirror.url,
        REPO,
        cosign.image_subject(image.manifest, image.media_type),
        artifact_type="application/vnd.example.scan+json",
        seed="mirror-own",
    )
    before = cosign.fallback_index(mirror.url, REPO, image.digest)
    assert before is not None and len(before["manifests"]) == 1

    result = run(capsys, "sync", builder, *flags, "--referrers", "--json")

    assert result.code == 0, result
    after = cosign.fallback_index(mirror.url, REPO, image.digest)
    assert after is not None
    listed = [m["digest"] for m in after["manifests"]]
    assert listed == [theirs.digest, signed.referrer.digest]  # theirs kept, first
    assert after["manifests"][0] == before["manifests"][0]
    source_entry = cosign.fallback_index(source.url, REPO, image.digest)
    assert source_entry is not None
    assert after["manifests"][1] == source_entry["manifests"][0]  # copied as listed
    assert digest_of(skopeo_raw(mirror, f"{REPO}@{theirs.digest}")) == theirs.digest

    check = run(capsys, "mirrors", builder, *flags, "--referrers", "--json")
    assert check.code == 0, check
    # Once merged, a second sync leaves the mirror's index alone.
    written = len(writes(mirror))
    assert run(capsys, "sync", builder, *flags, "--referrers").code == 0
    assert len(writes(mirror)) == written


def test_sync_replaces_a_different_signature_tag(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _source, mirror, signed, flags, builder = setup(registry_factory, tmp_path)
    cosign.push_signature(mirror.url, REPO, signed.image.digest, seed="stale")
    hexdigest = signed.image.digest.split(":")[1]

    result = run(capsys, "sync", builder, *flags, "--referrers", "--json")

    assert result.code == 0, result
    signature = next(
        a for a in result.json()["mirrors"][0]["attachments"] if a["kind"] == "signature"
    )
    assert (signature["state"], signature["action"]) == ("different", "copied")
    sig = skopeo_raw(mirror, f"{REPO}:sha256-{hexdigest}.sig")
    assert digest_of(sig) == signed.signature.digest


def test_sync_refuses_to_overwrite_a_fallback_tag_that_is_not_an_index(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _source, mirror, signed, flags, builder = setup(registry_factory, tmp_path)
    hexdigest = signed.image.digest.split(":")[1]
    squatter = push_image(mirror.url, REPO, f"sha256-{hexdigest}", layer_seed="squat")

    result = run(capsys, "sync", builder, *flags, "--referrers", "--json")

    assert result.code == 1, result
    failed = [a for a in result.json()["mirrors"][0]["attachments"] if a["action"] == "failed"]
    assert failed and "not an index" in failed[0]["detail"]
    assert digest_of(skopeo_raw(mirror, f"{REPO}:sha256-{hexdigest}")) == squatter.digest


# --- an index and its children ------------------------------------------------------------------


def test_index_children_attachments_are_found_and_copied(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source, mirror = registry_factory(), registry_factory()
    amd = push_image(source.url, REPO, None, oci=True, layer_seed="amd")
    arm = push_image(
        source.url, REPO, None, oci=True, layer_seed="arm", platform=("linux", "arm64")
    )
    index: PushedIndex = push_index(source.url, REPO, "1.0", [amd, arm])
    top = cosign.push_signature(source.url, REPO, index.digest)
    child = cosign.push_signature(source.url, REPO, arm.digest, seed="arm")  # --recursive
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    flags = [*endpoints(registry_example_com=source, mirror_example_org=mirror)]
    flags.append("--no-pack-config")

    result = run(capsys, "mirrors", builder, *flags, "--referrers", "--json")

    assert result.code == 1
    at_source = result.json()["run_images"][0]["attachments"]
    by_digest = {a["digest"]: a for a in at_source}
    assert set(by_digest) == {top.digest, child.digest}
    assert by_digest[child.digest]["subject"] == arm.digest
    assert by_digest[child.digest]["platform"] == "linux/arm64"
    assert by_digest[top.digest]["platform"] is None

    assert run(capsys, "sync", builder, *flags, "--referrers").code == 0
    arm_hex = arm.digest.split(":")[1]
    assert digest_of(skopeo_raw(mirror, f"{REPO}:sha256-{arm_hex}.sig")) == child.digest
    assert run(capsys, "mirrors", builder, *flags, "--referrers").code == 0


def test_an_equivalent_mirror_lacks_the_signature_a_verifier_looks_for(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The mirror is a Docker manifest list over the same children (equivalent) and even has
    # the source's .sig tag: but cosign verifies the digest it pulls, the mirror's own.
    source, mirror = registry_factory(), registry_factory()
    children = []
    for registry in (source, mirror):
        amd = push_image(registry.url, REPO, None, oci=True, layer_seed="amd")
        arm = push_image(
            registry.url, REPO, None, oci=True, layer_seed="arm", platform=("linux", "arm64")
        )
        children.append((amd, arm))
    index = push_index(source.url, REPO, "1.0", list(children[0]))
    other = push_index(mirror.url, REPO, "1.0", list(children[1]), oci=False)
    assert other.digest != index.digest
    signature = cosign.push_signature(source.url, REPO, index.digest)
    cosign.push_signature(mirror.url, REPO, index.digest)
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    flags = [*endpoints(registry_example_com=source, mirror_example_org=mirror)]
    flags.append("--no-pack-config")

    result = run(capsys, "mirrors", builder, *flags, "--referrers", "--json")

    assert result.code == 1
    [mirror_entry] = result.json()["run_images"][0]["mirrors"]
    assert mirror_entry["sync"] == "equivalent"
    [found] = mirror_entry["attachments"]
    assert (found["digest"], found["state"], found["on_mirror"]) == (
        signature.digest,
        "other-subject",
        False,
    )
    # sync makes the mirror identical: then the signature is where a verifier looks.
    assert run(capsys, "sync", builder, *flags, "--referrers").code == 0
    assert run(capsys, "mirrors", builder, *flags, "--referrers").code == 0


# --- cost -------------------------------------------------------------------------------------


def test_default_path_sends_no_attachment_request_and_the_flag_costs_what_is_stated(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source, mirror, signed, flags, builder = setup(registry_factory, tmp_path)
    registries = (source, mirror)

    assert run(capsys, "mirrors", builder, *flags).code == 0
    plain = [inspector_requests(r) for r in registries]
    assert inspector(capsys, "check", "x.example/app", "-c", str(builder), *flags).code == 0
    marks = [len(inspector_requests(r)) for r in registries]
    for log in (inspector_requests(source), inspector_requests(mirror)):
        for _, path in log:
            assert "/referrers/" not in path
            assert "/tags/list?n=1000" not in path  # ours (n=1 tells a missing repository)
            assert "sha256-" not in path

    assert run(capsys, "mirrors", builder, *flags, "--referrers").code == 1  # none there
    hexdigest = signed.image.digest.split(":")[1]
    manifests = f"/v2/{REPO}/manifests"
    # At the source: one tag list, one referrers request (404: no API), one GET per
    # attachment tag and one of the fallback index. On the mirror: one HEAD per cosign tag,
    # one referrers request, one GET of its fallback tag, one HEAD per referrer.
    wanted = [
        [
            ("GET", f"/v2/{REPO}/tags/list?n=1000"),
            ("GET", f"/v2/{REPO}/referrers/{signed.image.digest}"),
            ("GET", f"{manifests}/sha256-{hexdigest}.sig"),
            ("GET", f"{manifests}/sha256-{hexdigest}.att"),
            ("GET", f"{manifests}/sha256-{hexdigest}"),
        ],
        [
            ("HEAD", f"{manifests}/sha256-{hexdigest}.sig"),
            ("HEAD", f"{manifests}/sha256-{hexdigest}.att"),
            ("GET", f"/v2/{REPO}/referrers/{signed.image.digest}"),
            ("GET", f"{manifests}/sha256-{hexdigest}"),
            ("HEAD", f"{manifests}/{signed.referrer.digest}"),
        ],
    ]
    for registry, before, mark, extra in zip(registries, plain, marks, wanted, strict=True):
        sent = inspector_requests(registry)[mark:]
        for request in before:
            sent.remove(request)  # the image's own requests: as without the flag
        assert sorted(sent) == sorted(extra)


def test_on_one_registry_attachment_blobs_are_mounted(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = registry_factory()
    signed = sign(source, push_image(source.url, REPO, "1.0", oci=True))
    same = "registry.example.com/mirror/run:1.0"
    builder = builder_toml(tmp_path, (RUN, [same]))
    flags = [*endpoints(registry_example_com=source), "--no-pack-config"]

    result = run(capsys, "sync", builder, *flags, "--referrers", "--json")

    assert result.code == 0, result
    uploads = [p for m, p in writes(source) if m == "POST" and "/mirror/run/blobs/uploads/" in p]
    assert uploads and all("mount=" in p and "from=example%2Frun" in p for p in uploads)
    assert not [p for m, p in writes(source) if m == "PUT" and "/blobs/uploads/" in p]
    hexdigest = signed.image.digest.split(":")[1]
    sig = skopeo_raw(source, f"mirror/run:sha256-{hexdigest}.sig")
    assert digest_of(sig) == signed.signature.digest
    assert run(capsys, "mirrors", builder, *flags, "--referrers").code == 0


def test_a_mirror_whose_image_copy_failed_has_its_attachments_skipped(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source, locked = registry_factory(), registry_factory(htpasswd=("bob", "hunter2"))
    sign(source, push_image(source.url, REPO, "1.0", oci=True))
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    flags = [*endpoints(registry_example_com=source, mirror_example_org=locked)]
    flags.append("--no-pack-config")

    result = run(capsys, "sync", builder, *flags, "--referrers", "--json")

    assert result.code == 1
    row = result.json()["mirrors"][0]
    assert row["action"] == "failed"
    assert {a["action"] for a in row["attachments"]} == {"skipped"}
    assert {a["on_mirror"] for a in row["attachments"]} == {None}  # it could not be read
    assert not [p for m, p in writes(locked) if m == "PUT"]  # nothing was written


def test_sync_without_the_flag_leaves_attachments_alone(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source, mirror, signed, flags, builder = setup(registry_factory, tmp_path, mirror_image=False)

    result = run(capsys, "sync", builder, *flags, "--json")

    assert result.code == 0, result
    assert "attachments" not in result.json()["mirrors"][0]
    for registry in (source, mirror):
        for _, path in inspector_requests(registry):
            assert "/referrers/" not in path
            assert "/tags/list?n=1000" not in path  # ours (n=1 tells a missing repository)
            assert "sha256-" not in path
    assert skopeo_raw(mirror, f"{REPO}:1.0") == signed.image.manifest


def test_sync_to_a_mirror_with_the_referrers_api_pushes_by_digest_and_writes_no_fallback_tag(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source, mirror = registry_factory(), registry_factory()
    signed = sign(source, push_image(source.url, REPO, "1.0", oci=True))
    push_image(mirror.url, REPO, "1.0", oci=True)
    hexdigest = signed.image.digest.split(":")[1]
    entry = cosign.fallback_index(source.url, REPO, signed.image.digest)
    assert entry is not None

    def listing(entries: list[dict[str, Any]]) -> dict[str, Any]:
        body = {"schemaVersion": 2, "mediaType": cosign.OCI_INDEX, "manifests": entries}
        return {
            "status": 200,
            "headers": {"Content-Type": cosign.OCI_INDEX},
            "body": json.dumps(body).encode(),
        }

    with FaultProxy(mirror.host) as api_mirror:
        # distribution 2.8.2 behind a proxy that answers the referrers API the way a registry
        # with it would: nothing listed before the copy, the referrer once it was PUT.
        route = rf"/v2/{REPO}/referrers/"
        api_mirror.add(RESPOND, method="GET", path=route, times=1, **listing([]))
        api_mirror.add(RESPOND, method="GET", path=route, **listing(entry["manifests"]))
        builder = builder_toml(tmp_path, (RUN, [MIRROR]))
        flags = [*endpoints(registry_example_com=source, mirror_example_org=api_mirror.url)]
        flags.append("--no-pack-config")

        result = run(capsys, "sync", builder, *flags, "--referrers", "--json")

        assert result.code == 0, result
        row = result.json()["mirrors"][0]
        referrer = next(a for a in row["attachments"] if a["kind"] == "referrer")
        assert (referrer["state"], referrer["action"]) == ("missing", "copied")
        puts = [s.path for s in api_mirror.seen("PUT")]
        assert f"/v2/{REPO}/manifests/{signed.referrer.digest}" in puts
        assert not [p for p in puts if p.endswith(f"/manifests/sha256-{hexdigest}")]
    assert digest_of(skopeo_raw(mirror, f"{REPO}@{signed.referrer.digest}")) == (
        signed.referrer.digest
    )
    assert cosign.fallback_index(mirror.url, REPO, signed.image.digest) is None


def test_artifact_type_limits_what_is_compared_and_copied(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source, mirror, signed, flags, builder = setup(registry_factory, tmp_path)
    hexdigest = signed.image.digest.split(":")[1]
    only_sig = ["--referrers", "--artifact-type", cosign.SIMPLESIGNING]

    result = run(capsys, "mirrors", builder, *flags, *only_sig, "--json")

    assert result.code == 1
    assert set(mirror_attachments(result.json())) == {"signature"}

    spdx = ["--referrers", "--artifact-type", "application/spdx+json"]
    synced = run(capsys, "sync", builder, *flags, *spdx, "--json")
    assert synced.code == 0, synced
    assert [a["kind"] for a in synced.json()["mirrors"][0]["attachments"]] == ["referrer"]
    index = cosign.fallback_index(mirror.url, REPO, signed.image.digest)
    assert index is not None
    assert [m["digest"] for m in index["manifests"]] == [signed.referrer.digest]
    assert httpx_status(source, f"/v2/{REPO}/manifests/sha256-{hexdigest}.sig") == 200
    assert httpx_status(mirror, f"/v2/{REPO}/manifests/sha256-{hexdigest}.sig") == 404
    assert run(capsys, "mirrors", builder, *flags, *spdx).code == 0
    assert run(capsys, "mirrors", builder, *flags, *only_sig).code == 1  # still not copied

    bad = run(capsys, "mirrors", builder, *flags, "--artifact-type", "x/y")
    assert bad.code == 2
    assert bad.err.strip().endswith("--artifact-type needs --referrers")
    assert len(bad.err.strip().splitlines()) == 1


def test_a_refused_sync_writes_no_attachment_either(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _source, mirror, _signed, flags, builder = setup(registry_factory, tmp_path)

    result = run(
        capsys, "sync", builder, *flags, "--referrers", "--allow-registry", "elsewhere.example"
    )

    assert result.code == 1
    assert "nothing was written" in result.err
    assert writes(mirror) == []
    assert "planned" in result.out


def test_a_signature_tag_pushed_meanwhile_is_left_alone(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source, mirror = registry_factory(), registry_factory()
    signed = sign(source, push_image(source.url, REPO, "1.0", oci=True))
    push_image(mirror.url, REPO, "1.0", oci=True)
    hexdigest = signed.image.digest.split(":")[1]
    theirs: list[cosign.PushedArtifact] = []

    def competing_push() -> None:
        if not theirs:  # someone signs on the mirror while inspector copies the signature
            theirs.append(
                cosign.push_signature(mirror.url, REPO, signed.image.digest, seed="meanwhile")
            )

    with FaultProxy(mirror.host) as racing:
        racing.add(
            CALL,
            method="PUT",
            path=rf"/manifests/{signed.signature.digest}$",
            callback=competing_push,
        )
        builder = builder_toml(tmp_path, (RUN, [MIRROR]))
        flags = [*endpoints(registry_example_com=source, mirror_example_org=racing.url)]
        result = run(capsys, "sync", builder, *flags, "--no-pack-config", "--referrers", "--json")

    assert result.code == 1, result
    rows = {a["kind"]: a for a in result.json()["mirrors"][0]["attachments"]}
    assert rows["signature"]["action"] == "failed"
    assert "moved meanwhile" in rows["signature"]["detail"]
    # The refusal is the signature's alone: the others are copied and verified.
    assert rows["attestation"]["action"] == rows["referrer"]["action"] == "copied"
    assert theirs
    sig = skopeo_raw(mirror, f"{REPO}:sha256-{hexdigest}.sig")
    assert digest_of(sig) == theirs[0].digest  # their signature stays
