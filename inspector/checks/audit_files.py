"""The files audit reads (the only I/O of the audit), and the finding for one that does not load.

A file is kept as its text *and* the loader's result, since tomllib gives no line numbers. A
file that does not load becomes a finding instead of an exception, so one bad file never
stops the audit of the others.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from inspector.checks.audit_locations import finding_at
from inspector.checks.audit_rules import Finding
from inspector.sources import builder_toml, toml_file
from inspector.sources import pack_config as pack_config_loader
from inspector.sources.model import Builder, ConfigError
from inspector.sources.pack_config import PackConfig
from inspector.sources.toml_positions import Locator, Position, decode_error_position

if sys.version_info >= (3, 11):  # noqa: UP036 - tomli stays the fallback the contract names
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Loaded(Generic[T]):
    """A file as audit sees it: its text (``None`` if unreadable) and the loader's result.

    Exactly one of ``value`` and ``error`` is set.
    """

    path: str
    text: str | None
    value: T | None
    error: str | None = None


def read_builder(path: str) -> Loaded[Builder]:
    """Read and load a builder.toml; a failure is kept as ``error``, never raised."""
    return _read(path, builder_toml.load)


def read_pack_config(path: str | None) -> Loaded[PackConfig] | None:
    """pack's config: ``None`` is the default location, where a missing file means none.

    An explicit path that does not exist is bad input (:class:`ConfigError`, exit 2); a file
    that exists but does not load is a finding, like any audited file.
    """
    if path is None:
        default = pack_config_loader.default_path()
        if not default.exists():
            return None
        path = str(default)
    elif not Path(path).is_file():
        why = "is a directory" if Path(path).is_dir() else "no such file"
        raise ConfigError(f"{pack_config_loader.WHAT} {path!r}: {why}")
    return _read(path, pack_config_loader.load)


def _read(path: str, load: Callable[[str], T]) -> Loaded[T]:
    # The loaders read the file again: they take a path, and audit needs the text too.
    try:
        text: str | None = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None  # the loader says why, in its own words
    try:
        return Loaded(path, text, load(path))
    except ConfigError as error:
        return Loaded(path, text, None, str(error))


def raw_document(text: str | None) -> dict[str, Any]:
    """The decoded TOML of a file that loaded, for what the loaders do not keep (key names)."""
    try:
        return toml_file.loads(text or "")
    except (tomllib.TOMLDecodeError, RecursionError):  # tomllib recurses per nesting level
        return {}


# The loaders name the table entry and key of a wrong value ("images[0]: mirrors must …").
_ARRAY_ENTRY = re.compile(r"\b(run-images|images)\[(\d+)\]")
_BAD_KEY = re.compile(r"([\w-]+) must be")


def load_failure(loaded: Loaded[Any], *, is_builder: bool) -> Finding:
    """INS002 (or INS003 for a builder without a run image), located as well as it can be."""
    # The loaders start with "builder config 'path': "; the finding names the file already.
    what = builder_toml.WHAT if is_builder else pack_config_loader.WHAT
    message = (loaded.error or "cannot be loaded").removeprefix(f"{what} {loaded.path!r}: ")
    locator = Locator(loaded.text or "")

    def at(rule_id: str, position: Position, text: str = message) -> Finding:
        return finding_at(rule_id, loaded.path, position, text)

    if loaded.text is None:
        return at("INS002", Position(1))
    try:
        raw = toml_file.loads(loaded.text)
    except tomllib.TOMLDecodeError as error:
        end = Position(max(1, len(loaded.text.splitlines())))
        return at("INS002", decode_error_position(str(error)) or end)
    except RecursionError:  # nested too deeply for tomllib; the loader said so
        return at("INS002", Position(1))
    table = "run.images" if is_builder else "run-images"
    entries = _entries(raw, is_builder)
    for nth, entry in enumerate(entries):
        if isinstance(entry, dict) and not entry.get("image"):
            position = locator.header(table, nth) or Position(1)
            rule_id = "INS003" if is_builder else "INS002"
            return at(rule_id, position, f"{table} entry #{nth + 1} has no image")
    if is_builder and not entries:
        stack = raw.get("stack")
        if not (isinstance(stack, dict) and stack.get("run-image")):
            position = locator.header("stack") or locator.header("run") or Position(1)
            return at(
                "INS003", position, "no run image: neither [[run.images]] nor [stack] run-image"
            )
    return at("INS002", _error_position(message, locator, table))


def _entries(raw: Mapping[str, Any], is_builder: bool) -> list[Any]:
    """The raw ``[[run.images]]`` (builder) or ``[[run-images]]`` (pack config) tables."""
    if is_builder:
        run = raw.get("run")
        entries = run.get("images") if isinstance(run, dict) else None
    else:
        entries = raw.get("run-images")
    return entries if isinstance(entries, list) else []


def _error_position(message: str, locator: Locator, table: str) -> Position:
    """Best effort: the table entry and key the loader's message names."""
    entry = _ARRAY_ENTRY.search(message)
    bad_key = _BAD_KEY.search(message)
    name, nth = (table, int(entry.group(2))) if entry else ("stack", 0)
    if bad_key:
        return locator.key(bad_key.group(1), name, nth)
    return locator.header(name, nth) or Position(1)
