"""``preflight``: is publishing APP_IMAGE with this builder safe?

It judges *pack's* pick under the online rule (``check``): pack counts any answer but
401/403 as readable, so it will pick a mirror that answers 404 and fail late at pull.
The push check writes nothing that stays: it starts a blob upload session in the app's
repository (``POST /v2/<repo>/blobs/uploads/``, the first step of every push, needing a
``push`` grant) and cancels it at once (``DELETE <Location>``). No blob, manifest or tag
is created. The cancel follows the client's one policy for a ``Location`` the registry
names (the same as ``sync``'s uploads): on the registry's own origin it carries the
credentials, on another origin none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import httpx

from inspector.checks.check import CheckReport, check
from inspector.checks.evaluate import Evaluated
from inspector.reference import Reference
from inspector.registry.client import RegistryClient, RegistryError
from inspector.registry.model import Probe, Status
from inspector.resolver import Mode, Source
from inspector.sources.model import RunImage


class Result(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    name: str
    result: Result
    reason: str


@dataclass(frozen=True, slots=True)
class PushAccess:
    """What the registry said to an upload session; ``cancelled`` says it was closed."""

    allowed: bool
    detail: str
    http_status: int | None = None
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class PreflightReport:
    app_image: Reference
    check: CheckReport
    app_probe: Probe
    push: PushAccess
    items: tuple[Item, ...]

    @property
    def ok(self) -> bool:
        return all(item.result is not Result.FAIL for item in self.items)

    def verdict(self) -> str:
        failed = [i.name for i in self.items if i.result is Result.FAIL]
        warned = [i.name for i in self.items if i.result is Result.WARN]
        if failed:
            return f"FAIL: publishing {self.app_image.original} is not safe: " + "; ".join(failed)
        if warned:
            return f"WARN: publishing {self.app_image.original} should work: " + "; ".join(warned)
        return f"OK: publishing {self.app_image.original} is safe"


async def push_access(client: RegistryClient, ref: Reference) -> PushAccess:
    """Start a blob upload in ``ref``'s repository and cancel it."""
    try:
        started = await client.request(
            ref.registry,
            "POST",
            f"/v2/{ref.repository}/blobs/uploads/",
            kind="upload POST",
            repository=ref.repository,
            stream=True,  # only a refusal's body is read (capped), for its error code
        )
        status = started.status_code
        refusal = await RegistryError.from_response(started) if status != 202 else None
        await started.aclose()
    except RegistryError as error:
        return PushAccess(False, f"{error.status.value}: {error.detail}", error.http_status)
    if refusal is not None:
        return PushAccess(False, _refusal(refusal), status)
    location = started.headers.get("location")
    if not location:
        return PushAccess(True, "upload accepted, but no Location to cancel it", status)
    try:
        target = started.request.url.join(location)
    except (httpx.InvalidURL, UnicodeError):
        return PushAccess(True, "upload accepted, but its Location is not a URL", status)
    return await _cancel(client, ref, target, status)


async def _cancel(
    client: RegistryClient, ref: Reference, target: httpx.URL, status: int
) -> PushAccess:
    try:
        response = await client.request(
            ref.registry,
            "DELETE",
            str(target),
            kind="upload DELETE",
            repository=ref.repository,
            stream=True,
        )
        await response.aclose()
    except RegistryError as error:
        return PushAccess(True, f"upload accepted; cancel failed: {error.detail}", status)
    if response.status_code in (200, 202, 204):
        return PushAccess(True, "upload session started and cancelled", status, cancelled=True)
    return PushAccess(True, f"upload accepted; cancel answered HTTP {response.status_code}", status)


def _refusal(error: RegistryError) -> str:
    """The one mapping's words (``HTTP 401 UNAUTHORIZED: …``), and what they mean here."""
    hints = {
        401: "the registry wants credentials with push rights (docker login?)",
        403: "your credentials may not push to this repository",
        404: "the registry has no such repository (or hides it)",
        405: "the registry does not accept uploads (read-only or a pull-through cache)",
    }
    return f"{error.detail}: {hints.get(error.http_status or 0, 'the registry refused the upload')}"


def judge(
    app: Reference, report: CheckReport, app_probe: Probe, push: PushAccess
) -> tuple[Item, ...]:
    """The five checks, pure: every input has been fetched already."""
    pick = report.selected
    return (
        _registry_item(app, report, pick),
        _readable_item(pick),
        _sync_item(report, pick),
        _push_item(push),
        _tag_item(app_probe),
    )


