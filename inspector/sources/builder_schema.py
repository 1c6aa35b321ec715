"""pack's builder.toml schema, and the keys of a document that pack would reject.

``pack builder create`` decodes builder.toml with BurntSushi/toml into the structs of
``builder/config_reader.go`` (``Config``) and ``pkg/dist`` (``ModuleInfo``, ``ImageOrURI``,
``OrderEntry``, ``ModuleRef``, ``System``, ``Target``, ``Distribution``, ``License``), then
fails on every key the structs do not have (``tomlMetadata.Undecoded()``). BurntSushi
matches a key to a field exactly, else case-insensitively, so ``Mirrors`` is ``mirrors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

# A table's known keys: None for a value pack decodes as a whole (string, list of
# strings, bool), a nested schema for a table or an array of tables.
Schema = Mapping[str, Union["Schema", None]]
KeyPath = tuple[str | int, ...]

_LICENSE: Schema = {"type": None, "uri": None}
# dist.ModuleInfo, embedded without a tag: its keys sit beside the embedding struct's.
_MODULE_INFO: Schema = {
    "id": None,
    "name": None,
    "version": None,
    "description": None,
    "homepage": None,
    "keywords": None,
    "exec-env": None,
    "licenses": _LICENSE,
    "clear-env": None,
}
_MODULE_CONFIG: Schema = {**_MODULE_INFO, "uri": None, "image": None}  # + dist.ImageOrURI
_MODULE_REF: Schema = {**_MODULE_INFO, "optional": None}
_ORDER: Schema = {"group": _MODULE_REF}
_SYSTEM_BUILDPACKS: Schema = {"buildpacks": _MODULE_REF}

BUILDER: Schema = {
    "description": None,
    "buildpacks": _MODULE_CONFIG,
    "extensions": _MODULE_CONFIG,
    "order": _ORDER,
    "order-extensions": _ORDER,
    "stack": {"id": None, "build-image": None, "run-image": None, "run-image-mirrors": None},
    "lifecycle": {"uri": None, "version": None},
    "run": {"images": {"image": None, "mirrors": None}},
    "build": {
        "image": None,
        "env": {"name": None, "value": None, "suffix": None, "delim": None, "exec-env": None},
    },
    "targets": {
        "os": None,
        "arch": None,
        "variant": None,
        "distros": {"name": None, "version": None},
    },
    "system": {"pre": _SYSTEM_BUILDPACKS, "post": _SYSTEM_BUILDPACKS},
}

# Tables whose keys decide which run images and mirrors pack uses: a misspelt key there
# changes what is checked, so the commands that check count it as a finding.
RUN_IMAGE_TABLES = frozenset({"run", "stack"})


@dataclass(frozen=True, slots=True)
class UnknownKey:
    """A key pack does not know: its full path (array indices included) and where it is."""

    path: tuple[str | int, ...]
    line: int = 1
    column: int | None = None

    @property
    def key(self) -> str:
        return str(self.path[-1])

    @property
    def table(self) -> str:
        """The table it is written in, as a header spells it (``run.images``, ``order.group``)."""
        names = [str(p) for p in self.path[:-1] if isinstance(p, str)]
        return ".".join(names) if names else "root"

    @property
    def in_run_image_section(self) -> bool:
        return str(self.path[0]) in RUN_IMAGE_TABLES

    def describe(self) -> str:
        """``[[run.images]] #1: unknown key 'mirror'`` — the section as pack users write it."""
        if len(self.path) == 1:
            return f"unknown top-level key {self.key!r}"
        names = [str(p) for p in self.path[:-1] if isinstance(p, str)]
        numbers = [p + 1 for p in self.path[:-1] if isinstance(p, int)]
        where = ("[[{}]]" if isinstance(self.path[-2], int) else "[{}]").format(".".join(names))
        if numbers:
            where += f" #{numbers[-1]}"
            if len(numbers) > 1:  # an array of tables inside another: name the outer entry
                where += f" (in [[{'.'.join(names[:-1])}]] #{numbers[-2]})"
        return f"{where}: unknown key {self.key!r}"

    def suggestion(self, schema: Schema = BUILDER) -> str | None:
        """The known key of the same table it most likely means (``mirror`` → ``mirrors``)."""
        import difflib

        table: Any = schema
        for part in self.path[:-1]:
            if isinstance(part, int):
                continue
            table = table.get(canonical_key(table, part) or part) if table else None
        if not table:
            return None
        close = difflib.get_close_matches(self.key.lower(), list(table), n=1, cutoff=0.6)
        return close[0] if close else None


def canonical_key(schema: Schema, key: str) -> str | None:
    """The schema's name for ``key``: exact, else case-insensitive (as BurntSushi matches)."""
    if key in schema:
        return key
    folded = key.casefold()
    return next((known for known in schema if known.casefold() == folded), None)


def normalize(
    document: Mapping[str, Any], schema: Schema = BUILDER
) -> tuple[dict[str, Any], list[tuple[str | int, ...]]]:
    """``document`` with keys renamed to the schema's spelling, and the paths of unknown keys.

    Values pack decodes as a whole are kept as they are; a value of the wrong shape (a
    string where a table belongs) is left to the loader's type checks.
    """
    unknown: list[tuple[str | int, ...]] = []

    def table(value: Mapping[str, Any], known: Schema, path: KeyPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = canonical_key(known, key)
            if name is None:
                unknown.append((*path, key))
                out[key] = item
                continue
            child = known[name]
            if child is not None:
                item = node(item, child, (*path, name))
            if name in out and key != name:
                continue  # the exact spelling is there too: it wins
            out[name] = item
        return out

    def node(value: Any, known: Schema, path: KeyPath) -> Any:
        if isinstance(value, dict):
            return table(value, known, path)
        if isinstance(value, list):
            return [
                table(item, known, (*path, i)) if isinstance(item, dict) else item
                for i, item in enumerate(value)
            ]
        return value

    return table(document, schema, ()), unknown
