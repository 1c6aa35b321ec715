"""Moved to :mod:`inspector.toml_file` (below both ``sources`` and ``registry``); these
names stay importable from here."""

from inspector.toml_file import Fields, load, loads, parse, read

__all__ = ["Fields", "load", "loads", "parse", "read"]
