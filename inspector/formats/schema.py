"""The JSON Schemas of the commands' documents, shipped in ``inspector/schemas/``.

``SCHEMA_VERSION`` is in every JSON document. It changes its major number when a key the
schemas require is renamed, removed or changes type; added keys (the schemas allow them)
change nothing.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = "1.0"

# Command -> schema file (``error`` is the document of bad input under --format json).
SCHEMAS: dict[str, str] = {
    name: f"{name}.schema.json"
    for name in (
        "resolve",
        "check",
        "mirrors",
        "builder",
        "preflight",
        "rebase",
        "audit",
        "sync",
        "error",
    )
}


def text(command: str) -> str:
    """The schema of ``command``'s JSON document, as shipped."""
    from importlib import resources  # here: `inspector --help` lists this command

    return resources.files("inspector.schemas").joinpath(SCHEMAS[command]).read_text("utf-8")


def load(command: str) -> dict[str, Any]:
    import json

    document: dict[str, Any] = json.loads(text(command))
    return document
