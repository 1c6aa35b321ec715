"""What ``--referrers`` costs: requests and time of ``inspector mirrors`` with and without it.

One signed run image (cosign ``.sig`` and ``.att``, one OCI referrer under the fallback tag)
on one ``docker-registry``, N mirrors holding the image but none of its attachments on a
second one. Requests are counted from the registries' access logs on loopback; times are
medians of interleaved runs behind ``bench/latency_proxy.py``. Then ``sync --referrers``
twice (the second run must write nothing)::

    python bench/referrers.py --mirrors 10 --runs 11 --delay 0.02
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devtools import cosign
from devtools.localregistry import RegistryProcess, push_image

INSPECTOR = [sys.executable, "-m", "inspector"]
AGENT = "inspector/"


def _requests(*registries: RegistryProcess) -> int:
    return sum(
        1 for r in registries for e in r.access_log_lines() if e.user_agent.startswith(AGENT)
    )


def _writes(registry: RegistryProcess) -> int:
    return sum(
        1
        for e in registry.access_log_lines()
        if e.user_agent.startswith(AGENT) and e.method in ("POST", "PUT", "PATCH", "DELETE")
    )


def _run(args: list[str]) -> tuple[int, float]:
    start = time.perf_counter()
    done = subprocess.run([*INSPECTOR, *args], capture_output=True, check=False)
    return done.returncode, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", type=int, default=10)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--delay", type=float, default=0.02, help="one-way delay, seconds")
    options = parser.parse_args(argv)

    with RegistryProcess() as source, RegistryProcess() as mirror:
        image = push_image(source.url, "example/run", "1.0", oci=True)
        cosign.push_signature(source.url, "example/run", image.digest)
        cosign.push_attestation(source.url, "example/run", image.digest)
        subject = cosign.image_subject(image.manifest, image.media_type)
        cosign.push_referrer(source.url, "example/run", subject)
        names = []
        for i in range(options.mirrors):
            push_image(mirror.url, f"example/run-{i}", "1.0", oci=True)
            names.append(f'"mirror.example.org/example/run-{i}:1.0"')
        builder = Path(tempfile.mkdtemp()) / "builder.toml"
        builder.write_text(
            '[[run.images]]\nimage = "registry.example.com/example/run:1.0"\n'
            f"mirrors = [{', '.join(names)}]\n"
        )

        def flags(source_url: str, mirror_url: str) -> list[str]:
            return [
                "-c",
                str(builder),
                "--no-pack-config",
                "--json",
                "--endpoint",
                f"registry.example.com={source_url}",
                "--endpoint",
                f"mirror.example.org={mirror_url}",
            ]

        direct = flags(source.url, mirror.url)
        for extra in ([], ["--referrers"]):
            before = _requests(source, mirror)
            _run(["mirrors", *direct, *extra])
            print(f"mirrors {' '.join(extra):12} {_requests(source, mirror) - before} requests")

        proxy = subprocess.Popen(
            [
                sys.executable,
                "bench/latency_proxy.py",
                "--delay",
                str(options.delay),
                source.host,
                mirror.host,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proxy.stdout is not None
            ports = dict(proxy.stdout.readline().split()[1:] for _ in range(2))
            far = flags(
                f"http://127.0.0.1:{ports[source.host]}", f"http://127.0.0.1:{ports[mirror.host]}"
            )
            times: dict[str, list[float]] = {"without": [], "--referrers": []}
            for _ in range(options.runs):
                times["without"].append(_run(["mirrors", *far])[1])
                times["--referrers"].append(_run(["mirrors", *far, "--referrers"])[1])
            rtt = 2 * options.delay * 1000
            for label, values in times.items():
                print(
                    f"+{rtt:.0f} ms  mirrors {label:12} median {statistics.median(values):.3f} s"
                    f"  min {min(values):.3f} s"
                )
            for attempt in ("first", "again"):
                before, written = _requests(source, mirror), _writes(mirror)
                code, seconds = _run(["sync", *far, "--referrers"])
                print(
                    f"+{rtt:.0f} ms  sync --referrers ({attempt}): exit {code}, {seconds:.2f} s, "
                    f"{_requests(source, mirror) - before} requests, "
                    f"{_writes(mirror) - written} writes"
                )
        finally:
            proxy.terminate()
            proxy.wait()


if __name__ == "__main__":
    main()
