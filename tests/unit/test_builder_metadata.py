"""Parsing of the labels written by pack and lifecycle, and the pure rebase judgements.

pack ``internal/builder/metadata.go`` (``io.buildpacks.builder.metadata``), lifecycle
``platform/files`` (``io.buildpacks.lifecycle.metadata``) and ``phase/rebaser.go``
(``containsName`` / ``ParseMaybe``). Labels are written by others: every wrong type must
become a ConfigError that names the image, never another exception.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.checks.rebase import (
    LifecycleMetadata,
    NewBase,
    force_reasons,
    lifecycle_name,
    parse_lifecycle_metadata,
    rebase_needed,
)
from inspector.errors import InputError
from inspector.reference import parse
from inspector.sources.builder_image import parse_metadata
from inspector.sources.image_config import ImageConfig, check_platform, pick_platform
from inspector.sources.model import ConfigError, RunImage

IMAGE = "registry.example.com/example/builder:latest"
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64


def metadata(**fields: Any) -> str:
    return json.dumps(fields)


# --- builder metadata ---------------------------------------------------------------------------


def test_images_win_over_stack_and_stack_is_kept() -> None:
    text = metadata(
        description="Ubuntu jammy",
        images=[
            {"image": "example/run", "mirrors": ["registry.example.com/example/run"]},
            {"image": "example/run-full"},
        ],
        stack={"runImage": {"image": "example/old-run", "mirrors": ["m.example.org/old"]}},
        lifecycle={"version": "0.20.1", "api": {"buildpack": "0.2"}},
        buildpacks=[
            {"id": "example/node", "version": "1.2.3", "homepage": "https://example.com"},
            {"id": "example/go", "version": "0.1.0"},
        ],
        createdBy={"name": "Pack CLI", "version": "0.40.6"},
    )
    builder = parse_metadata(text, IMAGE, stack_id="io.buildpacks.stacks.jammy")

    assert builder.run_images == (
        RunImage("example/run", ("registry.example.com/example/run",)),
        RunImage("example/run-full", ()),
    )
    assert builder.stack_run_image == RunImage("example/old-run", ("m.example.org/old",))
    assert builder.description == "Ubuntu jammy"
    assert builder.lifecycle_version == "0.20.1"
    assert builder.stack_id == "io.buildpacks.stacks.jammy"
    assert [(b.id, b.version, b.homepage) for b in builder.buildpacks] == [
        ("example/node", "1.2.3", "https://example.com"),
        ("example/go", "0.1.0", ""),
    ]
    assert builder.extras["created_by"] == "Pack CLI 0.40.6"
    assert builder.image == builder.source == IMAGE


@pytest.mark.parametrize("images", [None, []])
def test_older_builder_uses_stack_run_image(images: list[Any] | None) -> None:
    text = metadata(
        images=images, stack={"runImage": {"image": "example/run", "mirrors": ["a.io/run"]}}
    )
    builder = parse_metadata(text, IMAGE)
    assert builder.run_images == (RunImage("example/run", ("a.io/run",)),)
    assert builder.stack_run_image is None
    assert builder.description is None and builder.lifecycle_version is None


def test_null_fields_are_zero_values_like_go() -> None:
    text = metadata(
        description=None,
        images=[{"image": "example/run", "mirrors": None}],
        stack=None,
        lifecycle=None,
        buildpacks=None,
        createdBy=None,
    )
    builder = parse_metadata(text, IMAGE)
    assert builder.run_images == (RunImage("example/run", ()),)
    assert builder.buildpacks == ()
    assert "created_by" not in builder.extras


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[]", "must be a JSON object, not an array"),
        ("null", "must be a JSON object, not null"),
        ('"x"', "must be a JSON object, not a string"),
        (metadata(), "no run image"),
        (metadata(stack={"runImage": {"image": ""}}), "no run image"),
        (metadata(images=[{"image": ""}]), "images[0].image is empty"),
        (metadata(images={"image": "x"}), "images must be an array of objects, not an object"),
        (metadata(images=["x"]), "images must be an array of objects"),
        (metadata(images=[{"image": 5}]), "image must be a string, not a number"),
        (metadata(images=[{"image": "x", "mirrors": "y"}]), "mirrors must be an array of strings"),
        (metadata(images=[{"image": "x", "mirrors": [1]}]), "mirrors must be an array of strings"),
        (metadata(stack=[]), "stack must be an object, not an array"),
        (metadata(stack={"runImage": "x"}), "runImage must be an object, not a string"),
        (metadata(images=[{"image": "x"}], description=True), "description must be a string"),
        (metadata(images=[{"image": "x"}], lifecycle={"version": 1}), "version must be a string"),
        (metadata(images=[{"image": "x"}], buildpacks=[{"id": None, "version": []}]), "version"),
        (metadata(images=[{"image": "x"}], createdBy="pack"), "createdBy must be an object"),
        ("[" * 100_000, "invalid JSON"),
    ],
)
def test_hostile_metadata_is_a_config_error_naming_the_image(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_metadata(text, IMAGE)
    assert message in str(raised.value)
    assert repr(IMAGE) in str(raised.value)
    assert "io.buildpacks.builder.metadata" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, InputError)  # exit 2 in the CLI


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "images",
                    "image",
                    "mirrors",
                    "stack",
                    "runImage",
                    "lifecycle",
                    "version",
                    "buildpacks",
                    "id",
                    "createdBy",
                    "name",
                    "description",
                    "reference",
                    "topLayer",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_json_gives_a_builder_or_a_config_error(document: Any) -> None:
    try:
        builder = parse_metadata(json.dumps(document), IMAGE)
    except ConfigError:
        return
    assert builder.run_images and all(r.image for r in builder.run_images)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_json_gives_lifecycle_metadata_or_a_config_error(document: Any) -> None:
    try:
        parsed = parse_lifecycle_metadata(json.dumps(document), "example/app")
    except ConfigError:
        return
    assert isinstance(parsed.run_image, RunImage)


# --- lifecycle metadata ---------------------------------------------------------------------------


def test_lifecycle_metadata_run_image_wins_over_stack() -> None:
    text = metadata(
        runImage={
            "image": "example/run",
            "mirrors": ["registry.example.com/example/run"],
            "reference": f"example/run@{D1}",
            "topLayer": D2,
        },
        stack={"runImage": {"image": "example/old"}},
    )
    parsed = parse_lifecycle_metadata(text, "example/app")
    assert parsed.selectable() == RunImage("example/run", ("registry.example.com/example/run",))
    assert parsed.recorded_digest == D1
    assert parsed.top_layer == D2


def test_lifecycle_metadata_falls_back_to_stack_like_pack_rebase() -> None:
    text = metadata(runImage={"topLayer": D2}, stack={"runImage": {"image": "example/run"}})
    assert parse_lifecycle_metadata(text, "app").selectable() == RunImage("example/run", ())


@pytest.mark.parametrize("text", [metadata(), metadata(stack={}), metadata(runImage={"image": ""})])
def test_lifecycle_metadata_without_run_image_has_nothing_to_select(text: str) -> None:
    assert parse_lifecycle_metadata(text, "app").selectable() is None


@pytest.mark.parametrize(
    ("reference", "digest"),
    [(f"example/run@{D1}", D1), (D1, D1), (f"r.io/x:1@{D1}", D1), ("", None), ("latest", None)],
)
def test_recorded_digest(reference: str, digest: str | None) -> None:
    assert LifecycleMetadata(RunImage("x"), None, reference=reference).recorded_digest == digest


def test_lifecycle_name_is_parse_maybe() -> None:
    assert lifecycle_name("busybox") == "index.docker.io/library/busybox:latest"
    assert lifecycle_name(f"docker.io/library/busybox@{D1}") == lifecycle_name("busybox")
    assert lifecycle_name("r.io/x:1") == "r.io/x:1"
    assert lifecycle_name("Not A Ref") == "Not A Ref"


def test_contains_name_looks_at_run_image_and_stack() -> None:
    md = LifecycleMetadata(
        RunImage("registry.example.com/example/run", ("mirror.example.org/example/run",)),
        RunImage("old.example.org/run"),
    )
    assert md.contains_name("registry.example.com/example/run:latest")
    assert md.contains_name(f"mirror.example.org/example/run@{D1}")
    assert md.contains_name("old.example.org/run")
    assert not md.contains_name("registry.example.com/example/run:other")
    assert not md.contains_name("local.example.org/example/run")


# --- rebase judgements ----------------------------------------------------------------------------


def md(reference: str = "", top_layer: str = "") -> LifecycleMetadata:
    return LifecycleMetadata(RunImage("r.io/run"), None, reference=reference, top_layer=top_layer)


def test_rebase_not_needed_when_the_recorded_digest_is_served() -> None:
    assert rebase_needed(md(f"r.io/run@{D1}"), NewBase(D1, D1, D2, D3)) is False
    # an index: the platform image's digest is what lifecycle recorded
    assert rebase_needed(md(f"r.io/run@{D1}"), NewBase(D2, D1, D3, None, is_index=True)) is False


def test_rebase_needed_when_another_digest_is_served() -> None:
    assert rebase_needed(md(f"r.io/run@{D1}"), NewBase(D2, D2, D3)) is True


def test_daemon_image_id_is_compared_with_the_config_digest() -> None:
    assert rebase_needed(md(D3), NewBase(D1, D1, D3)) is False
    assert rebase_needed(md(D3), NewBase(D1, D1, D2)) is True
    assert rebase_needed(md(D3), NewBase(D1)) is None  # config not read


def test_index_without_platform_image_cannot_be_told() -> None:
    assert rebase_needed(md(f"r.io/run@{D1}"), NewBase(D2, is_index=True)) is None


def test_top_layer_decides_when_no_reference_is_recorded() -> None:
    assert rebase_needed(md(top_layer=D1), NewBase(D2, D2, D2, D1)) is False
    assert rebase_needed(md(top_layer=D1), NewBase(D2, D2, D2, D3)) is True
    assert rebase_needed(md(), NewBase(D2, D2, D2, D3)) is None


def app_config(platform: str = "linux/amd64") -> ImageConfig:
    return ImageConfig(parse("r.io/app"), D1, D1, D2, platform)


def test_force_reasons() -> None:
    known = LifecycleMetadata(RunImage("r.io/run", ("m.io/run",)), None)
    assert force_reasons(known, "m.io/run", app_config(), NewBase(D1, platform="linux/amd64")) == ()
    unknown = force_reasons(known, "u.io/run", app_config(), NewBase(D1, platform="linux/amd64"))
    assert unknown == ("new base image 'u.io/run' not found in existing run image metadata",)
    other_arch = force_reasons(known, "r.io/run", app_config(), NewBase(D1, platform="linux/arm64"))
    assert other_arch == ("the new base is linux/arm64, the app is linux/amd64",)
    # a variant alone does not change os/arch
    assert not force_reasons(
        known, "r.io/run", app_config("linux/arm64"), NewBase(D1, platform="linux/arm64/v8")
    )


# --- platforms ---------------------------------------------------------------------------------


def test_pick_platform() -> None:
    available = {"linux/amd64": D1, "linux/arm64/v8": D2, "linux/arm/v7": D3}
    assert pick_platform(available, "linux/amd64") == "linux/amd64"
    assert pick_platform(available, "linux/arm64") == "linux/arm64/v8"
    assert pick_platform(available, "linux/arm/v7") == "linux/arm/v7"
    assert pick_platform(available, "linux/arm/v6") is None
    assert pick_platform(available, "windows/amd64") is None
    assert pick_platform({"linux/arm64": D2}, "linux/arm64/v8") == "linux/arm64"


@pytest.mark.parametrize("text", ["linux", "linux/", "/amd64", "linux/amd64/v8/x", "linux amd64"])
def test_bad_platform_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="invalid platform"):
        check_platform(text)
