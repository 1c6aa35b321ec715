"""``make bench`` (second part): what truthful verdicts cost, in requests.

Two real ``docker-registry`` processes: the run image on one, its mirrors on the other.

* N single-manifest mirrors: ``inspector mirrors`` must stay at N + 1 manifest HEADs plus
  one ping per registry (no GET, no child, no blob);
* an index with P platforms and M identical mirrors, default and ``--deep``: every
  request counted from the registries' access logs, next to the README's formula

      default: 2 pings + (M+1) top HEADs + 1 index GET + (M+1)·P child HEADs
      --deep:  default + P child GETs + (M+1)·B blob HEADs   (B distinct blobs, here 2·P)

Prints a table and writes ``.bench/cost.json``.

    python bench/cost.py [--singles 10,50] [--indexes 2x3,5x10,20x10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devtools.localregistry import RegistryProcess, push_image, push_index  # noqa: E402

OUT = ROOT / ".bench"
AGENT = "inspector/"


def builder(path: Path, image: str, mirrors: Sequence[str]) -> Path:
    path.write_text(
        f"[[run.images]]\nimage = {json.dumps(image)}\nmirrors = {json.dumps(list(mirrors))}\n"
    )
    return path


def run_inspector(
    config: Path, origin: RegistryProcess, mirror: RegistryProcess, *extra: str
) -> tuple[Counter[str], float]:
    before = {r: len(r.access_log_lines()) for r in (origin, mirror)}
    argv = [
        sys.executable, "-m", "inspector", "mirrors", "-c", str(config), "--no-pack-config",
        "--endpoint", f"registry.bench.test={origin.url}",
        "--endpoint", f"mirror.bench.test={mirror.url}",
        "--json", *extra,
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"inspector failed ({done.returncode}): {done.stdout[-400:]}{done.stderr}")
    kinds: Counter[str] = Counter()
    for registry in (origin, mirror):
        for entry in registry.access_log_lines()[before[registry] :]:
            if not entry.user_agent.startswith(AGENT):
                continue
            if entry.path == "/v2/":
                kinds["ping"] += 1
            elif "/blobs/" in entry.path:
                kinds[f"blob {entry.method}"] += 1
            else:
                kinds[f"manifest {entry.method}"] += 1
    return kinds, seconds


def singles(workdir: Path, count: int) -> dict[str, object]:
    with RegistryProcess() as origin, RegistryProcess() as mirror:
        push_image(origin.url, "example/run", "1.0", layer_seed="run")
        for i in range(count):
            push_image(mirror.url, f"m{i}/run", "1.0", layer_seed="run")
        config = builder(
            workdir / f"singles-{count}.toml",
            "registry.bench.test/example/run:1.0",
            [f"mirror.bench.test/m{i}/run:1.0" for i in range(count)],
        )
        kinds, seconds = run_inspector(config, origin, mirror)
    expected = Counter({"ping": 2, "manifest HEAD": count + 1})
    return {
        "scenario": f"{count} single-manifest mirrors",
        "flags": "",
        "requests": dict(kinds),
        "total": sum(kinds.values()),
        "formula": sum(expected.values()),
        "matches": kinds == expected,
        "seconds": round(seconds, 3),
    }


def indexes(workdir: Path, platforms: int, mirrors: int) -> list[dict[str, object]]:
    results = []
    with RegistryProcess() as origin, RegistryProcess() as mirror:
        repos = [(origin, "example/run")] + [(mirror, f"m{i}/run") for i in range(mirrors)]
        for registry, repo in repos:
            children = [
                push_image(registry.url, repo, None, oci=True, layer_seed=f"p{p}",
                           platform=("linux", f"arch{p}"))
                for p in range(platforms)
            ]  # fmt: skip
            push_index(registry.url, repo, "1.0", children)
        config = builder(
            workdir / f"index-{platforms}x{mirrors}.toml",
            "registry.bench.test/example/run:1.0",
            [f"mirror.bench.test/m{i}/run:1.0" for i in range(mirrors)],
        )
        for deep in (False, True):
            kinds, seconds = run_inspector(config, origin, mirror, *(["--deep"] if deep else []))
            repositories = mirrors + 1
            formula = 2 + repositories + 1 + repositories * platforms
            if deep:
                formula += platforms + repositories * 2 * platforms
            results.append(
                {
                    "scenario": f"index: {platforms} platforms, {mirrors} mirrors",
                    "flags": "--deep" if deep else "",
                    "requests": dict(kinds),
                    "total": sum(kinds.values()),
                    "formula": formula,
                    "matches": sum(kinds.values()) == formula,
                    "seconds": round(seconds, 3),
                }
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="request counts of inspector's verdicts")
    parser.add_argument("--singles", default="10,50", help="N values (single-manifest mirrors)")
    parser.add_argument("--indexes", default="2x3,5x10,20x10", help="PxM values")
    args = parser.parse_args(argv)
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        for count in (int(n) for n in args.singles.split(",") if n):
            rows.append(singles(workdir, count))
        for spec in (s for s in args.indexes.split(",") if s):
            platforms, mirrors = (int(n) for n in spec.split("x"))
            rows.extend(indexes(workdir, platforms, mirrors))
    print(f"{'scenario':38} {'flags':7} {'requests':>8} {'formula':>8}  {'s':>6}  by kind")
    for row in rows:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(row["requests"].items()))  # type: ignore[attr-defined]
        print(
            f"{row['scenario']:38} {row['flags']:7} {row['total']:>8} {row['formula']:>8}  "
            f"{row['seconds']:>6}  {kinds}"
        )
    OUT.mkdir(exist_ok=True)
    (OUT / "cost.json").write_text(json.dumps(rows, indent=2) + "\n")
    bad = [row for row in rows if not row["matches"]]
    if bad:
        print(f"{len(bad)} scenario(s) differ from the formula", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
