"""Open files: a run never asks for more sockets than the process may open.

Every request in flight holds a socket, idle keep-alive connections hold theirs, and a
streamed blob holds two. Past ``RLIMIT_NOFILE`` the kernel refuses new sockets (EMFILE),
which looks like a network failure but is not one: a registry reported "unreachable"
for it would be a false finding. So at start the soft limit is raised to the hard one
(what the process may do by itself, as Go's runtime has done since Go 1.19), concurrency
is capped to what the rest allows, and an EMFILE that still happens ends the run with
an error naming the limit, never as a candidate's status.
"""

from __future__ import annotations

import errno
import os

from inspector.errors import InputError

# Files the process has open besides its sockets (stdio, the trust store, the
# credential helper's pipes, Python's own), and room for pings and token requests.
RESERVE = 24
# Where the hard limit is unlimited (macOS, some containers), ask for this much.
UNLIMITED_TARGET = 10240


_limit: int | None = None  # the soft limit found at start: no import once files run out


class TooManyOpenFiles(InputError):
    """The process ran out of file descriptors: an error of this run, not a registry's."""


def raise_soft_limit() -> int | None:
    """Raise the soft ``RLIMIT_NOFILE`` to the hard limit; the soft limit then in force
    (``None`` where the platform has no such limit)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):  # not allowed here: keep the soft limit
            pass
    global _limit
    _limit = None if soft == resource.RLIM_INFINITY else int(soft)
    return _limit


def open_count() -> int:
    """File descriptors open now (Linux and macOS list them; elsewhere a guess)."""
    for directory in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(directory)) - 1  # the listing's own descriptor
        except OSError:
            continue
    return 16


def cap_concurrency(requested: int, *, per_request: int = 2) -> int:
    """``requested``, lowered so that ``per_request`` descriptors for each request in
    flight (its socket, and an idle or second connection beside it) fit the limit."""
    limit = raise_soft_limit()
    if limit is None:
        return requested
    room = limit - open_count() - RESERVE
    return max(1, min(requested, room // per_request))


def is_exhausted(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is the kernel refusing a file descriptor."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen and len(seen) < 12:
        seen.append(current)
        if isinstance(current, OSError) and current.errno in (errno.EMFILE, errno.ENFILE):
            return True
        group = getattr(current, "exceptions", None)  # anyio/ExceptionGroup attempts
        if isinstance(group, (list, tuple)) and any(
            isinstance(e, BaseException) and is_exhausted(e) for e in group
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def exhausted_error() -> TooManyOpenFiles:
    shown = f"ulimit -n is {_limit}" if _limit is not None else "the open-file limit"
    return TooManyOpenFiles(
        f"too many open files ({shown}): lower --concurrency or raise the limit; "
        "no registry was judged on this"
    )
