"""``inspector rebase`` end to end: app images carrying lifecycle's metadata label.

Each app image is pushed with ``io.buildpacks.lifecycle.metadata`` as lifecycle's exporter
writes it (``runImage.{image,mirrors,reference,topLayer}``), recording the run image it was
built on; the tests then move the run image on (push another image under its tag) and
check that the rebase verdict follows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_support import Result, endpoints, inspector, isolate

from devtools.localregistry import PushedImage, RegistryProcess, push_image, push_index

RegistryFactory = Callable[..., RegistryProcess]
LABEL = "io.buildpacks.lifecycle.metadata"
RUN = "registry.example.com/example/run"
APP = "registry.example.com/acme/app:1.0"


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


def top_layer(registry: RegistryProcess, image: PushedImage) -> str:
    config = httpx.get(f"{registry.url}/v2/{image.repo}/blobs/{image.config_digest}").json()
    diff_id: str = config["rootfs"]["diff_ids"][-1]
    return diff_id


def lifecycle_label(
    run_registry: RegistryProcess,
    run: PushedImage,
    *,
    image: str = RUN,
    mirrors: Sequence[str] = (),
    legacy: bool = False,
) -> str:
    recorded = {
        "image": image,
        "mirrors": list(mirrors),
        "reference": f"{image.split(':')[0]}@{run.digest}",
        "topLayer": top_layer(run_registry, run),
    }
    metadata: dict[str, Any] = {"app": [], "buildpacks": [], "launcher": {}}
    if legacy:  # platform API < 0.12: only the stack, with reference/topLayer under runImage
        metadata["runImage"] = {k: recorded[k] for k in ("reference", "topLayer")}
        metadata["stack"] = {"runImage": {"image": image, "mirrors": list(mirrors)}}
    else:
        metadata["runImage"] = recorded
        metadata["stack"] = {"runImage": {"image": image, "mirrors": list(mirrors)}}
    return json.dumps(metadata)


def push_app(
    registry: RegistryProcess,
    label: str | None,
    *,
    tag: str | None = "1.0",
    platform: tuple[str, str] = ("linux", "amd64"),
) -> PushedImage:
    labels = {LABEL: label} if label is not None else {"other": "x"}
    return push_image(
        registry.url,
        "acme/app",
        tag,
        labels=labels,
        layer_seed=f"app-{platform}",
        platform=platform,
    )


def rebase(capsys: pytest.CaptureFixture[str], *flags: str, app: str = APP) -> Result:
    return inspector(capsys, "rebase", app, *flags, "--json")


def test_rebase_follows_the_run_image_moving_on(
    registry: RegistryProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    old = push_image(registry.url, "example/run", "latest", layer_seed="run-1")
    push_app(registry, lifecycle_label(registry, old))
    flags = endpoints(registry_example_com=registry)

    before = rebase(capsys, *flags)
    new = push_image(registry.url, "example/run", "latest", layer_seed="run-2")
    after = rebase(capsys, *flags)
    strict = rebase(capsys, *flags, "--fail-if-needed")

    assert before.code == 0, before.err
    document = before.json()
    assert document["selected"] == RUN
    assert document["current_base"] == old.digest
    assert document["current_base_reference"] == f"{RUN}@{old.digest}"
    assert document["new_base"] == old.digest
    assert document["rebase_needed"] is False
    assert document["force_required"] is False
    assert document["candidates"][0]["status"] == "available"  # the check document
    assert document["new_top_layer"] == document["current_top_layer"]

    assert after.code == 0, after.err
    document = after.json()
    assert document["current_base"] == old.digest
    assert document["new_base"] == new.digest
    assert document["rebase_needed"] is True
    assert document["new_top_layer"] == top_layer(registry, new)
    assert document["new_top_layer"] != document["current_top_layer"]
    assert "the base changes" in document["verdict"]
    assert strict.code == 1


def test_legacy_stack_metadata_is_used(
    registry: RegistryProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    run = push_image(registry.url, "example/run", "latest", layer_seed="run-1")
    push_app(registry, lifecycle_label(registry, run, legacy=True))

    result = rebase(capsys, *endpoints(registry_example_com=registry))

    assert result.code == 0, result.err
    assert result.json()["run_image_metadata"] == {"image": RUN, "mirrors": []}
    assert result.json()["rebase_needed"] is False


def test_index_is_compared_per_platform(
    registry: RegistryProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    def run_index(amd_seed: str) -> tuple[PushedImage, PushedImage, str]:
        amd = push_image(registry.url, "example/run", None, layer_seed=amd_seed)
        arm = push_image(
            registry.url, "example/run", None, layer_seed="arm", platform=("linux", "arm64")
        )
        return amd, arm, push_index(registry.url, "example/run", "latest", [amd, arm]).digest

    amd, arm, first_index = run_index("amd-1")
    app_amd = push_app(registry, lifecycle_label(registry, amd), tag=None)
    app_arm = push_app(
        registry, lifecycle_label(registry, arm), tag=None, platform=("linux", "arm64")
    )
    push_index(registry.url, "acme/app", "1.0", [app_amd, app_arm])
    flags = endpoints(registry_example_com=registry)

    same_amd = rebase(capsys, *flags)
    same_arm = rebase(capsys, *flags, "--platform", "linux/arm64")
    new_amd, _, second_index = run_index("amd-2")
    moved_amd = rebase(capsys, *flags)
    moved_arm = rebase(capsys, *flags, "--platform", "linux/arm64")

    assert first_index != second_index
    assert same_amd.json()["rebase_needed"] is False
    assert same_amd.json()["new_base"] == amd.digest
    assert same_arm.json()["rebase_needed"] is False
    assert same_arm.json()["platform"] == "linux/arm64"
    assert same_arm.json()["new_base"] == arm.digest
    assert moved_amd.json()["rebase_needed"] is True
    assert moved_amd.json()["new_base"] == new_amd.digest
    assert moved_amd.json()["new_base_digest"] == second_index
    # only amd64 moved: the arm64 app keeps its base though the index digest changed
    assert moved_arm.json()["rebase_needed"] is False
    assert moved_arm.json()["candidates"][0]["digest"] == second_index


def test_user_mirror_needs_force(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    origin, local = registry_factory(), registry_factory()
    run = push_image(origin.url, "example/run", "latest", layer_seed="run")
    push_image(local.url, "example/run", "latest", layer_seed="run")
    push_app(local, lifecycle_label(origin, run))  # recorded: origin only, no mirrors
    pack_home = tmp_path / "pack-home"
    pack_home.mkdir()
    (pack_home / "config.toml").write_text(
        f'[[run-images]]\nimage = "{RUN}"\nmirrors = ["local.example.net/example/run"]\n'
    )
    flags = endpoints(registry_example_com=origin, local_example_net=local)
    app = "local.example.net/acme/app:1.0"

    picked = rebase(capsys, *flags, app=app)
    forced = rebase(capsys, *flags, "--force", app=app)
    without_config = rebase(capsys, *flags, "--no-pack-config", app=app)

    assert picked.code == 1
    document = picked.json()
    assert document["selected"] == "local.example.net/example/run"
    assert document["candidates"][0]["source"] == "user-mirror"
    assert document["force_required"] is True
    assert document["force_reasons"] == [
        "new base image 'local.example.net/example/run' not found in existing run image metadata"
    ]
    assert document["rebase_needed"] is False  # same bits, other name
    assert forced.code == 0
    assert without_config.code == 0
    assert without_config.json()["selected"] == RUN
    assert without_config.json()["force_required"] is False


def test_recorded_mirror_needs_no_force(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    origin, local = registry_factory(), registry_factory()
    run = push_image(origin.url, "example/run", "latest", layer_seed="run")
    push_image(local.url, "example/run", "latest", layer_seed="run")
    label = lifecycle_label(origin, run, mirrors=["local.example.net/example/run"])
    push_app(local, label)
    flags = endpoints(registry_example_com=origin, local_example_net=local)

    result = rebase(capsys, *flags, app="local.example.net/acme/app:1.0")

    assert result.code == 0, result.out
    assert result.json()["selected"] == "local.example.net/example/run"
    assert result.json()["force_required"] is False
    assert result.json()["rebase_needed"] is False


def test_missing_run_image_fails(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    origin, local = registry_factory(), registry_factory()
    run = push_image(origin.url, "example/run", "latest", layer_seed="run")
    push_app(local, lifecycle_label(origin, run, mirrors=["local.example.net/example/run"]))
    flags = endpoints(registry_example_com=origin, local_example_net=local)

    result = rebase(capsys, *flags, app="local.example.net/acme/app:1.0")
    human = inspector(capsys, "rebase", "local.example.net/acme/app:1.0", *flags)

    assert result.code == 1
    document = result.json()
    assert document["selected"] == "local.example.net/example/run"  # the 404 counts as readable
    assert document["rebase_needed"] is None
    assert document["verdict"].startswith("FAIL")
    assert human.code == 1
    assert "Rebase needed" in human.out and "unknown" in human.out


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (None, "could not find label io.buildpacks.lifecycle.metadata"),
        ("{", "invalid JSON"),
        (json.dumps({"runImage": {"image": ["x"]}}), "image must be a string, not an array"),
        (json.dumps({"runImage": {"topLayer": "sha256:x"}}), "run image must be specified"),
    ],
)
def test_bad_app_images_exit_2(
    registry: RegistryProcess,
    capsys: pytest.CaptureFixture[str],
    label: str | None,
    message: str,
) -> None:
    push_app(registry, label)

    result = inspector(capsys, "rebase", APP, *endpoints(registry_example_com=registry))

    assert result.code == 2
    assert message in result.err
    assert repr(APP) in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_missing_app_image_exits_2(
    registry: RegistryProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    result = inspector(capsys, "rebase", APP, *endpoints(registry_example_com=registry))
    assert result.code == 2
    assert "app image" in result.err and "not found (HTTP 404 MANIFEST_UNKNOWN" in result.err


def test_run_image_flag_is_used_as_given(
    registry: RegistryProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    run = push_image(registry.url, "example/run", "latest", layer_seed="run-1")
    push_image(registry.url, "example/other-run", "latest", layer_seed="run-2")
    push_app(registry, lifecycle_label(registry, run))

    result = rebase(
        capsys,
        *endpoints(registry_example_com=registry),
        "--run-image",
        "registry.example.com/example/other-run",
        "--force",
    )

    assert result.code == 0, result.out
    document = result.json()
    assert document["selected"] == "registry.example.com/example/other-run"
    assert document["force_required"] is True
    assert document["rebase_needed"] is True
