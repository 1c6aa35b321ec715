"""What a registry said about one reference, as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    AVAILABLE = "available"
    MISSING = "missing"
    UNAUTHORIZED = "unauthorized"
    UNREACHABLE = "unreachable"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text


@dataclass(frozen=True, slots=True)
class Probe:
    """The answer to "is this reference there, and which digest does it serve?".

    ``http_status`` is the final HTTP status (``None`` for a network or TLS failure);
    pack's access check counts a reference readable unless it got 401/403 or no answer.
    ``platforms`` maps each platform of an index to its child manifest digest, filled
    in only when a comparison needed it.
    """

    reference: str
    status: Status
    digest: str | None = None
    media_type: str | None = None
    detail: str | None = None
    http_status: int | None = None
    platforms: dict[str, str] = field(default_factory=dict)

    @property
    def readable_by_pack(self) -> bool:
        """pack's ``CheckReadAccess``: any answer but 401/403 counts as readable."""
        return self.http_status is not None and self.http_status not in (401, 403)
