"""The reference probe of issue 7: a quick single file with httpx, asyncio and argparse.

Every manifest HEAD in flight at once on one ``httpx.AsyncClient`` (its default pool
allows 100 connections), no ping, no auth, no retries, no output formatting: the least
an httpx-based tool can do for the same answer, so the gap between it and inspector is
what inspector's own work costs. It gets the same start-up help inspector has
(httpx's command-line module kept out), so the comparison is of the rest.

    python bench/httpx_probe.py REFS_FILE

Prints one JSON line: ``{"count": N, "digests": D}`` (distinct digests); exits 1 if any
answer is not 200 with a digest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
import httpx  # noqa: E402

ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


async def probe(references: list[str]) -> list[tuple[int, str | None]]:
    async with httpx.AsyncClient() as client:

        async def head(reference: str) -> tuple[int, str | None]:
            host, _, rest = reference.partition("/")
            repository, _, tag = rest.rpartition(":")
            url = f"http://{host}/v2/{repository}/manifests/{tag}"
            response = await client.head(url, headers={"Accept": ACCEPT})
            return response.status_code, response.headers.get("docker-content-digest")

        return await asyncio.gather(*(head(reference) for reference in references))


def main() -> int:
    parser = argparse.ArgumentParser(description="HEAD every manifest at once")
    parser.add_argument("refs_file")
    args = parser.parse_args()
    with open(args.refs_file, encoding="utf-8") as handle:
        references = [line.strip() for line in handle if line.strip()]
    answers = asyncio.run(probe(references))
    if any(status != 200 or not digest for status, digest in answers):
        print("httpx_probe: a manifest was missing", file=sys.stderr)
        return 1
    print(json.dumps({"count": len(answers), "digests": len({d for _, d in answers})}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
