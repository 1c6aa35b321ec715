"""pack's picks for production-shaped builders (fixtures/pack-fidelity/), offline.

Each row is ``inspector resolve APP -c BUILDER [flags] --json``: what pack v0.40 would
select, and what it would pull after its [registry-mirrors]."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.cli import main

HERE = Path(__file__).resolve().parents[2] / "fixtures" / "pack-fidelity"
JAMMY = str(HERE / "paketo-jammy-base.toml")
NOBLE = str(HERE / "paketo-noble-tiny.toml")
HEROKU22 = str(HERE / "heroku-builder-22.toml")
HEROKU24 = str(HERE / "heroku-builder-24.toml")
GOOGLE = str(HERE / "google-24.toml")
CACHES = str(HERE / "pack-config-caches.toml")
WILDCARD = str(HERE / "pack-config-wildcard.toml")
HUB_CACHE = str(HERE / "pack-config-hub-cache.toml")
JAMMY_RUN = "index.docker.io/paketobuildpacks/run-jammy-base:latest"
JAMMY_GCR = "gcr.io/paketo-buildpacks/run-jammy-base:latest"


@pytest.fixture(autouse=True)
def isolated_pack_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PACK_HOME", str(tmp_path / "packhome"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def resolve(capsys, app: str, builder: str, *flags: str) -> dict:
    with pytest.raises(SystemExit) as done:
        main(["resolve", app, "-c", builder, *flags, "--json"])
    out, err = capsys.readouterr()
    assert done.value.code == 0, err
    return json.loads(out)


@pytest.mark.parametrize(
    ("app", "builder", "flags", "selected", "pull"),
    [
        # Heroku: the case. Publishing to public.ecr.aws picks the ECR mirror ...
        ("public.ecr.aws/acme/app", HEROKU24, (), "public.ecr.aws/heroku/heroku:24", None),
        # ... but a daemon build with the builder image on Docker Hub picks Docker Hub.
        ("public.ecr.aws/acme/app", HEROKU24, ("--daemon", "--builder-name", "heroku/builder:24"),
         "docker.io/heroku/heroku:24", None),
        ("docker.io/acme/app", HEROKU22, (), "docker.io/heroku/heroku:22", None),
        ("acme/app", HEROKU22, (), "docker.io/heroku/heroku:22", None),
        ("ghcr.io/acme/app", HEROKU22, (), "docker.io/heroku/heroku:22", None),
        # The user's run-image mirror comes first; with the caches it is pulled as written
        # (its registry has no registry mirror).
        ("registry.corp.example/acme/app", HEROKU24, ("--pack-config", CACHES),
         "registry.corp.example/heroku/heroku:24", "registry.corp.example/heroku/heroku:24"),
        ("public.ecr.aws/acme/app", HEROKU24, ("--pack-config", CACHES),
         "public.ecr.aws/heroku/heroku:24", "public.ecr.aws/heroku/heroku:24"),
        # A Docker Hub pick goes through the Hub cache, "docker.io" spelled or not.
        ("quay.io/acme/app", HEROKU24, ("--pack-config", HUB_CACHE), "docker.io/heroku/heroku:24",
         "hub-cache.corp.example/heroku/heroku:24"),
        # Paketo jammy: gcr.io publishes pick the gcr.io mirror, the rest Docker Hub.
        ("gcr.io/acme/app", JAMMY, (), JAMMY_GCR, None),
        ("us-docker.pkg.dev/acme/apps/app", JAMMY, (), JAMMY_RUN, None),
        ("gcr.io/acme/app", JAMMY, ("--pack-config", CACHES), JAMMY_GCR,
         "gcr-cache.corp.example/gcr/paketo-buildpacks/run-jammy-base:latest"),
        ("quay.io/acme/app", JAMMY, ("--pack-config", CACHES), JAMMY_RUN,
         "hub-cache.corp.example/paketobuildpacks/run-jammy-base:latest"),
        ("quay.io/acme/app", JAMMY, ("--pack-config", WILDCARD), JAMMY_RUN,
         "proxy.corp.example/all/paketobuildpacks/run-jammy-base:latest"),
        # pack v0.40 (ggcr v0.21.5): "localhost/acme/app" is on Docker Hub, like the run image.
        ("localhost/acme/app", JAMMY, (), JAMMY_RUN, None),
        ("localhost:5000/acme/app", JAMMY, (), JAMMY_RUN, None),
        # Paketo noble: [stack] only, no mirrors.
        ("gcr.io/acme/app", NOBLE, (), "docker.io/paketobuildpacks/ubuntu-noble-run-tiny:0.0.100",
         None),
        # Google: an untagged run image on gcr.io; pulled as ":latest" through the cache.
        ("gcr.io/acme/app", GOOGLE, (), "gcr.io/buildpacks/google-24/run", None),
        ("gcr.io/acme/app", GOOGLE, ("--pack-config", CACHES), "gcr.io/buildpacks/google-24/run",
         "gcr-cache.corp.example/gcr/buildpacks/google-24/run:latest"),
        # Compose-style app registries are valid names for pack.
        ("my_registry:5000/acme/app", GOOGLE, (), "gcr.io/buildpacks/google-24/run", None),
    ],
)  # fmt: skip
def test_production_shaped_builders(capsys, app, builder, flags, selected, pull):
    document = resolve(capsys, app, builder, *flags)
    assert document["selected"] == selected
    assert document["pull_reference"] == (pull or selected)


def test_heroku_lifecycle_selector_ignores_the_users_run_image_mirror(capsys):
    flags = ("--pack-config", CACHES)
    pack = resolve(capsys, "registry.corp.example/acme/app", HEROKU24, *flags)
    lifecycle = resolve(
        capsys, "registry.corp.example/acme/app", HEROKU24, *flags, "--selector", "lifecycle"
    )
    assert pack["selected"] == "registry.corp.example/heroku/heroku:24"
    assert lifecycle["selected"] == "docker.io/heroku/heroku:24"
    # lifecycle knows nothing of pack's config: no registry-mirror translation either.
    assert lifecycle["pull_reference"] == "docker.io/heroku/heroku:24"


def builder_json(capsys, builder: str) -> dict:
    with pytest.raises(SystemExit) as done:
        main(["builder", "-c", builder, "--no-pack-config", "--json"])
    out, _ = capsys.readouterr()
    assert done.value.code == 0
    return json.loads(out)


def test_builders_list_buildpacks_as_given(capsys):
    heroku = builder_json(capsys, HEROKU24)
    assert [bp["id"] for bp in heroku["buildpacks"]] == [
        "heroku/go",
        "heroku/nodejs",
        "heroku/procfile",
    ]
    assert heroku["buildpacks"][0]["uri"].startswith("docker://docker.io/heroku/buildpack-go@")
    paketo = builder_json(capsys, JAMMY)
    assert paketo["buildpacks"][0] == {
        "id": "",
        "version": "4.19.0",
        "uri": "docker://docker.io/paketobuildpacks/go:4.19.0",
    }
    assert paketo["stack"] == {"id": "io.buildpacks.stacks.jammy"}
    assert paketo["run_images"] == [{"name": JAMMY_RUN}, {"name": JAMMY_GCR}]
