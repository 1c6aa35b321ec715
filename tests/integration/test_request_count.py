"""The request count is the limit: one manifest request per unique candidate, one ``/v2/``
ping per registry, one token per (registry, repository) — counted on real registries,
whatever the concurrency (counts, never times, so the test is deterministic).

Expected counts come from how the test spells its candidates (each spelling is tagged
with the image it names), not from inspector's own normalizer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import builder_toml, endpoints, inspector, inspector_requests, isolate

from devtools.localregistry import RegistryProcess, TokenServer, push_image

RegistryFactory = Callable[..., RegistryProcess]
Spelling = tuple[str, tuple[str, str, str]]  # (as written, (registry, repository, tag))

HUB, PRIVATE = "hub", "private"


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


def anonymous_candidates() -> tuple[list[Spelling], list[Spelling]]:
    """Two run images over Docker Hub and a private registry: present, missing and
    duplicate spellings (after normalization) of the same images."""
    first: list[Spelling] = [
        ("registry.example.com/team/run-0:1.0", (PRIVATE, "team/run-0", "1.0"))
    ]
    second: list[Spelling] = [("team/run-0", (HUB, "team/run-0", "latest"))]
    for i in range(12):
        first.append((f"registry.example.com/team/run-{i}:1.0", (PRIVATE, f"team/run-{i}", "1.0")))
        first.append((f"team/run-{i}", (HUB, f"team/run-{i}", "latest")))
    first += [
        # Docker Hub spelt four ways, and the private registry's image twice more.
        ("docker.io/team/run-3", (HUB, "team/run-3", "latest")),
        ("index.docker.io/team/run-3:latest", (HUB, "team/run-3", "latest")),
        ("docker.io/team/run-4:latest", (HUB, "team/run-4", "latest")),
        ("registry.example.com/team/run-5:1.0", (PRIVATE, "team/run-5", "1.0")),
        # Missing: a 404 is an answer too, still one request.
        ("registry.example.com/team/gone:1.0", (PRIVATE, "team/gone", "1.0")),
        ("team/gone", (HUB, "team/gone", "latest")),
    ]
    # The second run image shares mirrors with the first: probed once for both.
    second += [spelling for spelling in first if spelling[1][0] == HUB][:6]
    return first, second


@pytest.mark.parametrize("concurrency", ["1", "64"])
@pytest.mark.parametrize("command", [["mirrors"], ["check", "registry.example.com/team/app"]])
def test_one_manifest_request_per_unique_candidate_and_one_ping_per_registry(
    registry_factory: RegistryFactory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: list[str],
    concurrency: str,
) -> None:
    registries = {HUB: registry_factory(), PRIVATE: registry_factory()}
    pushed = [
        push_image(registries[PRIVATE].url, f"team/run-{i}", "1.0", layer_seed="run")
        for i in range(12)
    ]
    for i in range(12):
        if i % 3:  # a third of the Docker Hub mirrors are missing
            push_image(registries[HUB].url, f"team/run-{i}", "latest", layer_seed="run")
    first, second = anonymous_candidates()
    builder = builder_toml(
        tmp_path,
        (first[0][0], [text for text, _ in first[1:]]),
        (second[0][0], [text for text, _ in second[1:]]),
    )

    result = inspector(
        capsys,
        *command,
        "-c",
        str(builder),
        "--no-pack-config",
        "--concurrency",
        concurrency,
        *endpoints(docker_io=registries[HUB], registry_example_com=registries[PRIVATE]),
        "--json",
    )

    assert result.code == 1, result.err  # missing mirrors are findings
    unique = {image for _, image in first + second}
    missing = {(HUB, f"team/run-{i}", "latest") for i in range(0, 12, 3)}
    missing |= {(HUB, "team/gone", "latest"), (PRIVATE, "team/gone", "1.0")}
    for name, registry in registries.items():
        heads = Counter(
            ("HEAD", f"/v2/{repo}/manifests/{tag}") for reg, repo, tag in unique if reg == name
        )
        # A missing image costs one more request: tags/list says repository or tag.
        lists = Counter(
            ("GET", f"/v2/{repo}/tags/list?n=1") for reg, repo, _ in missing if reg == name
        )
        if command[0] == "check" and name == PRIVATE:
            # pack's pick (the run image, on the app's registry) is verified down to its
            # blobs: one GET of its manifest, one HEAD per blob. A single-manifest image
            # has no children: `mirrors` costs nothing more than the HEADs.
            run = pushed[0]
            heads[("GET", f"/v2/team/run-0/manifests/{run.digest}")] += 1
            for blob in (run.config_digest, *run.layer_digests):
                heads[("HEAD", f"/v2/team/run-0/blobs/{blob}")] += 1
        sent = Counter(inspector_requests(registry))
        pings = sent.pop(("GET", "/v2/"), 0)
        assert pings == 1, name
        # Every unique image exactly once, by HEAD; nothing else at all (no GET of a
        # manifest: distribution answers HEAD with Docker-Content-Digest).
        assert sent == heads + lists, name
        manifests = sum(n for (_, path), n in heads.items() if "/manifests/" in path)
        assert registry.manifest_requests() - registry.manifest_requests("PUT") == manifests


def token_candidates() -> list[Spelling]:
    """Six repositories under ``public/`` (anonymous pull), two tags in most of them,
    with duplicate spellings; the first is the run image."""
    spellings: list[Spelling] = []
    for i in range(6):
        for tag in ("1.0", "2.0") if i % 2 == 0 else ("1.0",):
            image = ("registry.example.com", f"public/app-{i}", tag)
            spellings.append((f"registry.example.com/public/app-{i}:{tag}", image))
    spellings += [
        ("registry.example.com/public/app-0:1.0", ("registry.example.com", "public/app-0", "1.0")),
        ("registry.example.com/public/app-1", ("registry.example.com", "public/app-1", "latest")),
        ("registry.example.com/public/app-9:1.0", ("registry.example.com", "public/app-9", "1.0")),
    ]
    return spellings


@pytest.mark.parametrize("concurrency", ["1", "64"])
def test_token_registry_one_token_per_repository_and_no_wasted_401(
    token_registry: tuple[RegistryProcess, TokenServer],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    concurrency: str,
) -> None:
    registry, tokens = token_registry
    for i in range(6):
        push_image(registry.url, f"public/app-{i}", "1.0", auth=("alice", "s3cret"))
        push_image(registry.url, f"public/app-{i}", "2.0", auth=("alice", "s3cret"))
    tokens.reset()
    before = len(registry.access_log_lines())
    spellings = token_candidates()
    builder = builder_toml(tmp_path, (spellings[0][0], [text for text, _ in spellings[1:]]))

    result = inspector(
        capsys,
        "mirrors",
        "-c",
        str(builder),
        "--no-pack-config",
        "--concurrency",
        concurrency,
        *endpoints(registry_example_com=registry),
        "--json",
    )

    assert result.code == 1, result.err  # app-1:latest and app-9 are missing
    unique = {image for _, image in spellings}
    repositories = {repo for _, repo, _ in unique}
    # One anonymous token per repository, each for exactly that repository's pull scope,
    # however many requests for it were in flight at once.
    assert sorted((r["user"], r["status"], tuple(r["scopes"])) for r in tokens.requests) == sorted(
        (None, 200, (f"repository:{repo}:pull",)) for repo in repositories
    )
    sent = registry.access_log_lines()[before:]
    # The challenge comes from the one /v2/ ping (a 401); no manifest request ever gets one.
    assert [(e.method, e.path, e.status) for e in sent if e.path == "/v2/"] == [
        ("GET", "/v2/", 401)
    ]
    manifests = [e for e in sent if "/manifests/" in e.path]
    assert Counter((e.method, e.path) for e in manifests) == Counter(
        ("HEAD", f"/v2/{repo}/manifests/{tag}") for _, repo, tag in unique
    )
    assert sorted({e.status for e in manifests}) == [200, 404]
    # The two missing ones: one tags/list each, under the token already fetched.
    lists = [(e.path, e.status) for e in sent if "/tags/list" in e.path]
    assert sorted(lists) == [
        ("/v2/public/app-1/tags/list?n=1", 200),
        ("/v2/public/app-9/tags/list?n=1", 404),
    ]
    assert len(sent) == 1 + len(unique) + 2
    details = {
        m["reference"]: m.get("detail") for g in result.json()["run_images"] for m in g["mirrors"]
    }
    assert details["registry.example.com/public/app-1"] == "tag not found"
    assert details["registry.example.com/public/app-9:1.0"] == "repository not found"


# --- depth: an index with P platforms and M mirrors ---------------------------------------


def index_cost(platforms: int, mirrors: int, *, deep: bool) -> Counter[str]:
    """The README's formula (one registry per side, every mirror identical, each image
    manifest with one config and one layer blob, none shared)."""
    repositories = mirrors + 1  # the run image's own children are checked too
    cost: Counter[str] = Counter(
        {
            "ping": 2,
            "manifest HEAD (top)": repositories,
            "manifest GET (index)": 1,
            "manifest HEAD (child)": repositories * platforms,
        }
    )
    if deep:
        cost["manifest GET (child)"] = platforms
        cost["blob HEAD"] = repositories * platforms * 2
    return cost


def classify(method: str, path: str, top_tags: set[str]) -> str:
    if path == "/v2/":
        return "ping"
    if "/blobs/" in path:
        return f"blob {method}"
    reference = path.rsplit("/", 1)[1]
    where = "top" if reference in top_tags else "child"
    if method == "GET":
        where = "index" if where == "top" else "child"
    return f"manifest {method} ({where})"


@pytest.mark.parametrize("deep", [False, True], ids=["default", "deep"])
def test_index_with_p_platforms_and_m_mirrors_costs_the_readme_formula(
    registry_factory: RegistryFactory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    deep: bool,
) -> None:
    from shapes import image, index, platform

    origin, mirror = registry_factory(), registry_factory()
    platforms, mirrors = 5, 3
    arches = [f"arch{i}" for i in range(platforms)]
    top = ""
    for registry, repos in (
        (origin, ["example/run"]),
        (mirror, [f"m{i}/run" for i in range(mirrors)]),
    ):
        for repo in repos:
            children = [image(registry, repo, a, platform(f"linux/{a}")) for a in arches]
            top, _ = index(registry, repo, "1.0", [c.entry() for c in children])
    builder = builder_toml(
        tmp_path,
        (
            "registry.example.com/example/run:1.0",
            [f"mirror.example.org/m{i}/run:1.0" for i in range(mirrors)]
            # A mirror listed twice costs nothing more.
            + ["mirror.example.org/m0/run:1.0"],
        ),
    )

    result = inspector(
        capsys,
        "mirrors",
        "-c",
        str(builder),
        "--no-pack-config",
        *(["--deep"] if deep else []),
        *endpoints(registry_example_com=origin, mirror_example_org=mirror),
        "--json",
    )

    assert result.code == 0, result.out
    sent: Counter[str] = Counter()
    for registry in (origin, mirror):
        for method, path in inspector_requests(registry):
            tops = {"1.0"} | ({top} if method == "GET" else set())
            sent[classify(method, path, tops)] += 1
    assert sent == index_cost(platforms, mirrors, deep=deep)
