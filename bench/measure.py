"""Timing child processes and counting what the registries saw while they ran."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from devtools.localregistry import RegistryProcess


class BenchError(RuntimeError):
    """A tool failed or gave a wrong answer: the numbers would mean nothing."""


@dataclass(frozen=True)
class Sample:
    seconds: float
    manifests: tuple[int, ...]  # manifest requests per registry during the run
    requests: tuple[int, ...]  # every request per registry during the run


@dataclass(frozen=True)
class Tool:
    name: str
    argv: Sequence[str]
    check: Callable[[subprocess.CompletedProcess[str]], None]
    stdin: str | None = None


class RequestCounter:
    """Per-registry counts from the access logs, as deltas between two snapshots."""

    def __init__(self, registries: Sequence[RegistryProcess]) -> None:
        self.registries = registries

    def snapshot(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        manifests = tuple(r.manifest_requests() for r in self.registries)
        requests = tuple(len(r.access_log_lines()) for r in self.registries)
        return manifests, requests


def run_once(tool: Tool, env: Mapping[str, str], counter: RequestCounter | None = None) -> Sample:
    before = counter.snapshot() if counter else ((), ())
    started = time.perf_counter()
    done = subprocess.run(
        list(tool.argv), input=tool.stdin, capture_output=True, text=True, env=dict(env)
    )
    seconds = time.perf_counter() - started
    after = counter.snapshot() if counter else ((), ())
    try:
        tool.check(done)
    except BenchError as error:
        tail = (done.stderr or "").strip().splitlines()[-5:]
        raise BenchError(f"{tool.name}: {error}\n  " + "\n  ".join(tail)) from None
    return Sample(
        seconds,
        tuple(a - b for a, b in zip(after[0], before[0], strict=True)),
        tuple(a - b for a, b in zip(after[1], before[1], strict=True)),
    )


def expect_exit_zero(done: subprocess.CompletedProcess[str]) -> None:
    if done.returncode != 0:
        raise BenchError(f"exit status {done.returncode}")


@dataclass(frozen=True)
class Summary:
    runs: int
    median: float
    low: float
    high: float
    manifests: tuple[int, ...]  # per registry, from the first run
    requests: tuple[int, ...]
    counts_stable: bool  # every run made the same requests

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> Summary:
        times = [s.seconds for s in samples]
        first = samples[0]
        stable = all(s.manifests == first.manifests for s in samples)
        return cls(
            len(samples),
            statistics.median(times),
            min(times),
            max(times),
            first.manifests,
            first.requests,
            stable,
        )
