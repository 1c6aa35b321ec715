"""``make bench``: inspector side by side with a skopeo loop and an oras-py loop.

Two real ``docker-registry`` processes on 127.0.0.1 hold N images in N repositories
(alternating between the registries). A builder.toml lists them as one run image with
N-1 mirrors, under logical registry names mapped to the real ports with ``--endpoint``.
Each tool answers "which of these N manifests exist, and with which digest":

* ``inspector mirrors -c builder.toml --json`` — one process, cold start included;
* a sequential shell loop of ``skopeo inspect --raw --tls-verify=false docker://REF``;
* a sequential loop of oras-py ``Registry.get_manifest`` in one Python process
  (``bench/oras_loop.py``, cold start included);

first on raw loopback, then behind ``bench/latency_proxy.py`` (+20 ms each way). The
registries' access logs give the requests each tool made. Results go to stdout and to
``.bench/results.txt`` / ``.bench/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make devtools and bench importable
    sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.measure import (  # noqa: E402
    BenchError,
    RequestCounter,
    Sample,
    Summary,
    Tool,
    expect_exit_zero,
    run_once,
)
from devtools.localregistry import (  # noqa: E402
    RegistryNotFoundError,
    RegistryProcess,
    push_image,
)
from devtools.service import terminate  # noqa: E402

LOGICAL = ("registry-a.bench.test", "registry-b.bench.test")
OUT = ROOT / ".bench"
TAG = "latest"


@dataclass(frozen=True)
class Network:
    label: str  # "loopback" or "+40 ms"
    rtt: float  # nominal added round trip, seconds
    hosts: tuple[str, ...]  # HOST:PORT per registry (the registry itself or its proxy)


# -- setup --------------------------------------------------------------------------------


def ensure_skopeo() -> str:
    found = shutil.which("skopeo")
    if found:
        return found
    print("skopeo missing: apt-get install -y skopeo", file=sys.stderr)
    apt = ["apt-get", "install", "-y", "-qq", "skopeo"]
    if os.geteuid() != 0:
        apt.insert(0, "sudo")
    subprocess.run(apt, check=False)
    found = shutil.which("skopeo")
    if not found:
        raise SystemExit("bench: could not install skopeo (apt-get install -y skopeo)")
    return found


def repository(index: int) -> str:
    return f"bench/app-{index:03d}"


def seed(registries: Sequence[RegistryProcess], count: int) -> str:
    """Push the same small image to ``count`` repositories, alternating registries,
    so every mirror is in sync with the run image. Returns its digest."""

    def push(index: int) -> str:
        registry = registries[index % len(registries)]
        return push_image(registry.url, repository(index), TAG, layer_seed="bench").digest

    with ThreadPoolExecutor(max_workers=8) as pool:
        digests = set(pool.map(push, range(count)))
    if len(digests) != 1:
        raise BenchError(f"seeding gave {len(digests)} digests, expected one")
    return digests.pop()


def start_proxy(
    stack: ExitStack, hosts: Sequence[str], delay: float, handshake: bool
) -> tuple[str, ...]:
    """The latency proxy as a process of its own; returns HOST:PORT per target."""
    options = ["--delay", str(delay), *(["--handshake"] if handshake else [])]
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "latency_proxy.py"), *options, *hosts],
        stdout=subprocess.PIPE,
        text=True,
    )

    stack.callback(terminate, process)
    assert process.stdout is not None
    ports: dict[str, str] = {}
    for _ in hosts:
        words = process.stdout.readline().split()
        if len(words) != 3 or words[0] != "LISTEN":
            raise BenchError(f"latency proxy did not start (said {words!r})")
        ports[words[1]] = words[2]
    return tuple(f"127.0.0.1:{ports[host]}" for host in hosts)


def measured_rtt(host: str, samples: int = 15) -> float:
    """Median ``GET /v2/`` round trip on one kept-alive connection."""
    import httpx

    times = []
    with httpx.Client() as client:
        client.get(f"http://{host}/v2/")
        for _ in range(samples):
            started = time.perf_counter()
            client.get(f"http://{host}/v2/")
            times.append(time.perf_counter() - started)
    return statistics.median(times)


# -- the three tools -----------------------------------------------------------------------


def real_refs(network: Network, count: int) -> list[str]:
    hosts = network.hosts
    return [f"{hosts[i % len(hosts)]}/{repository(i)}:{TAG}" for i in range(count)]


def write_builder(count: int) -> Path:
    """One run image and ``count - 1`` mirrors under the logical registry names."""
    refs = [f"{LOGICAL[i % len(LOGICAL)]}/{repository(i)}:{TAG}" for i in range(count)]
    mirrors = "".join(f'  "{ref}",\n' for ref in refs[1:])
    path = OUT / f"builder-{count}.toml"
    path.write_text(f'[[run.images]]\nimage = "{refs[0]}"\nmirrors = [\n{mirrors}]\n')
    return path


def inspector_argv() -> list[str]:
    script = Path(sys.executable).parent / "inspector"
    return [str(script)] if script.exists() else [sys.executable, "-m", "inspector"]


def mirrors_args(network: Network, count: int, extra: Sequence[str] = ()) -> list[str]:
    """``inspector`` arguments for the job: logical names mapped to the network's ports."""
    endpoints = []
    for name, host in zip(LOGICAL, network.hosts, strict=True):
        endpoints += ["--endpoint", f"{name}=http://{host}"]
    builder = str(OUT / f"builder-{count}.toml")
    return ["mirrors", "-c", builder, "--no-pack-config", *endpoints, *extra, "--json"]


