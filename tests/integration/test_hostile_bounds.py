"""Every body read is bounded and every request has a ceiling, against hostile servers.

A :class:`FaultProxy` in front of a real ``docker-registry`` answers with gzip bombs
(stacked ``Content-Encoding``, in a manifest, a 401, a redirect and a write's answer),
trickles a config blob, serves an index that fans out to thousands of children, an error
body of deeply nested JSON, labels with lone surrogates or 100,000 mirrors, and a
``Retry-After`` far beyond ``--timeout``. Each ends in a clean result; the peak memory of
each bomb or oversize run is measured with tracemalloc (the CLI runs in-process) and must
stay far below the 300 MB the issue allows.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_support import Result, builder_toml, endpoints, inspector, isolate
from fault_proxy import CORRUPT, RESPOND, TRICKLE, FaultProxy
from test_builder_image import builder_metadata, push_builder

from devtools.localregistry import MANIFEST_ACCEPT, RegistryProcess, push_image, registry_client

RegistryFactory = Callable[..., RegistryProcess]
BUILDER = "registry.example.com/example/builder:jammy"
RUN = "registry.example.com/example/run:1.0"
MIRROR = "mirror.example.org/example/run:1.0"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
BOMB_SIZE = 512 * 1024 * 1024  # decoded; a few MB on the wire, 12 KB stacked
MEMORY_LIMIT = 300 * 1024 * 1024  # the bound for any of these runs


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(tmp_path, monkeypatch)


@pytest.fixture
def front(registry: RegistryProcess) -> Iterator[FaultProxy]:
    with FaultProxy(registry.host) as proxy:
        yield proxy


def _gzip(chunks: Iterator[bytes] | list[bytes], level: int) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, 31)
    return b"".join([*(packer.compress(c) for c in chunks), packer.flush()])


@functools.cache
def gzip_bomb() -> bytes:
    """One gzip member inflating to BOMB_SIZE zero bytes (~2 MB)."""
    zeros = bytes(16 * 1024 * 1024)
    return _gzip((zeros for _ in range(BOMB_SIZE // len(zeros))), 1)


@functools.cache
def stacked_bomb() -> bytes:
    """gzip(gzip(zeros)): ~6 KB on the wire (``Content-Encoding: gzip, gzip``)."""
    return _gzip([gzip_bomb()], 9)


def measured(run: Callable[[], Result]) -> tuple[Result, int]:
    """The result and the peak of Python allocations while it ran."""
    tracemalloc.start()
    try:
        result = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"peak {peak / 2**20:.1f} MiB")
    return result, peak


def builder_image(
    capsys: pytest.CaptureFixture[str], proxy: FaultProxy, *extra: str
) -> tuple[Result, int]:
    flags = endpoints(registry_example_com=proxy.url)
    return measured(lambda: inspector(capsys, "builder", BUILDER, *flags, *extra))


# --- gzip bombs --------------------------------------------------------------------------------


def test_a_stacked_gzip_bomb_manifest_ends_in_a_clean_error(
    registry: RegistryProcess, front: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    push_builder(registry, builder_metadata())
    headers = {"Content-Type": OCI_MANIFEST, "Content-Encoding": "gzip, gzip"}
    front.add(RESPOND, method="GET", path="/manifests/", headers=headers, body=stacked_bomb())

    result, peak = builder_image(capsys, front)

    assert len(stacked_bomb()) < 16 * 1024
    assert result.code == 2
    assert "manifest larger than 4194304 bytes" in result.err
    assert peak < MEMORY_LIMIT, peak
    assert peak < 64 * 1024 * 1024, peak  # the decoder's steps are small, not just < 300 MB


@pytest.mark.parametrize("status", [401, 307])
def test_a_gzip_bomb_in_a_401_or_redirect_body_is_read_with_a_cap(
    status: int,
    registry: RegistryProcess,
    front: FaultProxy,
    capsys: pytest.CaptureFixture[str],
) -> None:
    push_builder(registry, builder_metadata())
    headers = {"Content-Encoding": "gzip", "WWW-Authenticate": 'Basic realm="x"'}
    if status == 307:  # to a path the registry does not know: httpx reads this body itself
        headers = {"Content-Encoding": "gzip", "Location": "/v2/elsewhere/manifests/x"}
    front.add(
        RESPOND,
        method="GET",
        path="/builder/manifests/",
        status=status,
        headers=headers,
        body=gzip_bomb(),
    )

    result, peak = builder_image(capsys, front)

    assert result.code == 2
    assert ("access denied" if status == 401 else "not found") in result.err
    assert peak < MEMORY_LIMIT, peak


def test_a_gzip_bomb_answering_a_write_is_never_read(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source, mirror = registry_factory(), registry_factory()
    pushed = push_image(source.url, "example/run", "1.0")
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    with FaultProxy(mirror.host) as hostile:
        headers = {"Content-Encoding": "gzip"}
        hostile.add(CORRUPT, method="PUT", headers=headers, body=gzip_bomb())
        hostile.add(CORRUPT, method="POST", status=202, headers=headers, body=gzip_bomb())
        flags = endpoints(registry_example_com=source, mirror_example_org=hostile.url)
        result, peak = measured(lambda: inspector(capsys, "sync", "-c", str(builder), *flags))

    assert result.code == 0, result.out
    assert "verified" in result.out
    assert peak < MEMORY_LIMIT, peak
    with registry_client() as client:
        head = client.head(
            f"{mirror.url}/v2/example/run/manifests/1.0", headers={"Accept": MANIFEST_ACCEPT}
        )
    assert head.headers["docker-content-digest"] == pushed.digest


# --- a trickled config blob is cut like a manifest ---------------------------------------------


def test_a_trickled_config_blob_is_cut_at_the_ceiling(
    registry: RegistryProcess, front: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    push_builder(registry, builder_metadata())
    # One byte every 0.1 s: every read is within --timeout, the whole never is.
    front.add(TRICKLE, method="GET", path="/blobs/sha256:", seconds=0.1)

    started = time.monotonic()
    result, _ = builder_image(capsys, front, "--timeout", "0.3")
    elapsed = time.monotonic() - started

    assert result.code == 2
    assert "timed out: config blob not complete in 0.9 s" in result.err
    assert elapsed < 5, elapsed


# --- sync's index fan-out: deduplicated and capped ---------------------------------------------


def _serve_index(proxy: FaultProxy, children: list[str], *, tag: bool = True) -> str:
    """Make ``example/run:1.0`` (or, without ``tag``, only its digest) an index listing
    ``children`` (which need not exist)."""
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": d, "size": 100, "platform": {"os": "linux"}}
            for d in children
        ],
    }
    body = json.dumps(document).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    headers = {"Content-Type": OCI_INDEX, "Docker-Content-Digest": digest}
    path = f"/v2/example/run/manifests/(1.0|{digest})$" if tag else f"/manifests/{digest}$"
    proxy.add(RESPOND, path=path, headers=headers, body=body)
    return digest


def _child(i: int) -> str:
    return "sha256:" + hashlib.sha256(str(i).encode()).hexdigest()


def test_sync_reads_each_child_of_an_index_once(
    registry_factory: RegistryFactory,
    front: FaultProxy,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    mirror = registry_factory()
    children = [_child(i % 3) for i in range(3000)]  # 3 distinct, each listed 1,000 times
    _serve_index(front, children)
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    flags = endpoints(registry_example_com=front.url, mirror_example_org=mirror)

    result, peak = measured(lambda: inspector(capsys, "sync", "-c", str(builder), *flags, "--json"))

    assert result.code == 1
    assert peak < MEMORY_LIMIT, peak
    assert "reading the run image" in result.json()["mirrors"][0]["detail"]
    child_gets = [
        r.path for r in front.seen("GET", "/manifests/sha256:") if _child(0)[7:] in r.path
    ]
    # Once in the whole run (the verdicts and the copy share reads by digest): not 1,000.
    assert len(child_gets) <= 1
    assert len(front.seen("GET", "/manifests/sha256:")) <= 4  # the index and 3 children


def test_sync_refuses_an_index_with_too_many_children(
    registry_factory: RegistryFactory,
    front: FaultProxy,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    mirror = registry_factory()
    digest = _serve_index(front, [_child(i) for i in range(2000)])
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    flags = endpoints(registry_example_com=front.url, mirror_example_org=mirror)

    result, peak = measured(lambda: inspector(capsys, "sync", "-c", str(builder), *flags, "--json"))

    assert result.code == 1
    assert peak < MEMORY_LIMIT, peak
    detail = result.json()["mirrors"][0]["detail"]
    assert "index lists 2000 distinct manifests; more than 1024 is refused" in detail
    # Only the index is read, once (the verdicts and the copy share it), never a child.
    assert [r.path for r in front.seen("GET", "/manifests/sha256:")] == [
        f"/v2/example/run/manifests/{digest}"
    ]


def _serve_image(proxy: FaultProxy, i: int) -> str:
    """Serve a small image manifest (only the manifest: sync reads no blob to plan)."""
    config = {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2}
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {**config, "digest": _child(i)},
        "layers": [],
    }
    body = json.dumps(document).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    headers = {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": digest}
    proxy.add(RESPOND, path=f"/manifests/{digest}$", headers=headers, body=body)
    return digest


def test_sync_caps_the_fan_out_of_an_index_of_indexes_as_a_whole(
    registry_factory: RegistryFactory,
    front: FaultProxy,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    mirror = registry_factory()
    # Two child indexes of 600 distinct manifests each: each alone is under the cap.
    first = _serve_index(front, [_serve_image(front, i) for i in range(600)], tag=False)
    second = _serve_index(front, [_child(i) for i in range(600, 1200)], tag=False)
    _serve_index(front, [first, second])
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    flags = [
        *endpoints(registry_example_com=front.url, mirror_example_org=mirror),
        "--timeout",
        "30",
    ]

    result = inspector(capsys, "sync", "-c", str(builder), *flags, "--json")

    assert result.code == 1
    detail = result.json()["mirrors"][0]["detail"]
    assert "index lists 1202 distinct manifests; more than 1024 is refused" in detail
    # The index, its two indexes and the first one's 600 images; none of the second's.
    # The index, its two indexes (read once, shared by the verdicts and the copy) and the
    # first one's 600 images; none of the second's.
    assert len(front.seen("GET", "/manifests/sha256:")) == 603


# --- hostile error bodies and labels -----------------------------------------------------------


def test_an_error_body_of_deeply_nested_json_is_not_a_crash(
    registry_factory: RegistryFactory, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source, mirror = registry_factory(), registry_factory()
    push_image(source.url, "example/run", "1.0")
    builder = builder_toml(tmp_path, (RUN, [MIRROR]))
    with FaultProxy(mirror.host) as hostile:
        nested = b'{"errors": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
        hostile.add(RESPOND, method="POST", status=400, body=nested)
        flags = endpoints(registry_example_com=source, mirror_example_org=hostile.url)
        result, peak = measured(
            lambda: inspector(capsys, "sync", "-c", str(builder), *flags, "--json")
        )

    assert result.code == 1
    assert peak < MEMORY_LIMIT, peak
    assert result.json()["mirrors"][0]["detail"] == "POST blob upload: HTTP 400"


def test_a_lone_surrogate_in_a_label_is_not_a_crash(
    registry: RegistryProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    metadata = builder_metadata(mirrors=("mirror.example.org/example/run",))
    metadata["description"] = "jammy \ud800 builder"
    metadata["buildpacks"][0]["id"] = "example/\udfffnode"
    # json.dumps writes the surrogates as \ud800 escapes, which json.loads gives back as is.
    push_builder(registry, json.dumps(metadata))

    table = inspector(capsys, "builder", BUILDER, *endpoints(registry_example_com=registry))
    as_json = inspector(
        capsys, "builder", BUILDER, *endpoints(registry_example_com=registry), "--json"
    )

    assert table.code == 0, table.err
    assert "jammy \ufffd builder" in table.out
    assert as_json.code == 0, as_json.err
    assert "\ud800" not in as_json.out


def test_a_label_with_100000_mirrors_is_refused_above_the_cap(
    registry: RegistryProcess, front: FaultProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    mirrors = tuple(f"m{i}.example.com/example/run" for i in range(100_000))
    push_builder(registry, builder_metadata(mirrors=mirrors))

    started = time.monotonic()
    flags = ["--builder", BUILDER, *endpoints(registry_example_com=front.url)]
    result, peak = measured(lambda: inspector(capsys, "mirrors", *flags))
    elapsed = time.monotonic() - started

    assert result.code == 2
    assert "200002 run images and mirrors; more than 1000 is refused" in result.err
    assert len(front.requests) <= 4  # ping, manifest, config blob: no 100,000 probes
    assert peak < MEMORY_LIMIT, peak
    assert elapsed < 20, elapsed


# --- time bounds -------------------------------------------------------------------------------


def test_retry_after_is_capped_by_the_timeout(
    registry: RegistryProcess,
    front: FaultProxy,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    push_image(registry.url, "example/run", "1.0")
    front.add(RESPOND, method="HEAD", status=503, headers={"Retry-After": "30"}, body=b"")
    builder = builder_toml(tmp_path, (RUN, []))
    flags = ["-c", str(builder), *endpoints(registry_example_com=front.url), "--timeout", "0.5"]

    started = time.monotonic()
    result = inspector(capsys, "check", "registry.example.com/acme/app", *flags, "--json")
    elapsed = time.monotonic() - started

    assert len(front.seen("HEAD")) == 3  # retried, as Retry-After asks ...
    assert elapsed < 0.5 * 2 + 2.5, elapsed  # ... but each wait at most --timeout, not 10 s
    assert result.json()["candidates"][0]["status"] == "error"


def test_hung_candidates_beyond_the_concurrency_cost_one_timeout_per_wave(
    registry: RegistryProcess,
    front: FaultProxy,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The README's formula, measured: N hung requests at concurrency C cost
    ceil(N / C) x --timeout (here 6 at 2: three waves of 0.4 s)."""
    front.add("hang", method="HEAD", path="/manifests/")
    mirrors = [f"registry.example.com/example/run:{i}" for i in range(1, 6)]
    builder = builder_toml(tmp_path, ("registry.example.com/example/run:0", mirrors))
    flags = ["-c", str(builder), *endpoints(registry_example_com=front.url)]

    started = time.monotonic()
    result = inspector(
        capsys, "mirrors", *flags, "--timeout", "0.4", "--concurrency", "2", "--json"
    )
    elapsed = time.monotonic() - started

    statuses = {m["status"] for m in result.json()["run_images"][0]["mirrors"]}
    assert statuses == {"unreachable"}
    assert 3 * 0.4 <= elapsed < 3 * 0.4 + 2.0, elapsed