def _registry_item(app: Reference, report: CheckReport, pick: Evaluated) -> Item:
    name = "run image on the app's registry"
    reference = pick.candidate.reference
    if pick.candidate.registry == app.registry:
        return Item(
            "run-image-registry", name, Result.PASS, f"pack picks {reference} on {app.registry}"
        )
    reason = (
        f"pack picks {reference} on {pick.candidate.registry or '(unparseable)'}, not "
        f"{app.registry}: the publish copies the base layers across registries"
    )
    dropped = [
        r.candidate.reference
        for r in report.results
        if r.candidate.selectable
        and r.candidate.registry == app.registry
        and not r.candidate.readable
    ]
    if dropped:
        reason += f" ({', '.join(dropped)} is on {app.registry} but not readable)"
    return Item("run-image-registry", name, Result.WARN, reason)


def _readable_item(pick: Evaluated) -> Item:
    name = "run image exists and is readable"
    reference = pick.candidate.reference
    status = pick.status
    if status is Status.AVAILABLE:
        return Item("run-image-readable", name, Result.PASS, f"{reference} is available")
    if status is Status.MISSING:
        reason = (
            f"pack would pick {reference} (it counts a 404 as readable), but it is missing: "
            "the build fails at pull"
        )
    elif status is Status.UNAUTHORIZED:
        reason = f"{reference}: access denied with your credentials ({pick.probe.detail})"
    else:
        reason = f"{reference} is {status.value}: {pick.probe.detail or 'no detail'}"
    if not pick.candidate.readable:
        reason += "; nothing is readable, so pack falls back to the run image"
    return Item("run-image-readable", name, Result.FAIL, reason)


def _sync_item(report: CheckReport, pick: Evaluated) -> Item:
    name = "run image identical to the builder's"
    item_id = "run-image-in-sync"
    reference = pick.candidate.reference
    image = report.run_image
    if pick.status is not Status.AVAILABLE:
        return Item(item_id, name, Result.INFO, f"not compared: {reference} is not available")
    if pick.candidate.source is Source.IMAGE:
        return Item(item_id, name, Result.PASS, f"pack picks the run image itself ({reference})")
    if pick.in_sync:
        if pick.sync is not None and pick.sync.value == "equivalent":
            reason = f"{reference} is equivalent: {'; '.join(pick.notes)}"
            return Item(item_id, name, Result.PASS, reason)
        return Item(item_id, name, Result.PASS, f"{reference} serves the run image's digest")
    if pick.in_sync is None:
        why = f"the run image {image.candidate.reference} is {image.status.value}"
        return Item(item_id, name, Result.WARN, f"cannot compare: {why}")
    if pick.sync is not None and pick.sync.value in ("broken", "partial"):
        causes = [f"{p} ({p.impact})" for p in pick.problems] or list(pick.notes)
        return Item(item_id, name, Result.FAIL, f"{pick.sync.value}: {'; '.join(causes[:3])}")
    if pick.platforms and all(p.in_sync for p in pick.platforms):
        count = len(pick.platforms)
        reason = f"index digests differ, but all {count} platform image(s) are identical"
        return Item(item_id, name, Result.PASS, reason)
    reason = (
        f"stale: {reference} serves {pick.probe.digest}, the run image "
        f"{image.candidate.reference} serves {image.probe.digest}"
    )
    differing = [p.platform for p in pick.platforms if not p.in_sync]
    if differing:
        reason += f" (platforms differing: {', '.join(differing)})"
    return Item(item_id, name, Result.FAIL, reason)


def _push_item(push: PushAccess) -> Item:
    name = "app repository accepts a push"
    return Item("app-push-access", name, Result.PASS if push.allowed else Result.FAIL, push.detail)


def _tag_item(probe: Probe) -> Item:
    name = "app tag is new"
    if probe.status is Status.AVAILABLE:
        reason = f"the tag exists ({probe.digest}): the publish will overwrite it"
        return Item("app-tag-exists", name, Result.INFO, reason)
    if probe.status is Status.MISSING:
        return Item("app-tag-exists", name, Result.PASS, "the tag does not exist yet")
    detail = f": {probe.detail}" if probe.detail else ""
    return Item(
        "app-tag-exists", name, Result.INFO, f"could not tell ({probe.status.value}{detail})"
    )


async def preflight(
    client: RegistryClient,
    app_image: Reference,
    run_images: Sequence[RunImage],
    user_mirrors: Callable[[str], Sequence[str]],
    *,
    builder_image: str | None = None,
) -> PreflightReport:
    """Publish mode (``pack build --publish``): the app's registry is preferred."""
    report, probe, push = await asyncio.gather(
        check(
            client,
            app_image,
            run_images,
            user_mirrors,
            mode=Mode.PUBLISH,
            builder_image=builder_image,
        ),
        client.probe(app_image),
        push_access(client, app_image),
    )
    return PreflightReport(app_image, report, probe, push, judge(app_image, report, probe, push))