def inspector_tool(network: Network, count: int, extra: Sequence[str] = ()) -> Tool:
    argv = [*inspector_argv(), *mirrors_args(network, count, extra)]

    def check(done: subprocess.CompletedProcess[str]) -> None:
        expect_exit_zero(done)
        document = json.loads(done.stdout)
        group = document["run_images"][0]
        mirrors = group["mirrors"]
        good = [m for m in mirrors if m["status"] == "available" and m["in_sync"] is True]
        if group["status"] != "available" or len(good) != count - 1:
            raise BenchError(f"{len(good)} of {count - 1} mirrors available and in sync")

    name = "inspector" + (" " + " ".join(extra) if extra else "")
    return Tool(name, argv, check)


def skopeo_tool(skopeo: str, network: Network, count: int) -> Tool:
    # The references go in on stdin: the loop is plain sh, as a user would write it.
    loop = (
        'while read -r ref; do "$0" inspect --raw --tls-verify=false "docker://$ref" '
        ">/dev/null || exit 1; done"
    )
    refs = "".join(f"{ref}\n" for ref in real_refs(network, count))
    return Tool("skopeo loop", ["sh", "-c", loop, skopeo], expect_exit_zero, stdin=refs)


def refs_file(network: Network, count: int) -> Path:
    """The N real references, one per line, for the tools that read them from a file."""
    path = OUT / f"refs-{network.label.replace('+', '').replace(' ', '')}-{count}.txt"
    path.write_text("".join(f"{ref}\n" for ref in real_refs(network, count)))
    return path


def oras_tool(network: Network, count: int) -> Tool:
    path = refs_file(network, count)

    def check(done: subprocess.CompletedProcess[str]) -> None:
        expect_exit_zero(done)
        if json.loads(done.stdout.strip().splitlines()[-1])["count"] != count:
            raise BenchError("oras loop fetched the wrong number of manifests")

    argv = [sys.executable, str(ROOT / "bench" / "oras_loop.py"), str(path)]
    return Tool("oras-py loop", argv, check)


def httpx_probe_tool(network: Network, count: int) -> Tool:
    """Issue 7's reference: every HEAD at once from a quick httpx script."""
    path = refs_file(network, count)

    def check(done: subprocess.CompletedProcess[str]) -> None:
        expect_exit_zero(done)
        answer = json.loads(done.stdout)
        if answer["count"] != count or answer["digests"] != 1:
            raise BenchError(f"httpx probe: {answer}")

    argv = [sys.executable, str(ROOT / "bench" / "httpx_probe.py"), str(path)]
    return Tool(report.PROBE, argv, check)


# -- plan and run --------------------------------------------------------------------------


