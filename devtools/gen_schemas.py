"""Write inspector/schemas/*.schema.json (run from the repository root after changing a
required key: python -m devtools.gen_schemas). The files are committed and shipped."""

import json
import pathlib

out = pathlib.Path("inspector/schemas")
D = "https://json-schema.org/draft/2020-12/schema"
BASE = "urn:inspector:schema:"
S = {"type": "string"}
SN = {"type": ["string", "null"]}
B = {"type": "boolean"}
BN = {"type": ["boolean", "null"]}
INT = {"type": "integer"}
DIGEST = {"type": ["string", "null"], "pattern": "^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"}
STATUS = {"enum": ["available", "missing", "unauthorized", "unreachable", "error"]}
SYNC = {"enum": ["identical", "equivalent", "partial", "stale", "broken", None]}
PLATFORMS_LIST = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["platform", "digest", "run_image_digest", "state"],
        "properties": {
            "platform": S,
            "digest": SN,
            "run_image_digest": SN,
            "state": {"enum": ["same", "different", "missing", "extra"]},
        },
    },
}
PLATFORMS = PLATFORMS_LIST  # contract: a list matched as a multiset
DETAIL_RULE = {
    "if": {"properties": {"status": {"enum": ["error", "unreachable"]}}, "required": ["status"]},
    "then": {"required": ["detail"], "properties": {"detail": S}},
}
VERSION = {
    "type": "string",
    "pattern": "^1\\.[0-9]+$",
    "description": "Major 1: the keys required here keep their names and types.",
}


def obj(required, props, **extra):
    d = {
        "type": "object",
        "required": sorted(required),
        "properties": props,
        "additionalProperties": True,
    }
    d.update(extra)
    return d


def top(name, title, required, props, **extra):
    d = {"$schema": D, "$id": BASE + name + ":1", "title": title}
    d.update(obj(["schema_version", *required], {"schema_version": VERSION, **props}, **extra))
    return d


RESOLVE_CANDIDATE = {
    "rank": {"type": "integer", "minimum": 1},
    "reference": S,
    "normalized": SN,
    "registry": SN,
    "source": {"enum": ["user-mirror", "image", "mirror"]},
    "matches_app_registry": B,
    "selected": B,
}
RESOLVE_REQ = [
    "rank",
    "reference",
    "normalized",
    "registry",
    "source",
    "matches_app_registry",
    "selected",
]
CHECK_CANDIDATE = {
    **RESOLVE_CANDIDATE,
    "status": STATUS,
    "digest": DIGEST,
    "in_sync": BN,
    "detail": S,
    "sync": SYNC,
    "platforms": PLATFORMS,
    "problems": {"type": "array", "items": S},
    "pull_reference": SN,
}
RESOLUTION = {"app_image": S, "app_registry": S, "preferred_registry": S, "selected": S}
RES_REQ = ["app_image", "app_registry", "preferred_registry", "selected", "candidates"]

