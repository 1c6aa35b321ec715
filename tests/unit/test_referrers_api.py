"""The OCI 1.1 referrers API and the tag list, against respx routes.

distribution 2.8.2 (the integration tests' registry) has no referrers API, so what only a
registry with the API can show lives here: ``OCI-Filters-Applied``, pagination by ``Link``,
discovery through the API (and then no fallback-tag request), and a referrer that a mirror
holds by digest but does not list.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from inspector.checks import referrers as found
from inspector.checks.evaluate import Evaluated
from inspector.reference import parse
from inspector.registry import referrers as api
from inspector.registry.client import OCI_INDEX, OCI_MANIFEST, RegistryClient, RegistryError
from inspector.registry.hosts import RegistryHosts
from inspector.registry.model import Probe, Status
from inspector.resolver import candidates
from inspector.sources.model import RunImage

SOURCE = "https://registry.example.com"
MIRROR = "https://mirror.example.org"
IMAGE = b'{"schemaVersion":2,"mediaType":"' + OCI_MANIFEST.encode() + b'","layers":[]}'
DIGEST = "sha256:" + hashlib.sha256(IMAGE).hexdigest()
SBOM = "sha256:" + "a" * 64
SCAN = "sha256:" + "b" * 64
SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"


def run(router: respx.Router, job: Callable[[RegistryClient], Any]) -> Any:
    async def go() -> Any:
        transport = httpx.MockTransport(router.async_handler)
        async with RegistryClient(RegistryHosts({}), transport=transport) as client:
            return await job(client)

    return asyncio.run(go())


def routes() -> respx.Router:
    router = respx.Router(assert_all_called=False)
    router.get(f"{SOURCE}/v2/").respond(200)
    router.get(f"{MIRROR}/v2/").respond(200)
    return router


def descriptor(digest: str, artifact_type: str) -> dict[str, Any]:
    return {"mediaType": OCI_MANIFEST, "digest": digest, "size": 500, "artifactType": artifact_type}


def index(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": list(entries)}


def listing(*entries: dict[str, Any], **headers: str) -> httpx.Response:
    """A referrers API answer: an OCI index, served as one."""
    body = json.dumps(index(*entries)).encode()
    return httpx.Response(200, content=body, headers={"Content-Type": OCI_INDEX, **headers})


def evaluated() -> tuple[Evaluated, Evaluated]:
    image, mirror = candidates(
        [RunImage("registry.example.com/example/run:1.0", ("mirror.example.org/example/run:1.0",))],
        lambda _: (),
        "",
    )
    probe = Probe(image.reference, Status.AVAILABLE, DIGEST, OCI_MANIFEST, http_status=200)
    other = Probe(mirror.reference, Status.AVAILABLE, DIGEST, OCI_MANIFEST, http_status=200)
    return Evaluated(image, probe, None), Evaluated(mirror, other, True)


REF = evaluated()[0].candidate.ref
assert REF is not None


def test_tag_list_follows_link_pages_and_an_unknown_repository_has_none() -> None:
    router = routes()
    tags = f"{SOURCE}/v2/example/run/tags/list"
    # respx matches params as a subset: the more specific route goes first.
    router.get(tags, params={"last": "a", "n": "1000"}).respond(
        200, json={"name": "example/run", "tags": ["b"]}
    )
    router.get(tags, params={"n": "1000"}).respond(
        200,
        json={"name": "example/run", "tags": ["1.0", "a"]},
        headers={"Link": '</v2/example/run/tags/list?last=a&n=1000>; rel="next"'},
    )
    assert run(router, lambda c: api.list_tags(c, REF)) == ["1.0", "a", "b"]

    gone = routes()
    gone.get(tags).respond(404, json={"errors": [{"code": "NAME_UNKNOWN"}]})
    assert run(gone, lambda c: api.list_tags(c, REF)) == []

    # A registry whose Link points back at the same page is not followed round in circles.
    loop = routes()
    loop.get(tags).respond(
        200,
        json={"name": "example/run", "tags": ["x"]},
        headers={"Link": '</v2/example/run/tags/list?n=1000>; rel="next"'},
    )
    assert run(loop, lambda c: api.list_tags(c, REF)) == ["x", "x"]
    assert loop.calls.call_count == 1 + 2  # the ping, the first page, its one repeat


def test_referrers_filter_is_applied_by_us_when_the_registry_did_not() -> None:
    url = f"{SOURCE}/v2/example/run/referrers/{DIGEST}"
    entries = (descriptor(SBOM, "application/spdx+json"), descriptor(SCAN, "x/scan"))

    ignored = routes()
    ignored.get(url).mock(return_value=listing(*entries))
    answer = run(ignored, lambda c: api.referrers(c, REF, DIGEST, "x/scan"))
    assert answer.supported and [d.digest for d in answer.descriptors] == [SCAN]
    assert ignored.calls.last.request.url.params["artifactType"] == "x/scan"

    # The registry says it filtered: its answer is taken as it is.
    applied = routes()
    applied.get(url).mock(
        return_value=listing(descriptor(SBOM, "x/other"), **{"OCI-Filters-Applied": "artifactType"})
    )
    answer = run(applied, lambda c: api.referrers(c, REF, DIGEST, "x/scan"))
    assert [d.digest for d in answer.descriptors] == [SBOM]


def test_no_api_is_404_400_406_or_an_answer_that_is_no_index_and_pages_are_followed() -> None:
    url = f"{SOURCE}/v2/example/run/referrers/{DIGEST}"
    for answer in (
        httpx.Response(404, text="404 page not found"),  # distribution 2.8.2
        httpx.Response(400, json={"errors": [{"code": "UNSUPPORTED"}]}),
        httpx.Response(406),
        httpx.Response(200, text="<html>a web page</html>", headers={"Content-Type": "text/html"}),
    ):
        missing = routes()
        missing.get(url).mock(return_value=answer)
        assert run(missing, lambda c: api.referrers(c, REF, DIGEST)) == api.Referrers(False)
    broken = routes()
    broken.get(url).respond(500)
    with pytest.raises(RegistryError, match="HTTP 500"):
        run(broken, lambda c: api.referrers(c, REF, DIGEST))

    paged = routes()
    paged.get(url, params={"page": "2"}).respond(200, json=index(descriptor(SCAN, "x/scan")))
    paged.get(url).mock(
        return_value=listing(
            descriptor(SBOM, "application/spdx+json"),
            {"digest": 7},
            Link=f'<{url}?page=2>; rel="next"',
        )
    )
    answer = run(paged, lambda c: api.referrers(c, REF, DIGEST))
    assert [d.digest for d in answer.descriptors] == [SBOM, SCAN]  # the malformed entry dropped


def test_discovery_through_the_api_and_an_unlisted_referrer_on_the_mirror() -> None:
    router = routes()
    router.get(f"{SOURCE}/v2/example/run/tags/list").respond(
        200, json={"name": "example/run", "tags": ["1.0"]}
    )
    router.get(f"{SOURCE}/v2/example/run/referrers/{DIGEST}").mock(
        return_value=listing(descriptor(SBOM, "application/spdx+json"), descriptor(SCAN, "x/scan"))
    )
    # The mirror has the API too, but lists only the SBOM; the scan is there by digest.
    router.get(f"{MIRROR}/v2/example/run/referrers/{DIGEST}").mock(
        return_value=listing(descriptor(SBOM, "application/spdx+json"))
    )
    for digest in (SBOM, SCAN):
        router.head(f"{MIRROR}/v2/example/run/manifests/{digest}").respond(
            200, headers={"Docker-Content-Digest": digest, "Content-Type": OCI_MANIFEST}
        )
    fallback = router.get(url__regex=r".*/manifests/sha256-.*").respond(404)
    image, mirror = evaluated()

    async def job(client: RegistryClient) -> found.AttachmentsReport:
        return await found.check_groups(client, [(image, [mirror])])

    report = run(router, job)
    source = report.groups[0].source
    assert source.api is True
    assert [(a.kind, a.digest, a.artifact_type) for a in source.attachments] == [
        (found.Kind.REFERRER, SBOM, "application/spdx+json"),
        (found.Kind.REFERRER, SCAN, "x/scan"),
    ]
    compared = report.groups[0].mirrors[0]
    assert compared.api is True
    states = {c.attachment.digest: c.state for c in compared.checks}
    assert states == {SBOM: found.State.PRESENT, SCAN: found.State.UNLISTED}
    assert not compared.ok and report.verdict().startswith("FAIL: 1 attachment(s)")
    assert not fallback.called  # with the API, no fallback tag is read anywhere


def test_a_refused_tag_list_falls_back_to_asking_for_each_tag() -> None:
    hexdigest = DIGEST.split(":")[1]
    signature = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "x", "digest": SBOM, "size": 1},
            "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json"}],
        }
    ).encode()
    router = routes()
    router.get(f"{SOURCE}/v2/example/run/tags/list").respond(403)
    router.get(f"{SOURCE}/v2/example/run/referrers/{DIGEST}").respond(404)
    router.get(f"{SOURCE}/v2/example/run/manifests/sha256-{hexdigest}.sig").respond(
        200, content=signature, headers={"Content-Type": OCI_MANIFEST}
    )
    # A hostile fallback index: an entry whose "digest" is a path is dropped, never requested.
    router.get(f"{SOURCE}/v2/example/run/manifests/sha256-{hexdigest}").respond(
        200,
        json=index(descriptor("../../../v2/_catalog", "x/evil"), descriptor(SCAN, "x/scan")),
        headers={"Content-Type": OCI_INDEX},
    )
    others = router.get(url__regex=r".*/manifests/sha256-.*").respond(404)
    image, _ = evaluated()

    source = run(router, lambda c: found.discover(c, image))

    assert source.error is None and source.api is False
    kinds = {(a.kind, a.digest, a.artifact_type) for a in source.attachments}
    signed = ("sha256:" + hashlib.sha256(signature).hexdigest(), SIMPLESIGNING)
    assert kinds == {
        (found.Kind.SIGNATURE, *signed),
        (found.Kind.REFERRER, SCAN, "x/scan"),
    }
    asked = sorted(str(call.request.url.path) for call in others.calls)
    assert asked == [f"/v2/example/run/manifests/sha256-{hexdigest}.{s}" for s in ("att", "sbom")]
    assert not any("_catalog" in str(call.request.url) for call in router.calls)


def test_a_tag_list_too_long_to_read_whole_is_an_error_not_a_short_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(api, "MAX_PAGES", 2)
    router = routes()
    tags = f"{SOURCE}/v2/example/run/tags/list"
    for page in (3, 2):
        router.get(tags, params={"last": str(page - 1)}).respond(
            200,
            json={"tags": [str(page)]},
            headers={"Link": f'</v2/example/run/tags/list?last={page}>; rel="next"'},
        )
    router.get(tags).respond(
        200,
        json={"tags": ["1"]},
        headers={"Link": '</v2/example/run/tags/list?last=1>; rel="next"'},
    )

    with pytest.raises(RegistryError, match="longer than 2 pages"):
        run(router, lambda c: api.list_tags(c, REF))


def test_registry_strings_are_escaped_in_the_attachment_tables() -> None:
    from inspector.formats import attachments
    from inspector.formats.table import plain

    image, mirror = evaluated()
    evil = found.Attachment(
        found.Kind.REFERRER, DIGEST, SBOM, OCI_MANIFEST, "x/\x1b[31mred\x07", platform=None
    )
    source = found.SourceAttachments(image, (evil,), api=True)
    check = found.AttachmentCheck(
        evil, evil.reference("mirror.example.org/example/run"), found.State.MISSING
    )
    report = found.AttachmentsReport(
        (found.GroupAttachments(source, (found.MirrorAttachments(mirror, (check,), True),)),)
    )

    text = plain(attachments.tables(report))

    assert "\x1b" not in text and "\x07" not in text
    assert "x/\\x1b[31mred\\x07" in text
    assert "missing" in text and SBOM in text
    document = attachments.add_to_mirrors(
        {"run_images": [{"mirrors": [{"reference": mirror.candidate.reference}]}]}, report
    )
    entry = document["run_images"][0]["mirrors"][0]["attachments"][0]
    assert entry["on_mirror"] is False and entry["artifact_type"] == "x/\x1b[31mred\x07"
    assert document["attachments_in_sync"] is False


def test_one_artifact_type_is_asked_of_the_registry_and_the_rest_filtered_here() -> None:
    router = routes()
    router.get(f"{SOURCE}/v2/example/run/tags/list").respond(200, json={"tags": ["1.0"]})
    api_route = router.get(f"{SOURCE}/v2/example/run/referrers/{DIGEST}").mock(
        return_value=listing(descriptor(SBOM, "application/spdx+json"), descriptor(SCAN, "x/scan"))
    )
    image, _ = evaluated()

    one = run(router, lambda c: found.discover(c, image, ["x/scan"]))
    assert api_route.calls.last.request.url.params["artifactType"] == "x/scan"
    assert [a.digest for a in one.attachments] == [SCAN]  # filtered here: no header said so

    two = run(router, lambda c: found.discover(c, image, ["x/scan", "application/spdx+json"]))
    assert "artifactType" not in api_route.calls.last.request.url.params
    assert [a.digest for a in two.attachments] == [SBOM, SCAN]


def test_a_registry_refusing_head_is_read_with_a_get() -> None:
    router = routes()
    body = json.dumps(index()).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    tag = "sha256-" + "a" * 64 + ".sig"
    router.head(f"{MIRROR}/v2/example/run/manifests/{tag}").respond(405)
    router.get(f"{MIRROR}/v2/example/run/manifests/{tag}").respond(
        200, content=body, headers={"Content-Type": OCI_INDEX, "Docker-Content-Digest": digest}
    )
    router.head(f"{MIRROR}/v2/example/run/manifests/gone").respond(405)
    router.get(f"{MIRROR}/v2/example/run/manifests/gone").respond(404)
    ref = parse("mirror.example.org/example/run:1.0")

    async def job(client: RegistryClient) -> Any:
        return await api.head(client, ref, tag), await api.head(client, ref, "gone")

    assert run(router, job) == ((200, digest), (404, None))
