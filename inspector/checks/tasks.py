"""Running a batch of requests together."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def gather_all(*awaitables: Awaitable[Any]) -> list[Any]:
    """Like gather, but the first failure cancels the rest before it propagates (no
    request of a failed batch is left running, nor its exception unretrieved)."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
