"""pack's own cases: selection (common_test.go), [registry-mirrors] (name_test.go), daemon
mode's builder registry, and lifecycle's BestRunImageMirrorFor — as our own tables."""

from __future__ import annotations

import pytest

from inspector.reference import ReferenceError, parse
from inspector.resolver import Candidate, Mode, Selector, resolve, translate
from inspector.sources import pack_config
from inspector.sources.model import RunImage

# --- pkg/client/common_test.go #resolveRunImage, as a table -----------------------------------
# The builder: run image "stack/run" with mirrors on default.registry.io and gcr.io.
STACK = RunImage("stack/run", ("default.registry.io/stack/run", "gcr.io/stack/run"))
UNIQUE = {"stack/run": ("default.registry.io/unique-run-img",)}


def pick(
    app: str,
    *,
    builder: str | None = None,
    daemon: bool = False,
    user: dict[str, tuple[str, ...]] | None = None,
    readable: set[str] | None = None,
    run_image: RunImage = STACK,
    selector: Selector = Selector.PACK,
) -> str:
    mirrors = user or {}

    def can_read(candidate: Candidate) -> bool:
        return readable is None or candidate.reference in readable

    result = resolve(
        parse(app),
        [run_image],
        lambda image: mirrors.get(image, ()),
        mode=Mode.DAEMON if daemon else Mode.PUBLISH,
        builder_image=builder,
        readable=None if readable is None else can_read,
        selector=selector,
    )
    return result.selected.reference


@pytest.mark.parametrize(
    ("case", "kwargs", "expected"),
    [
        # "defaults to run-image in registry publishing to" (publish: builder registry unused)
        ("publish-prefers-app-registry",
         {"app": "gcr.io/app", "builder": "default.registry.io/builder"}, "gcr.io/stack/run"),
        # "prefers config defined run image mirror to stack defined run image mirror"
        ("user-mirror-first", {"app": "default.registry.io/app", "user": UNIQUE},
         "default.registry.io/unique-run-img"),
        # "returns a config mirror if no match to target registry"
        ("user-mirror-fallback", {"app": "test.registry.io/app", "user": UNIQUE},
         "default.registry.io/unique-run-img"),
        # "selects the first accessible run-image" (gcr.io and the image unreadable)
        ("first-accessible", {"app": "gcr.io/app", "builder": "default.registry.io/builder",
                              "readable": {"default.registry.io/stack/run"}},
         "default.registry.io/stack/run"),
        # "selects the builder run-image" when there are no mirrors (issue 2078)
        ("no-mirrors", {"app": "registry.example.com/app", "daemon": True,
                        "builder": "example.org/builder", "run_image": RunImage("stack/run-image")},
         "stack/run-image"),
        # nothing readable: pack falls back to the run image itself
        ("nothing-readable", {"app": "gcr.io/app", "readable": set()}, "stack/run"),
        # daemon mode: the builder image's registry wins over the app's
        ("daemon-builder-registry", {"app": "gcr.io/app", "daemon": True,
                                     "builder": "default.registry.io/builder:1"},
         "default.registry.io/stack/run"),
    ],
)  # fmt: skip
def test_pack_resolve_run_image(case, kwargs, expected):
    assert pick(**kwargs) == expected, case


def test_heroku_style_builder_in_daemon_mode_picks_the_docker_hub_image():
    # The case: the app is on public.ecr.aws, the builder image on Docker Hub.
    heroku = RunImage("docker.io/heroku/heroku:24", ("public.ecr.aws/heroku/heroku:24",))
    args = {"app": "public.ecr.aws/acme/app", "run_image": heroku}
    assert pick(**args, daemon=True, builder="heroku/builder:24") == "docker.io/heroku/heroku:24"
    assert pick(**args) == "public.ecr.aws/heroku/heroku:24"  # publishing: the app's registry


def test_localhost_builder_name_is_on_docker_hub_for_pack_040():
    # ggcr v0.21.5: "localhost/…" has no "." or ":" -> a Docker Hub repository.
    image = RunImage("example/run", ("localhost:5000/example/run",))
    got = pick("localhost:5000/app", daemon=True, builder="localhost/builder", run_image=image)
    assert got == "example/run"


# --- internal/name/name_test.go #TranslateRegistry ----------------------------------------------
DIGEST = "sha256:7f48a442c056cd19ea48462e05faa2837ac3a13732c47616d20f11f8c847a8c4"


