"""Run-image selection must be pack's, exactly.

pack ``pkg/client/common.go`` (v0.40.6, unchanged since v0.34.0)::

    preferredRegistry := bldrRegistry
    if publish || bldrRegistry == "" { preferredRegistry = imgRegistry }
    getBestRunMirror(preferredRegistry, md.Image, md.Mirrors, additionalMirrors[md.Image], ...)

    runImageList := filterImageList(userMirrors ++ [runImage] ++ mirrors)   // CheckReadAccess
    first in runImageList whose ParseReference(...).Context().RegistryStr() == registry
    else runImageList[0]
    else runImage

``PACK_CASES`` ports every case of pack's ``pkg/client/common_test.go`` (#resolveRunImage) and
the run-image cases of ``build_test.go`` and ``rebase_test.go``; ``LIFECYCLE_CASES`` the
all-accessible cases of lifecycle's ``platform/run_image_test.go``. ``test_matches_pack``
compares the resolver with a line-by-line Python port of the Go code above on generated inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.reference import ReferenceError, parse
from inspector.resolver import Candidate, Mode, Resolution, Source, pick_per_registry, resolve
from inspector.sources import builder_toml, pack_config
from inspector.sources.model import RunImage

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def run(
    app: str,
    run_images: Sequence[RunImage],
    user: Mapping[str, Sequence[str]] | None = None,
    *,
    mode: Mode = Mode.PUBLISH,
    builder_image: str | None = None,
    readable: Iterable[str] | None = None,
) -> Resolution:
    """Resolve; ``readable`` is the set of references pack can read (None: offline)."""
    user = dict(user or {})
    check: Callable[[Candidate], bool] | None = None
    if readable is not None:
        allowed = set(readable)

        def check(candidate: Candidate) -> bool:
            return candidate.reference in allowed

    return resolve(
        parse(app),
        run_images,
        lambda image: user.get(image, ()),
        mode=mode,
        builder_image=builder_image,
        readable=check,
    )


def selected(resolution: Resolution) -> str:
    return resolution.selected.reference


# --- pack's own test cases -------------------------------------------------------------------

# common_test.go fixtures
STACK_RUN = RunImage("stack/run", ("default.registry.io/stack/run", "gcr.io/stack/run"))
CONFIG_MIRRORS = {"stack/run": ["default.registry.io/unique-run-img"]}
# build_test.go fixtures: builder "example.com/default/builder:tag"
BUILDER = "example.com/default/builder:tag"
DEFAULT_RUN = RunImage(
    "default/run", ("registry1.example.com/run/mirror", "registry2.example.com/run/mirror")
)
LOCAL_MIRRORS = {"default/run": ["local/mirror", "registry1.example.com/local/mirror"]}
# rebase_test.go fixtures: label {"stack":{"runImage":{"image":"some/run","mirrors":[...]}}}
SOME_RUN = RunImage("some/run", ("example.com/some/run",))

COMMON = "common_test.go#resolveRunImage"
BUILD = "build_test.go#Build/run-image"
REBASE = "rebase_test.go#Rebase"


def case(id, app, run_image, user, mode, builder_image, readable, expected):
    return pytest.param(app, run_image, user, mode, builder_image, readable, expected, id=id)


# pack's "passed specific run image" case is not ported: inspector has no --run-image
# (pack returns that flag verbatim, unchecked).
PACK_CASES = [
    # publish=true, imgRegistry gcr.io, bldrRegistry default.registry.io, all accessible
    case(
        f"{COMMON}/desirable run-image are accessible/"
        "defaults to run-image in registry publishing to",
        "gcr.io/some/app",
        STACK_RUN,
        None,
        Mode.PUBLISH,
        "default.registry.io/some/builder",
        None,
        "gcr.io/stack/run",
    ),
    case(
        f"{COMMON}/desirable run-image are accessible/"
        "prefers config defined run image mirror to stack defined run image mirror",
        "default.registry.io/some/app",
        STACK_RUN,
        CONFIG_MIRRORS,
        Mode.PUBLISH,
        None,
        None,
        "default.registry.io/unique-run-img",
    ),
    case(
        f"{COMMON}/desirable run-image are accessible/"
        "returns a config mirror if no match to target registry",
        "test.registry.io/some/app",
        STACK_RUN,
        CONFIG_MIRRORS,
        Mode.PUBLISH,
        None,
        None,
        "default.registry.io/unique-run-img",
    ),
    # CheckReadAccess: gcr.io/stack/run false, stack/run false, default.registry.io/stack/run true
    case(
        f"{COMMON}/desirable run-images are not accessible/selects the first accessible run-image",
        "gcr.io/some/app",
        STACK_RUN,
        None,
        Mode.PUBLISH,
        "default.registry.io/some/builder",
        {"default.registry.io/stack/run"},
        "default.registry.io/stack/run",
    ),
    # Real fetcher, nothing reachable: pack returns the run image (issue #2078). pack passes
    # imgRegistry "" here; no parsed app image has an empty registry, and with nothing readable
    # the preferred registry does not matter.
    case(
        f"{COMMON}/desirable run-image are empty/selects the builder run-image",
        "some/app",
        RunImage("stack/run-image"),
        None,
        Mode.DAEMON,
        None,
        set(),
        "stack/run-image",
    ),
    case(
        f"{COMMON}/desirable run-image are empty/selects the builder run-image (offline)",
        "some/app",
        RunImage("stack/run-image"),
        None,
        Mode.DAEMON,
        None,
        None,
        "stack/run-image",
    ),
    # build_test.go: there are no locally configured mirrors
    case(
        f"{BUILD}/no local mirrors/Publish is true/chooses the run image mirror matching the "
        "local image",
        "some/app",
        DEFAULT_RUN,
        None,
        Mode.PUBLISH,
        BUILDER,
        None,
        "default/run",
    ),
    *[
        case(
            f"{BUILD}/no local mirrors/Publish is true/chooses the run image mirror matching "
            f"the built image ({registry})",
            f"{registry}/some/app",
            DEFAULT_RUN,
            None,
            Mode.PUBLISH,
            BUILDER,
            None,
            f"{registry}/run/mirror",
        )
        for registry in ["registry1.example.com", "registry2.example.com"]
    ],
    *[
        case(
            f"{BUILD}/no local mirrors/Publish is false/chooses a mirror on the builder registry "
            f"({app})",
            app,
            DEFAULT_RUN,
            None,
            Mode.DAEMON,
            BUILDER,
            None,
            "default/run",
        )
        for app in ["some/app", "registry1.example.com/some/app", "registry2.example.com/some/app"]
    ],
    # build_test.go: there are locally configured mirrors
    *[
        case(
            f"{BUILD}/local mirrors/Publish is true/prefers user provided mirrors for registry "
            f"{registry!r}",
            f"{registry}some/app",
            DEFAULT_RUN,
            LOCAL_MIRRORS,
            Mode.PUBLISH,
            BUILDER,
            None,
            f"{registry}local/mirror",
        )
        for registry in ["", "registry1.example.com/"]
    ],
    *[
        case(
            f"{BUILD}/local mirrors/Publish is false/prefers user provided mirrors ({app})",
            app,
            DEFAULT_RUN,
            LOCAL_MIRRORS,
            Mode.DAEMON,
            BUILDER,
            None,
            "local/mirror",
        )
        for app in ["some/app", "registry1.example.com/some/app", "registry2.example.com/some/app"]
    ],
    # rebase_test.go: rebase passes bldrRegistry "" -> the app's registry, publish or not.
    *[
        case(
            f"{REBASE}/run image is NOT provided/uses the run image from the label ({mode})",
            "some/app",
            SOME_RUN,
            None,
            mode,
            None,
            None,
            "some/run",
        )
        for mode in Mode
    ],
    *[
        case(
            f"{REBASE}/run image is NOT provided/app on example.com uses the mirror ({mode})",
            "example.com/some/app",
            SOME_RUN,
            None,
            mode,
            None,
            None,
            "example.com/some/run",
        )
        for mode in Mode
    ],
    case(
        f"{REBASE}/run image is NOT provided/uses the user-configured mirror",
        "example.com/some/app",
        SOME_RUN,
        {"some/run": ["example.com/some/local-run"]},
        Mode.PUBLISH,
        None,
        None,
        "example.com/some/local-run",
    ),
]


@pytest.mark.parametrize(
    ("app", "run_image", "user", "mode", "builder_image", "readable", "expected"), PACK_CASES
)
def test_pack_cases(app, run_image, user, mode, builder_image, readable, expected):
    result = run(app, [run_image], user, mode=mode, builder_image=builder_image, readable=readable)
    assert selected(result) == expected
    assert pack_pick(app, [run_image], user or {}, mode, builder_image, readable) == expected


# lifecycle platform/run_image_test.go: image "first.com/org/repo" with mirrors; every
# candidate accessible. (lifecycle has no user mirrors and errors when nothing is readable;
# with everything readable it picks what pack picks.)
LIFECYCLE_RUN = RunImage(
    "first.com/org/repo", ("myorg/myrepo", "zonal.gcr.io/org/repo", "gcr.io/org/repo")
)


@pytest.mark.parametrize(
    ("app", "run_image", "expected"),
    [
        pytest.param("index.docker.io/org/app", LIFECYCLE_RUN, "myorg/myrepo", id="docker-hub"),
        pytest.param("gcr.io/org/app", LIFECYCLE_RUN, "gcr.io/org/repo", id="gcr.io"),
        pytest.param(
            "zonal.gcr.io/org/app", LIFECYCLE_RUN, "zonal.gcr.io/org/repo", id="zonal.gcr.io"
        ),
        pytest.param(
            "missingzone.gcr.io/org/app", LIFECYCLE_RUN, "first.com/org/repo", id="no-match"
        ),
        pytest.param(
            "gcr.io/org/app",
            RunImage("first.com/org/repo", ("as@ohd@as@op", "gcr.io/myorg/myrepo")),
            "gcr.io/myorg/myrepo",
            id="invalid-mirror-skipped",
        ),
    ],
)
def test_lifecycle_cases(app, run_image, expected):
    assert selected(run(app, [run_image])) == expected


# --- the rule, case by case ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        ("registry.example.com/example/app", "registry.example.com/example/run"),
        ("example/app", "example/run"),
        ("mirror.example.org/example/app", "mirror.example.org/example/run"),
        ("docker.io/example/app", "example/run"),
        ("elsewhere.example.net/example/app", "example/run"),  # no match: the run image
    ],
)
def test_documented_examples(app, expected):
    builder = builder_toml.load(FIXTURES / "builder-new.toml")
    assert selected(run(app, builder.run_images)) == expected


def test_ports_count():
    image = RunImage("example/run", ("localhost/x/run", "localhost:5000/x/run"))
    assert selected(run("localhost:5000/app", [image])) == "localhost:5000/x/run"
    # pack v0.40 (ggcr v0.21.5): bare "localhost/…" is on Docker Hub, like example/run,
    # which comes first.
    assert selected(run("localhost/app", [image])) == "example/run"
    image = RunImage("example/run", ("registry.example.com:443/x/run",))
    assert selected(run("registry.example.com/app", [image])) == "example/run"
    assert selected(run("registry.example.com:443/app", [image])) == (
        "registry.example.com:443/x/run"
    )


def test_registry_compare_is_case_sensitive():
    image = RunImage("example/run", ("Registry.Example.com/x/run",))
    assert selected(run("registry.example.com/app", [image])) == "example/run"


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        # "docker.io" is index.docker.io, so "docker.io/…" and "x/…" match each other ...
        ("docker.io/x/app", "index.docker.io/x/run"),
        ("index.docker.io/x/app", "index.docker.io/x/run"),
        ("x/app", "index.docker.io/x/run"),
        # ... but "registry-1.docker.io" is compared as written.
        ("registry-1.docker.io/x/app", "registry-1.docker.io/x/run"),
        ("registry.hub.docker.com/x/app", "registry.hub.docker.com/x/run"),
    ],
)
def test_only_docker_io_is_rewritten(app, expected):
    image = RunImage(
        "registry.example.com/x/run",
        (
            "registry-1.docker.io/x/run",
            "registry.hub.docker.com/x/run",
            "index.docker.io/x/run",
            "docker.io/x/run",
        ),
    )
    assert selected(run(app, [image])) == expected


def test_docker_io_spelling_counts_as_hub():
    image = RunImage(
        "registry.example.com/x/run", ("registry-1.docker.io/x/run", "docker.io/x/run")
    )
    assert selected(run("x/app", [image])) == "docker.io/x/run"


def test_user_mirrors_first():
    image = RunImage("example/run", ("registry.example.com/example/run",))
    user = {"example/run": ["registry.example.com/mine/run"]}
    result = run("registry.example.com/app", [image], user)
    assert selected(result) == "registry.example.com/mine/run"
    assert [(c.reference, c.source) for c in result.candidates] == [
        ("registry.example.com/mine/run", Source.USER_MIRROR),
        ("example/run", Source.IMAGE),
        ("registry.example.com/example/run", Source.MIRROR),
    ]


@pytest.mark.parametrize(
    "key",
    ["docker.io/example/run", "index.docker.io/example/run", "example/run:latest", "Example/run"],
)
def test_user_mirrors_match_by_exact_string(key):
    image = RunImage("example/run", ("registry.example.com/example/run",))
    result = run("registry.example.com/app", [image], {key: ["registry.example.com/mine/run"]})
    assert selected(result) == "registry.example.com/example/run"
    assert all(c.source is not Source.USER_MIRROR for c in result.candidates)


def test_user_mirrors_from_the_pack_config_fixture():
    builder = builder_toml.load(FIXTURES / "builder-new.toml")
    config = pack_config.load(FIXTURES / "packconfig" / "config.toml")
    result = resolve(parse("localhost:5000/app"), builder.run_images, config.mirrors_for)
    assert result.selected.reference == "localhost:5000/example/run"
    assert result.selected.source is Source.USER_MIRROR
    # "registry.example.com/ignored/run" is keyed "docker.io/example/run": never applied.
    assert "registry.example.com/ignored/run" not in [c.reference for c in result.candidates]
    result = resolve(parse("example/app"), builder.run_images, config.mirrors_for)
    assert result.selected.reference == "example/run"


def test_only_the_first_run_image_is_selectable():
    first = RunImage("example/run", ("mirror.example.org/example/run",))
    second = RunImage("example/run-full", ("registry.example.com/example/run-full",))
    result = run("registry.example.com/app", [first, second], {"example/run-full": ["u/x"]})
    assert selected(result) == "example/run"  # fallback within the first, never the second
    later = [c for c in result.candidates if c.run_image == "example/run-full"]
    assert [c.reference for c in later] == [
        "u/x",
        "example/run-full",
        "registry.example.com/example/run-full",
    ]
    assert all(not c.selectable and not c.selected for c in later)
    assert all(c.run_image_index == 1 for c in later)
    assert later[2].matches_preferred  # listed and compared, just not selectable


def test_run_images_beat_stack():
    builder = builder_toml.load(FIXTURES / "builder-both.toml")
    result = run("registry.example.com/app", builder.run_images)
    assert selected(result) == "registry.example.com/example/run:jammy"
    assert "bionic" not in " ".join(c.reference for c in result.candidates)


@pytest.mark.parametrize(
    ("user", "expected", "source"),
    [
        ({"example/run": ["first/user", "second/user"]}, "first/user", Source.USER_MIRROR),
        ({}, "example/run", Source.IMAGE),
        # pack cannot read what it cannot parse, so the fallback skips it.
        ({"example/run": ["Bad/Ref", "good/user"]}, "good/user", Source.USER_MIRROR),
    ],
)
def test_no_match_fallback(user, expected, source):
    image = RunImage("example/run", ("mirror.example.org/example/run",))
    result = run("elsewhere.example.net/app", [image], user)
    assert selected(result) == expected
    assert result.selected.source is source
    assert not result.selected.matches_preferred


def test_daemon_mode_prefers_builder_registry():
    image = RunImage(
        "example/run", ("registry.example.com/example/run", "builders.example.com/example/run")
    )
    builder = "builders.example.com/cnb/builder:latest"
    app = "registry.example.com/app"
    daemon = run(app, [image], mode=Mode.DAEMON, builder_image=builder)
    assert daemon.preferred_registry == "builders.example.com"
    assert selected(daemon) == "builders.example.com/example/run"
    publish = run(app, [image], mode=Mode.PUBLISH, builder_image=builder)
    assert publish.preferred_registry == "registry.example.com"
    assert selected(publish) == "registry.example.com/example/run"
    # No builder image (a builder.toml): the app's registry, as pack with bldrRegistry "".
    no_builder = run(app, [image], mode=Mode.DAEMON)
    assert no_builder.preferred_registry == "registry.example.com"
    assert selected(no_builder) == "registry.example.com/example/run"
    # A builder on Docker Hub prefers index.docker.io.
    hub = run(app, [image], mode=Mode.DAEMON, builder_image="docker.io/cnb/builder")
    assert hub.preferred_registry == "index.docker.io"
    assert selected(hub) == "example/run"


def test_online_unreadable_candidates_are_skipped():
    image = RunImage(
        "example/run",
        ("registry.example.com/a/run", "registry.example.com/b/run", "mirror.example.org/run"),
    )
    app = "registry.example.com/app"
    readable = {"registry.example.com/b/run", "mirror.example.org/run", "example/run"}
    result = run(app, [image], readable=readable)
    assert selected(result) == "registry.example.com/b/run"
    skipped = result.candidates[1]
    assert skipped.reference == "registry.example.com/a/run"
    assert not skipped.readable and not skipped.selected
    assert "not readable" in skipped.reason
    # None on the preferred registry readable: first readable one (the run image is not).
    result = run(app, [image], readable={"mirror.example.org/run"})
    assert selected(result) == "mirror.example.org/run"
    # Nothing readable: the run image, even though it cannot be read either.
    result = run(app, [image], readable=set())
    assert selected(result) == "example/run"
    assert result.selected.source is Source.IMAGE
    assert not result.selected.readable
    assert "nothing is readable" in result.selected.reason


def test_online_user_mirror_unreadable_falls_through():
    image = RunImage("example/run", ("registry.example.com/example/run",))
    user = {"example/run": ["registry.example.com/mine/run"]}
    result = run(
        "registry.example.com/app",
        [image],
        user,
        readable={"example/run", "registry.example.com/example/run"},
    )
    assert selected(result) == "registry.example.com/example/run"


def test_readable_is_not_asked_about_unparseable_candidates():
    asked: list[str] = []

    def readable(candidate: Candidate) -> bool:
        asked.append(candidate.reference)
        return True

    image = RunImage("example/run", ("Bad/Ref", "registry.example.com/x/run"))
    result = resolve(parse("registry.example.com/app"), [image], lambda _: (), readable=readable)
    assert result.selected.reference == "registry.example.com/x/run"
    assert "Bad/Ref" not in asked
    assert result.candidates[1].readable is False


@pytest.mark.parametrize(
    "bad", ["as@ohd@as@op", "Registry.Example.com/Example/Run", "registry.example.com/r", ""]
)
def test_unparseable_candidate_is_skipped(bad):
    image = RunImage("example/run", (bad, "registry.example.com/x/run"))
    result = run("registry.example.com/app", [image])
    assert selected(result) == "registry.example.com/x/run"
    broken = result.candidates[1]
    assert broken.reference == bad
    assert broken.ref is None and broken.registry is None and broken.normalized is None
    assert broken.error and "invalid reference" in broken.error
    assert not broken.matches_preferred and not broken.selected
    assert "skipped" in broken.reason


def test_unparseable_run_image_is_still_the_last_resort():
    # pack returns runImage verbatim when nothing is accessible, even one it cannot parse.
    image = RunImage("Bad/Run", ("Also/Bad",))
    result = run("registry.example.com/app", [image])
    assert selected(result) == "Bad/Run"


def test_ranks_sources_and_fields():
    first = RunImage("example/run", ("registry.example.com/example/run", "example/run"))
    second = RunImage("example/run-full", ("registry.example.com/example/run-full",))
    user = {"example/run": ["localhost:5000/example/run"]}
    result = run("registry.example.com/example/app", [first, second], user)
    assert result.mode is Mode.PUBLISH
    assert result.app_image.registry == "registry.example.com"
    assert result.preferred_registry == "registry.example.com"
    rows = [
        (
            c.rank,
            c.reference,
            c.source,
            c.run_image,
            c.run_image_index,
            c.registry,
            c.normalized,
            c.matches_preferred,
            c.selected,
        )
        for c in result.candidates
    ]
    assert rows == [
        (1, "localhost:5000/example/run", Source.USER_MIRROR, "example/run", 0,
         "localhost:5000", "localhost:5000/example/run:latest", False, False),
        (2, "example/run", Source.IMAGE, "example/run", 0,
         "index.docker.io", "index.docker.io/example/run:latest", False, False),
        (3, "registry.example.com/example/run", Source.MIRROR, "example/run", 0,
         "registry.example.com", "registry.example.com/example/run:latest", True, True),
        (4, "example/run", Source.MIRROR, "example/run", 0,
         "index.docker.io", "index.docker.io/example/run:latest", False, False),
        (5, "example/run-full", Source.IMAGE, "example/run-full", 1,
         "index.docker.io", "index.docker.io/example/run-full:latest", False, False),
        (6, "registry.example.com/example/run-full", Source.MIRROR, "example/run-full", 1,
         "registry.example.com", "registry.example.com/example/run-full:latest", True, False),
    ]  # fmt: skip
    assert result.run_image.reference == "example/run"
    assert result.run_image.rank == 2
    assert all(c.reason for c in result.candidates)
    assert [s.value for s in Source] == ["user-mirror", "image", "mirror"]


def test_duplicates_are_kept_and_the_first_wins():
    image = RunImage("example/run", ("registry.example.com/x/run", "registry.example.com/x/run"))
    result = run("registry.example.com/app", [image])
    assert [c.rank for c in result.candidates if c.selected] == [2]
    assert "rank 2" in result.candidates[2].reason


# --- differential test against a port of pack's Go code --------------------------------------


def pack_get_best_run_mirror(registry, run_image, mirrors, preferred_mirrors, can_read):
    """``getBestRunMirror`` + ``filterImageList``, line by line."""
    run_image_list = [img for img in [*preferred_mirrors, run_image, *mirrors] if can_read(img)]
    for img in run_image_list:
        try:
            ref = parse(img)  # name.ParseReference(img, name.WeakValidation)
        except ReferenceError:
            continue
        if ref.registry == registry:  # ref.Context().RegistryStr() == registry
            return img
    if run_image_list:
        return run_image_list[0]
    return run_image


def pack_pick(app, run_images, user, mode, builder_image, readable):
    """``resolveRunImage`` with ``bldr.DefaultRunImage()`` (the first run image)."""
    img_registry = parse(app).registry
    bldr_registry = parse(builder_image).registry if builder_image else ""
    publish = mode is Mode.PUBLISH
    preferred = bldr_registry
    if publish or bldr_registry == "":
        preferred = img_registry

    md = run_images[0]
    return pack_get_best_run_mirror(
        preferred,
        md.image,
        list(md.mirrors),
        list(user.get(md.image, [])),
        lambda img: pack_can_read(img, readable),
    )


def pack_can_read(img: str, readable: set[str] | None) -> bool:
    """``CheckReadAccess``: ``remote.NewImage`` fails for a name it cannot parse."""
    try:
        parse(img)
    except ReferenceError:
        return False
    return readable is None or img in readable


POOL = [
    "example/run",
    "docker.io/example/run",
    "index.docker.io/example/run",
    "registry-1.docker.io/example/run",
    "registry.example.com/example/run",
    "registry.example.com/example/run:1.0",
    "registry.example.com:5000/example/run",
    "localhost/example/run",
    "localhost:5000/example/run",
    "gcr.io/example/run",
    f"gcr.io/example/run@sha256:{'a' * 64}",
    "Bad/Ref",
    "as@ohd@as@op",
    "",
]
APPS = [
    "example/app",
    "docker.io/example/app",
    "registry-1.docker.io/example/app",
    "registry.example.com/example/app",
    "registry.example.com:5000/example/app",
    "localhost/example/app",
    "localhost:5000/example/app",
    "gcr.io/example/app",
    "elsewhere.example.net/app",
]
refs = st.sampled_from(POOL)
run_image_st = st.builds(RunImage, refs, st.lists(refs, max_size=5).map(tuple))


@settings(max_examples=500, deadline=None, database=None)
@given(
    app=st.sampled_from(APPS),
    run_images=st.lists(run_image_st, min_size=1, max_size=3),
    user=st.dictionaries(refs, st.lists(refs, max_size=3), max_size=3),
    mode=st.sampled_from(list(Mode)),
    builder_image=st.one_of(st.none(), st.sampled_from(APPS)),
    readable=st.one_of(st.none(), st.sets(refs)),
)
def test_matches_pack(app, run_images, user, mode, builder_image, readable):
    result = run(app, run_images, user, mode=mode, builder_image=builder_image, readable=readable)
    expected = pack_pick(app, run_images, user, mode, builder_image, readable)
    assert selected(result) == expected
    # Exactly one pick, from the first run image: the first readable occurrence of that
    # string, or the run image itself when nothing is readable.
    picks = [c for c in result.candidates if c.selected]
    assert len(picks) == 1
    pick = picks[0]
    assert pick.run_image_index == 0 and pick.selectable
    first_set = [c for c in result.candidates if c.run_image_index == 0]
    assert all(c.readable == pack_can_read(c.reference, readable) for c in result.candidates)
    readable_first = [c for c in first_set if pack_can_read(c.reference, readable)]
    if readable_first:
        assert pick.rank == min(c.rank for c in readable_first if c.reference == expected)
    else:
        assert pick.source is Source.IMAGE
    # The first run image's candidates come first, in pack's order; ranks count them all.
    first = run_images[0]
    order = [*user.get(first.image, []), first.image, *first.mirrors]
    assert [c.reference for c in result.candidates[: len(order)]] == order
    assert all(c.run_image_index == 0 for c in result.candidates[: len(order)])
    assert all(c.run_image_index > 0 for c in result.candidates[len(order) :])
    assert [c.rank for c in result.candidates] == list(range(1, len(result.candidates) + 1))


def test_pick_per_registry_is_what_select_picks_with_each_registry_preferred() -> None:
    run_images = [
        RunImage(
            "example/run",
            ("r.example.com/a/run", "not a reference", "r.example.com/b/run", "docker.io/x/run"),
        ),
        RunImage("q.example.com/other/run", ("s.example.com/never/picked",)),
    ]

    builder_only = pick_per_registry(run_images, lambda _image: ())
    with_user = pick_per_registry(
        run_images, lambda image: ["r.example.com/mine/run"] if image == "example/run" else []
    )

    # Only the first run image's candidates; the first on each registry, in candidate order.
    assert {r: c.reference for r, c in builder_only.items()} == {
        "index.docker.io": "example/run",
        "r.example.com": "r.example.com/a/run",
    }
    assert list(builder_only) == ["index.docker.io", "r.example.com"]
    # A user mirror comes before the builder's candidates on its registry.
    assert (with_user["r.example.com"].reference, with_user["r.example.com"].rank) == (
        "r.example.com/mine/run",
        1,
    )
    assert with_user["index.docker.io"].reference == "example/run"