resolve = top(
    "resolve",
    "inspector resolve --json",
    RES_REQ,
    {
        **RESOLUTION,
        "candidates": {
            "type": "array",
            "minItems": 1,
            "items": obj(RESOLVE_REQ, RESOLVE_CANDIDATE),
        },
    },
)
check_candidates = {
    "type": "array",
    "minItems": 1,
    "items": obj(
        [*RESOLVE_REQ, "status", "digest", "in_sync", "sync", "platforms", "problems"],
        CHECK_CANDIDATE,
        allOf=[DETAIL_RULE],
    ),
}
check = top(
    "check",
    "inspector check --json",
    [*RES_REQ, "in_sync"],
    {**RESOLUTION, "candidates": check_candidates, "in_sync": B},
)
mirror_entry = obj(
    ["reference", "normalized", "status", "digest", "in_sync", "sync", "platforms", "problems"],
    {
        "reference": S,
        "normalized": SN,
        "status": STATUS,
        "digest": DIGEST,
        "in_sync": BN,
        "detail": S,
        "sync": SYNC,
        "platforms": PLATFORMS,
        "problems": {"type": "array", "items": S},
        "attachments": {
            "type": "array",
            "items": obj(
                ["kind", "reference", "digest", "on_mirror"],
                {"kind": S, "reference": S, "digest": DIGEST, "artifact_type": SN, "on_mirror": BN},
            ),
        },
    },
    allOf=[DETAIL_RULE],
)
mirrors = top(
    "mirrors",
    "inspector mirrors --json",
    ["run_images", "in_sync"],
    {
        "run_images": {
            "type": "array",
            "items": obj(
                ["image", "normalized", "status", "digest", "mirrors"],
                {
                    "image": S,
                    "normalized": SN,
                    "status": STATUS,
                    "digest": DIGEST,
                    "detail": S,
                    "mirrors": {"type": "array", "items": mirror_entry},
                },
                allOf=[DETAIL_RULE],
            ),
        },
        "in_sync": B,
    },
)
RUN_IMAGE_GROUP = obj(
    ["image", "mirrors"],
    {
        "image": S,
        "mirrors": {"type": "array", "items": S},
        "user_mirrors": {"type": "array", "items": S},
        "match_order": {
            "type": "array",
            "items": obj(
                ["reference", "source"],
                {
                    "reference": S,
                    "source": {"enum": ["user-mirror", "image", "mirror"]},
                },
            ),
        },
    },
)
builder = top(
    "builder",
    "inspector builder --json",
    ["run_images", "run_image_groups"],
    {
        # pack builder inspect's own shape: the run images in match order.
        "run_images": {
            "type": "array",
            "items": obj(["name"], {"name": S, "user_configured": B}),
        },
        # inspector's view: each run image with its mirrors and the user mirrors for it.
        "run_image_groups": {"type": "array", "items": RUN_IMAGE_GROUP},
    },
)
preflight = top(
    "preflight",
    "inspector preflight --json",
    ["app_image", "selected", "checks", "ok"],
    {
        "app_image": S,
        "app_registry": S,
        "selected": S,
        "ok": B,
        "checks": {
            "type": "array",
            "items": obj(
                ["id", "result", "reason"],
                {
                    "id": S,
                    "name": S,
                    "result": {"enum": ["pass", "warn", "fail", "info"]},
                    "reason": S,
                },
            ),
        },
    },
)
preflight["properties"]["check"] = obj(
    [*RES_REQ, "in_sync"], {**RESOLUTION, "candidates": check_candidates, "in_sync": B}
)
rebase = top(
    "rebase",
    "inspector rebase --json",
    [*RES_REQ, "in_sync", "current_base", "rebase_needed", "force_required"],
    {
        **RESOLUTION,
        "candidates": check_candidates,
        "in_sync": B,
        "current_base": DIGEST,
        "rebase_needed": BN,
        "force_required": BN,
    },
)
audit = top(
    "audit",
    "inspector audit --format json",
    ["findings", "summary"],
    {
        "findings": {
            "type": "array",
            "items": obj(
                ["rule_id", "level", "file", "line", "message"],
                {
                    "rule_id": {"type": "string", "pattern": "^INS[0-9]{3}$"},
                    "rule": S,
                    "level": {"enum": ["error", "warning", "note"]},
                    "file": S,
                    "line": {"type": "integer", "minimum": 1},
                    "column": {"type": ["integer", "null"]},
                    "message": S,
                },
            ),
        },
        "summary": obj(
            ["files", "findings", "failed"], {"files": INT, "findings": INT, "failed": B}
        ),
    },
)
sync = top(
    "sync",
    "inspector sync --json",
    ["mirrors", "dry_run", "ok"],
    {
        "mirrors": {
            "type": "array",
            "items": obj(
                ["run_image", "mirror", "state", "action", "digest"],
                {
                    "run_image": S,
                    "mirror": S,
                    "normalized": SN,
                    "state": S,
                    "action": S,
                    "bytes": {"type": "integer", "minimum": 0},
                    "digest": DIGEST,
                    "previous_digest": DIGEST,
                    "detail": SN,
                    "sync": SYNC,
                    "platforms": PLATFORMS,
                },
            ),
        },
        "dry_run": B,
        "ok": B,
        "bytes": {"type": "integer", "minimum": 0},
    },
)
error = top(
    "error",
    "inspector --format json: bad input (exit 2)",
    ["error"],
    {"error": obj(["message"], {"message": S})},
)
for name, doc in dict(
    resolve=resolve,
    check=check,
    mirrors=mirrors,
    builder=builder,
    preflight=preflight,
    rebase=rebase,
    audit=audit,
    sync=sync,
    error=error,
).items():
    (out / f"{name}.schema.json").write_text(json.dumps(doc, indent=2) + "\n")
