"""The package's import direction: inputs → reference → registry → sources → resolver →
checks → formats → CLI. Every import between two parts of ``inspector/`` (a subpackage or a
top-level module), eager, lazy (inside a function) or for type checking only, must point
down this order; a cycle between subpackages cannot then exist."""

from __future__ import annotations

import ast
from pathlib import Path

import inspector

PACKAGE = Path(inspector.__file__).parent
# Lowest first: a part may import only parts before it.
ORDER = [
    "errors",
    "toml_file",
    "reference",
    "registry",
    "sources",
    "resolver",
    "checks",
    "formats",
    "cli",
    "__main__",
]
# The package root holds the version (and the public API above everything): the version
# is the one name a lower layer may take from it.
ROOT_NAMES_ALLOWED = {"__version__"}


def _part(module: str) -> str:
    """``inspector.registry.client`` → ``registry``; ``inspector.errors`` → ``errors``."""
    return module.split(".")[1]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> list[tuple[str, str]]:
    """(importing module, imported module or root name) for the whole package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module == "inspector":
                    targets = [f"inspector.{alias.name}" for alias in node.names]
                elif node.module.startswith("inspector."):
                    targets = [node.module]
                else:
                    continue
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("inspector.")]
            else:
                continue
            found.extend((module, target) for target in targets)
    return found


def test_the_walk_sees_the_imports_it_judges() -> None:
    edges = {(_part(src), _part(dst)) for src, dst in imports() if "." in src}
    # Known imports: if the walk missed them, the test below would pass on nothing.
    assert ("checks", "registry") in edges
    assert ("sources", "registry") in edges
    assert ("registry", "toml_file") in edges


def test_every_import_points_down_the_layers() -> None:
    wrong = []
    for src, dst in imports():
        if src == "inspector":
            continue  # the root (public API) sits above everything
        source, target = _part(src), _part(dst)
        if source == target:
            continue
        if target not in ORDER:
            if target not in ROOT_NAMES_ALLOWED:
                wrong.append(f"{src} imports {dst}: not a known part of the package")
            continue
        assert source in ORDER, f"{src}: add its part to ORDER"
        if ORDER.index(target) > ORDER.index(source):
            wrong.append(f"{src} imports {dst} ({source} may not import {target})")
    assert wrong == []


def test_registry_never_imports_sources() -> None:
    # The knot this order untied: a builder image is a registry-backed source, so sources
    # may call the registry, never the other way round.
    assert not [
        (src, dst)
        for src, dst in imports()
        if src.startswith("inspector.registry") and dst.startswith("inspector.sources")
    ]


def test_moved_names_stay_importable_from_their_old_homes() -> None:
    from inspector import errors, toml_file
    from inspector.sources import model
    from inspector.sources import toml_file as old_toml_file

    assert model.ConfigError is errors.ConfigError
    assert old_toml_file.load is toml_file.load and old_toml_file.Fields is toml_file.Fields
