"""Read a TOML file into a dict, and typed field access whose errors name the file and key."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from inspector.errors import ConfigError

if sys.version_info >= (3, 11):  # noqa: UP036 - tomli stays the fallback the contract names
    import tomllib
else:  # pragma: no cover - the contract allows tomli on older Pythons
    import tomli as tomllib


def load(path: Path, what: str) -> dict[str, Any]:
    """Parse ``path``; every failure is a :class:`ConfigError` naming ``what`` and the file."""
    return parse(read(path, what), path, what)


def read(path: Path, what: str) -> str:
    """The text of ``path``; a failure is a :class:`ConfigError` naming ``what`` and the file."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} {str(path)!r}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{what} {str(path)!r}: is a directory") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {str(path)!r}: not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"{what} {str(path)!r}: {error.strerror or error}") from None


def parse(text: str, path: Path, what: str) -> dict[str, Any]:
    """``text`` (read from ``path``) as TOML; errors name ``what``, the file and the place."""
    try:
        # tomllib's message already says "(at line L, column C)".
        return loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        if message.endswith("(at end of document)"):
            # Name the place as tomllib does everywhere else: line and column of the end.
            line = text.count("\n") + 1
            column = len(text) - text.rfind("\n")
            message = message.removesuffix("(at end of document)")
            message += f"(at end of document, line {line}, column {column})"
        raise ConfigError(f"{what} {str(path)!r}: invalid TOML: {message}") from None
    except RecursionError:  # tomllib recurses once per nested array/inline table
        raise ConfigError(f"{what} {str(path)!r}: invalid TOML: nested too deeply") from None


def loads(text: str) -> dict[str, Any]:
    """``tomllib.loads``, after a UTF-8 byte-order mark at the start (pack's TOML library,
    BurntSushi/toml, strips one; tomllib refuses it)."""
    return tomllib.loads(text.removeprefix("\ufeff"))


class Fields:
    """Typed reads from one TOML table; ``where`` names the file and table in errors."""

    def __init__(self, table: dict[str, Any], where: str) -> None:
        self.table = table
        self.where = where

    def _wrong(self, key: str, want: str) -> ConfigError:
        value = self.table[key]
        return ConfigError(f"{self.where}: {key} must be {want}, not {type(value).__name__}")

    def string(self, key: str) -> str | None:
        value = self.table.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._wrong(key, "a string")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._wrong(key, "a list of strings")
        return tuple(value)

    def boolean(self, key: str) -> bool | None:
        value = self.table.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false")
        return value

    def table_of(self, key: str) -> Fields | None:
        value = self.table.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._wrong(key, "a table")
        return Fields(value, f"{self.where}: [{key}]")

    def tables(self, key: str) -> list[Fields]:
        value = self.table.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self._wrong(key, "an array of tables")
        return [Fields(item, f"{self.where}: {key}[{i}]") for i, item in enumerate(value)]
