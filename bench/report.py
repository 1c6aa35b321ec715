"""The benchmark's plain-text table, its target verdicts and its JSON record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.measure import Summary

INSPECTOR = "inspector"
SKOPEO = "skopeo loop"
ORAS = "oras-py loop"
PROBE = "httpx probe"  # issue 7's reference: bench/httpx_probe.py
# Modules ``resolve`` must never import: it is offline and should start fast.
RESOLVE_MUST_NOT_IMPORT = ("httpx", "httpcore", "rich", "tenacity", "asyncio", "ssl")


@dataclass(frozen=True)
class Row:
    count: int
    network: str
    rtt: float  # nominal added round trip, seconds
    tool: str
    summary: Summary


@dataclass(frozen=True)
class ImportProfile:
    command: str
    seconds_by_package: dict[str, float]  # -X importtime self time, summed per package
    modules: frozenset[str]


@dataclass(frozen=True)
class Results:
    sizes: Sequence[int]
    rtt_measured_ms: dict[str, float]
    rows: Sequence[Row]
    startup: Sequence[tuple[str, Summary]]
    imports: Sequence[ImportProfile]
    seed_seconds: float
    total_seconds: float
    cpus: int
    load: tuple[float, float]  # 1-minute load average before and after the timed runs


def _find(rows: Sequence[Row], count: int, network: str, tool: str) -> Row | None:
    for row in rows:
        if (row.count, row.network, row.tool) == (count, network, tool):
            return row
    return None


def ratio(rows: Sequence[Row], count: int, network: str, tool: str) -> float | None:
    """How many times longer ``tool`` took than inspector (medians of the same run)."""
    mine = _find(rows, count, network, INSPECTOR)
    theirs = _find(rows, count, network, tool)
    if mine is None or theirs is None:
        return None
    return theirs.summary.median / mine.summary.median


def _table(header: Sequence[str], lines: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    widths = [len(h) for h in header]
    for line in lines:
        widths = [max(w, len(cell)) for w, cell in zip(widths, line, strict=True)]
    out = []
    for line in [header, *lines]:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return out


def _counts(values: tuple[int, ...]) -> str:
    return f"{sum(values)} ({'+'.join(str(v) for v in values)})"


def render(results: Results) -> str:
    out = [
        "inspector benchmark: N images in N repositories on 2 docker-registry processes "
        "(127.0.0.1),",
        "as one run image + N-1 mirrors; every tool fetches/probes all N manifests.",
        f"Machine: {results.cpus} CPU(s), load average {results.load[0]:.2f} before and "
        f"{results.load[1]:.2f} after the timed runs.",
        "Measured GET /v2/ round trip: "
        + ", ".join(f"{k} {v:.1f} ms" for k, v in results.rtt_measured_ms.items())
        + ".",
        "Times are wall-clock seconds for the whole job, process start-up included;",
        "'x inspector' = tool median / inspector median (same run). Requests are per run,",
        "from the registries' access logs (A+B); 'all' includes /v2/ pings.",
        "",
    ]
    header = [
        "N",
        "network",
        "tool",
        "runs",
        "median s",
        "min s",
        "max s",
        "x inspector",
        "manifest req",
        "all req",
    ]
    lines = []
    for row in results.rows:
        s = row.summary
        x = ratio(results.rows, row.count, row.network, row.tool)
        lines.append(
            [
                str(row.count),
                row.network,
                row.tool,
                str(s.runs),
                f"{s.median:.3f}",
                f"{s.low:.3f}",
                f"{s.high:.3f}",
                "-" if x is None else f"{x:.1f}x",
                _counts(s.manifests) + ("" if s.counts_stable else " (varied)"),
                _counts(s.requests),
            ]
        )
    out += _table(header, lines, right={0, 3, 4, 5, 6, 7})
    spent = round_trips(results.rows)
    if spent:
        out.append(
            "inspector's cost of the added latency, (median far - median loopback) / nominal "
            "RTT: " + ", ".join(f"N={count}: {value:.1f} RTT" for count, value in spent)
        )
    out += ["", "Start-up (cold process, median of runs):"]
    start_lines = [
        [label, str(s.runs), f"{1000 * s.median:.0f} ms", f"{1000 * s.low:.0f} ms"]
        for label, s in results.startup
    ]
    out += _table(["command", "runs", "median", "min"], start_lines, right={1, 2, 3})
    out += ["", "Import time by package (python -X importtime, self time summed):"]
    for profile in results.imports:
        top = sorted(profile.seconds_by_package.items(), key=lambda kv: -kv[1])[:8]
        total = sum(profile.seconds_by_package.values())
        out.append(
            f"  inspector {profile.command}: {1000 * total:.0f} ms: "
            + ", ".join(f"{name} {1000 * sec:.0f}" for name, sec in top)
        )
    out += ["", "Targets (issue 7):"]
    out += [f"  {line}" for line in targets(results)]
    out += [
        "",
        f"Seeding {max(results.sizes)} images took {results.seed_seconds:.1f} s; "
        f"whole benchmark {results.total_seconds:.0f} s.",
    ]
    return "\n".join(out)


def round_trips(rows: Sequence[Row]) -> list[tuple[int, float]]:
    """Per N: how many added round trips inspector's run took longer behind the proxy."""
    networks = list(dict.fromkeys(row.network for row in rows))
    spent = []
    for count in sorted({row.count for row in rows}):
        near = _find(rows, count, networks[0], INSPECTOR)
        far = _find(rows, count, networks[-1], INSPECTOR)
        if near is not None and far is not None and far.rtt > 0:
            spent.append((count, (far.summary.median - near.summary.median) / far.rtt))
    return spent


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def targets(results: Results) -> list[str]:
    rows = results.rows
    networks = list(dict.fromkeys(row.network for row in rows))
    local, far = networks[0], networks[-1]
    lines = []
    x = ratio(rows, 50, local, SKOPEO)
    if x is not None:
        lines.append(f"{_verdict(x >= 2.5)}  N=50 {local}: {x:.1f}x faster than skopeo (>= 2.5x)")
    xs, xo = ratio(rows, 50, far, SKOPEO), ratio(rows, 50, far, ORAS)
    if xs is not None and xo is not None:
        lines.append(
            f"{_verdict(xs >= 25 and xo >= 6)}  N=50 {far}: {xs:.1f}x skopeo (>= 25x), "
            f"{xo:.1f}x oras-py (>= 6x)"
        )
    near, distant = _find(rows, 50, local, INSPECTOR), _find(rows, 50, far, INSPECTOR)
    if near is not None and distant is not None and distant.rtt > 0:
        # A round trip as the proxy really delivers it (nominal + proxy and registry time).
        rtt = results.rtt_measured_ms.get(far, 1000 * distant.rtt) / 1000
        budget = near.summary.median + 3 * rtt
        used = (distant.summary.median - near.summary.median) / rtt
        lines.append(
            f"{_verdict(distant.summary.median <= budget)}  N=50 {far}: inspector "
            f"{distant.summary.median:.3f} s vs start-up (N=50 loopback run, "
            f"{near.summary.median:.3f} s) + 3 measured RTT ({1000 * rtt:.1f} ms) = "
            f"{budget:.3f} s; it spent {used:.1f} round trips"
        )
    big = max(results.sizes)
    for tool in (SKOPEO, ORAS):
        small_x, big_x = ratio(rows, 50, far, tool), ratio(rows, big, far, tool)
        if small_x is not None and big_x is not None and big != 50:
            lines.append(
                f"{_verdict(big_x > small_x)}  N={big} {far}: {big_x:.1f}x {tool} "
                f"(N=50: {small_x:.1f}x; grows {big_x / small_x:.2f}x)"
            )
    exact = [
        row
        for row in rows
        if row.tool == INSPECTOR
        and (sum(row.summary.manifests) != row.count or not row.summary.counts_stable)
    ]
    lines.append(
        f"{_verdict(not exact)}  inspector manifest requests == N in every scenario"
        + ("" if not exact else ": " + ", ".join(f"N={r.count} {r.network}" for r in exact))
    )
    for profile in results.imports:
        if profile.command == "resolve":
            bad = sorted(m for m in profile.modules if m.split(".")[0] in RESOLVE_MUST_NOT_IMPORT)
            tops = sorted({m.split(".")[0] for m in bad})
            lines.append(
                f"{_verdict(not bad)}  resolve imports none of "
                f"{', '.join(RESOLVE_MUST_NOT_IMPORT)}"
                + ("" if not bad else f" (imports {', '.join(tops)})")
            )
    return lines


def as_json(results: Results) -> dict[str, Any]:
    def summary(s: Summary) -> dict[str, Any]:
        return {
            "runs": s.runs,
            "median_s": s.median,
            "min_s": s.low,
            "max_s": s.high,
            "manifest_requests": list(s.manifests),
            "requests": list(s.requests),
            "counts_stable": s.counts_stable,
        }

    return {
        "cpus": results.cpus,
        "load": list(results.load),
        "rtt_measured_ms": results.rtt_measured_ms,
        "rows": [
            {
                "n": row.count,
                "network": row.network,
                "tool": row.tool,
                **summary(row.summary),
                "x_inspector": ratio(results.rows, row.count, row.network, row.tool),
            }
            for row in results.rows
        ],
        "startup": [{"command": label, **summary(s)} for label, s in results.startup],
        "imports": [
            {"command": p.command, "seconds_by_package": p.seconds_by_package}
            for p in results.imports
        ],
        "targets": targets(results),
        "seed_seconds": results.seed_seconds,
        "total_seconds": results.total_seconds,
    }
