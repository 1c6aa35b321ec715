"""The oras-py peer: fetch each manifest in turn, in one Python process.

This is what a user would write with oras-py: one ``oras.provider.Registry`` (plain HTTP,
as the benchmark's loopback registries are) and a loop of ``get_manifest`` calls, which
share one ``requests`` session and so one keep-alive connection per registry.

    python bench/oras_loop.py REFS_FILE

Prints one JSON line: ``{"count": N, "loop_seconds": …}``; exits 1 on the first failure.
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: oras_loop.py REFS_FILE", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as handle:
        references = [line.strip() for line in handle if line.strip()]
    import oras.provider

    registry = oras.provider.Registry(insecure=True)
    started = time.perf_counter()
    for reference in references:
        manifest = registry.get_manifest(reference)
        if not isinstance(manifest, dict) or "schemaVersion" not in manifest:
            print(f"oras_loop: unexpected manifest for {reference}", file=sys.stderr)
            return 1
    elapsed = time.perf_counter() - started
    print(json.dumps({"count": len(references), "loop_seconds": elapsed}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