INSPECTOR_RUN_FACTOR = 3  # inspector runs are cheap: more of them steady its median


def runs_for(tool: str, count: int, runs: int, slow_runs: int) -> int:
    """More runs for inspector and the probe; fewer for the loops at N=200 (tens of
    seconds each)."""
    if tool.startswith("inspector") or tool == report.PROBE:
        return runs * INSPECTOR_RUN_FACTOR
    return runs if count < 200 else slow_runs


def measure(
    jobs: Sequence[tuple[Network, Tool]],
    env: dict[str, str],
    counter: RequestCounter,
    count: int,
    runs: int,
    slow_runs: int,
) -> dict[tuple[str, str], Summary]:
    """Every tool on every network, taking turns run by run, so drift on the machine
    (other work on it) hits them alike. Keyed by (network label, tool name)."""
    samples: dict[tuple[str, str], list[Sample]] = {(n.label, t.name): [] for n, t in jobs}
    for index in range(max(runs_for(t.name, count, runs, slow_runs) for _, t in jobs)):
        for network, tool in jobs:
            if index < runs_for(tool.name, count, runs, slow_runs):
                samples[network.label, tool.name].append(run_once(tool, env, counter))
    return {key: Summary.of(found) for key, found in samples.items()}


def resolve_args(count: int) -> list[str]:
    builder = str(OUT / f"builder-{count}.toml")
    return ["resolve", f"{LOGICAL[0]}/bench/app", "-c", builder, "--no-pack-config", "--json"]


def startup(env: dict[str, str], runs: int, count: int) -> list[tuple[str, Summary]]:
    python = sys.executable
    commands = [
        ("python -c pass", [python, "-c", "pass"]),
        ('python -c "import httpx"', [python, "-c", "import httpx"]),
        (f"inspector resolve (offline, N={count})", [*inspector_argv(), *resolve_args(count)]),
        ("inspector --help", [*inspector_argv(), "--help"]),
        ('python -c "import oras.provider"', [python, "-c", "import oras.provider"]),
        ("skopeo --version", [shutil.which("skopeo") or "skopeo", "--version"]),
    ]
    results = []
    for label, argv in commands:
        tool = Tool(label, argv, expect_exit_zero)
        run_once(tool, env)  # warm the page cache
        results.append((label, Summary.of([run_once(tool, env) for _ in range(runs)])))
    return results


