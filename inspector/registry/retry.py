"""What is retried, and how long to wait: the one retry policy, for registry requests
(through :func:`send_with_retries`) and token requests (the auth flow asks
:func:`should_retry` and :func:`delay` between the requests it yields).

Only reads (GET, HEAD) are retried, a bounded number of times, on 429, 502-504 and a
dropped connection (a reset, a keep-alive connection the server closed). A refused
connection, a TLS failure or a timeout is not retried: that would only multiply the time
a dead registry costs. The wait is the registry's ``Retry-After`` (seconds; capped by
``RETRY_AFTER_CAP`` and the timeout), else an exponential backoff with jitter, as
go-containerregistry's ``retry.go`` does.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import httpx

RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_ATTEMPTS = 3
RETRY_AFTER_CAP = 10.0  # seconds: honour Retry-After, but never longer than this or --timeout
BACKOFF_INITIAL = 0.2
BACKOFF_MAX = 2.0
RETRY_ERRORS = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
IDEMPOTENT = frozenset({"GET", "HEAD"})


def should_retry(method: str, response: httpx.Response, attempt: int) -> bool:
    """Is ``response`` to attempt number ``attempt`` (from 1) worth another one?"""
    return (
        method in IDEMPOTENT and response.status_code in RETRY_STATUSES and attempt < RETRY_ATTEMPTS
    )


def delay(attempt: int, response: httpx.Response | None, timeout: float) -> float:
    """Seconds to wait after attempt ``attempt`` (from 1) got ``response`` (``None``: a
    dropped connection)."""
    if response is not None:
        asked = retry_after(response)
        if asked is not None:
            return min(asked, RETRY_AFTER_CAP, timeout)
    backoff = min(BACKOFF_MAX, BACKOFF_INITIAL * 2.0 ** (attempt - 1))
    return backoff + random.uniform(0, BACKOFF_INITIAL)


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds; ``None`` for none, an HTTP-date or no number."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff
    return max(0.0, seconds) if seconds == seconds else None  # NaN is no number of seconds


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]], method: str, timeout: float
) -> httpx.Response:
    """``send()`` once, or up to ``RETRY_ATTEMPTS`` times for a read; the last answer is
    returned (it becomes a status) and the last error raised."""
    attempt = 1
    while True:
        try:
            response = await send()
        except RETRY_ERRORS:
            if method not in IDEMPOTENT or attempt >= RETRY_ATTEMPTS:
                raise
            await asyncio.sleep(delay(attempt, None, timeout))
        else:
            if not should_retry(method, response, attempt):
                return response
            await asyncio.sleep(delay(attempt, response, timeout))
        attempt += 1