@pytest.mark.parametrize(
    ("name", "mirrors", "expected"),
    [
        ("index.docker.io/my/buildpack:0.1", None, "index.docker.io/my/buildpack:0.1"),
        ("index.docker.io/my/buildpack:0.1", {"us.gcr.io": "10.0.0.1"},
         "index.docker.io/my/buildpack:0.1"),
        ("index.docker.io/my/buildpack:0.1", {"index.docker.io": "10.0.0.1"},
         "10.0.0.1/my/buildpack:0.1"),
        ("index.docker.io/my/buildpack:0.1", {"index.docker.io": "10.0.0.1", "*": "10.0.0.2"},
         "10.0.0.2/my/buildpack:0.1"),
        (f"buildpack/bp@{DIGEST}", {"index.docker.io": "myregistry.com"},
         f"myregistry.com/buildpack/bp@{DIGEST}"),
        # Our own: the key is RegistryStr(), so "docker.io" names never match "docker.io".
        ("docker.io/heroku/heroku:24", {"docker.io": "m.example.com"},
         "docker.io/heroku/heroku:24"),
        ("heroku/heroku:24", {"index.docker.io": "m.example.com/hub"},
         "m.example.com/hub/heroku/heroku:24"),
        # The implicit "library/" and the default tag are written out.
        ("ubuntu", {"index.docker.io": "m.example.com"}, "m.example.com/library/ubuntu:latest"),
        # Tag and digest: pack uses Identifier(), the digest; the tag is dropped.
        (f"gcr.io/x/run:1@{DIGEST}", {"gcr.io": "m.example.com"},
         f"m.example.com/x/run@{DIGEST}"),
        ("registry.example.com:5000/x/run", {"registry.example.com": "m.example.com"},
         "registry.example.com:5000/x/run"),
        # A nil map: returned as is, not even parsed.
        ("Not/A/Reference", None, "Not/A/Reference"),
        # An empty mirror is accepted: "/example/run" is a (Docker Hub) repository to ggcr.
        ("example/run", {"*": ""}, "/example/run:latest"),
    ],
)  # fmt: skip
def test_translate_registry(name, mirrors, expected):
    assert translate(name, mirrors) == expected


@pytest.mark.parametrize(
    ("name", "mirrors"),
    [
        ("Not/A/Reference", {}),  # a (possibly empty) map: pack parses, and fails
        ("example/run", {"*": "UPPER"}),  # "UPPER/example/run:latest": an uppercase Hub repo
        ("example/run", {"*": "bad host"}),
    ],
)
def test_translate_registry_errors_where_pack_does(name, mirrors):
    with pytest.raises(ReferenceError):
        translate(name, mirrors)


def test_pull_reference_of_the_pick(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[registry-mirrors]\n"index.docker.io" = "hub-cache.example.com"\n'
        '"gcr.io" = "gcr-cache.example.com/gcr"\n'
    )
    mirrors = pack_config.load(config).registry_mirrors
    assert mirrors == {
        "index.docker.io": "hub-cache.example.com",
        "gcr.io": "gcr-cache.example.com/gcr",
    }
    result = resolve(parse("gcr.io/acme/app"), [STACK], lambda _: (), registry_mirrors=mirrors)
    assert result.selected.reference == "gcr.io/stack/run"
    assert result.pull_reference == "gcr-cache.example.com/gcr/stack/run:latest"
    result = resolve(parse("quay.io/acme/app"), [STACK], lambda _: (), registry_mirrors=mirrors)
    assert result.selected.reference == "stack/run"
    assert result.pull_reference == "hub-cache.example.com/stack/run:latest"
    # Without [registry-mirrors] pack pulls the pick as written.
    result = resolve(parse("quay.io/acme/app"), [STACK], lambda _: ())
    assert result.pull_reference == "stack/run"
    assert result.pull_error is None


def test_pull_error_when_the_mirror_makes_no_reference():
    result = resolve(parse("gcr.io/app"), [STACK], lambda _: (), registry_mirrors={"*": "a b"})
    assert result.pull_reference is None
    assert result.pull_error is not None and "a b" in result.pull_error


def test_pack_config_without_registry_mirrors_is_nil(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[[run-images]]\nimage = "stack/run"\nmirrors = ["m.example.com/run"]\n')
    assert pack_config.load(config).registry_mirrors is None
    config.write_text("[registry-mirrors]\n")
    assert pack_config.load(config).registry_mirrors == {}


def test_pack_config_registry_mirror_must_be_a_string(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[registry-mirrors]\n"*" = 5\n')
    with pytest.raises(pack_config.ConfigError) as caught:
        pack_config.load(config)
    assert str(config) in str(caught.value)


# --- lifecycle platform/run_image.go BestRunImageMirrorFor ---------------------------------------
def test_lifecycle_has_no_user_mirrors():
    got = pick("default.registry.io/app", user=UNIQUE, selector=Selector.LIFECYCLE)
    assert got == "default.registry.io/stack/run"


def test_lifecycle_first_readable_on_target_registry_then_first_readable():
    readable = {"gcr.io/stack/run", "default.registry.io/stack/run"}
    args = {"readable": readable, "selector": Selector.LIFECYCLE}
    assert pick("gcr.io/app", **args) == "gcr.io/stack/run"
    assert pick("quay.io/app", **args) == "default.registry.io/stack/run"


def test_lifecycle_ignores_daemon_builder_registry():
    got = pick(
        "gcr.io/app",
        daemon=True,
        builder="default.registry.io/builder",
        selector=Selector.LIFECYCLE,
    )
    assert got == "gcr.io/stack/run"


def test_lifecycle_fails_when_nothing_is_readable():
    result = resolve(
        parse("gcr.io/app"),
        [STACK],
        lambda _: (),
        readable=lambda _: False,
        selector=Selector.LIFECYCLE,
    )
    assert result.error is not None and "failed to find accessible run image" in result.error
    # pack, given the same answers, falls back to the run image without an error.
    result = resolve(parse("gcr.io/app"), [STACK], lambda _: (), readable=lambda _: False)
    assert result.error is None
    assert result.selected.reference == "stack/run"