def import_profile(argv: Sequence[str], env: dict[str, str]) -> report.ImportProfile:
    """``-X importtime`` of one inspector command: self time per top-level package."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "inspector", *argv],
        capture_output=True,
        text=True,
        env=env,
    )
    by_package: dict[str, float] = {}
    modules = set()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line.split("|")
        try:
            self_us = int(parts[0].split(":")[1])
        except ValueError:
            continue  # the header line
        module = parts[2].strip()
        modules.add(module)
        top = module.split(".")[0]
        by_package[top] = by_package.get(top, 0.0) + self_us / 1e6
    return report.ImportProfile(" ".join(argv[:1]), by_package, frozenset(modules))


def serve(networks: Sequence[Network], sizes: Sequence[int]) -> None:
    """Keep the registries and the proxy up for manual runs (e.g. under pyinstrument)."""
    print(f"export DOCKER_CONFIG={OUT / 'docker-config'}")
    for network in networks:
        for count in sizes:
            print(f"# N={count} {network.label}")
            print(" ".join(inspector_tool(network, count).argv))
    print("# serving until interrupted (^C or SIGTERM)", flush=True)
    stop = threading.Event()
    # A background job ignores SIGINT, so SIGTERM must also end it (and clean up).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="inspector vs skopeo vs oras-py")
    parser.add_argument("--sizes", default="10,50,200", help="comma-separated N values")
    parser.add_argument("--runs", type=int, default=5, help="runs per tool and scenario")
    parser.add_argument("--slow-runs", type=int, default=3, help="runs of the loops at N=200")
    parser.add_argument("--delay", type=float, default=0.02, help="proxy delay each way, s")
    parser.add_argument(
        "--handshake",
        action="store_true",
        help="the proxy also charges each new connection its TCP handshake round trip",
    )
    parser.add_argument(
        "--concurrency",
        action="append",
        default=[],
        help="also time inspector with --concurrency N (repeatable)",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="seed, print the inspector command per scenario (for profiling), wait for ^C/TERM",
    )
    args = parser.parse_args(argv)
    sizes = sorted({int(size) for size in args.sizes.split(",")})
    if not sizes or sizes[0] < 2:
        raise SystemExit("bench: every N must be at least 2 (a run image and a mirror)")

    OUT.mkdir(exist_ok=True)
    docker_config = OUT / "docker-config"  # empty: no credential helpers, for every tool
    docker_config.mkdir(exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INSPECTOR_", "REGISTRY_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    # Python tools start as they would after `pip install` (bytecode compiled once), even
    # where PYTHONDONTWRITEBYTECODE is set; the cache stays out of the source tree.
    env.update(
        {
            "DOCKER_CONFIG": str(docker_config),
            "NO_COLOR": "1",
            "PYTHONPYCACHEPREFIX": str(OUT / "pycache"),
        }
    )
    skopeo = ensure_skopeo()
    started = time.monotonic()

    with ExitStack() as stack:
        try:
            registries = [stack.enter_context(RegistryProcess()) for _ in LOGICAL]
        except RegistryNotFoundError as error:
            raise SystemExit(f"bench: {error}") from None
        seed_started = time.monotonic()
        seed(registries, max(sizes))
        seeded = time.monotonic() - seed_started
        for count in sizes:
            write_builder(count)
        raw = tuple(r.host for r in registries)
        delayed = start_proxy(stack, raw, args.delay, args.handshake)
        far = f"+{round(2000 * args.delay)} ms" + (" +handshake" if args.handshake else "")
        networks = [Network("loopback", 0.0, raw), Network(far, 2 * args.delay, delayed)]
        rtts = {n.label: measured_rtt(n.hosts[0]) for n in networks}
        counter = RequestCounter(registries)
        if args.serve:
            serve(networks, sizes)
            return 0
        load_before = os.getloadavg()[0]

        # One untimed round of each tool: page cache, skopeo's binary, Python's .pyc files.
        warm = networks[0]
        for tool in (
            inspector_tool(warm, sizes[0]),
            skopeo_tool(skopeo, warm, sizes[0]),
            oras_tool(warm, sizes[0]),
        ):
            run_once(tool, env)

        found: dict[tuple[int, str, str], Summary] = {}
        for count in sizes:
            jobs = [
                (network, tool)
                for network in networks
                for tool in (
                    inspector_tool(network, count),
                    *(
                        inspector_tool(network, count, ["--concurrency", c])
                        for c in args.concurrency
                    ),
                    httpx_probe_tool(network, count),
                    skopeo_tool(skopeo, network, count),
                    oras_tool(network, count),
                )
            ]
            summaries = measure(jobs, env, counter, count, args.runs, args.slow_runs)
            for (label, name), summary in summaries.items():
                found[count, label, name] = summary
            print(f"bench: N={count} done", file=sys.stderr, flush=True)
        rows = [
            report.Row(count, network.label, network.rtt, name, found[count, network.label, name])
            for network in networks
            for count in sizes
            for (n, label, name) in found
            if (n, label) == (count, network.label)
        ]

        typical = 50 if 50 in sizes else sizes[0]
        starts = startup(env, max(args.runs, 10), typical)
        profiles = [
            import_profile(resolve_args(typical), env),
            import_profile(mirrors_args(networks[0], typical), env),
        ]

    results = report.Results(
        sizes=sizes,
        rtt_measured_ms={label: 1000 * value for label, value in rtts.items()},
        rows=rows,
        startup=starts,
        imports=profiles,
        seed_seconds=seeded,
        total_seconds=time.monotonic() - started,
        cpus=os.cpu_count() or 0,
        load=(load_before, os.getloadavg()[0]),
    )
    text = report.render(results)
    print(text)
    (OUT / "results.txt").write_text(text + "\n")
    (OUT / "results.json").write_text(json.dumps(report.as_json(results), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as failure:
        print(f"bench: {failure}", file=sys.stderr)
        sys.exit(1)
