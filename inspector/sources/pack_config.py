"""The user's run-image mirrors and registry mirrors from pack's config.

``[[run-images]]`` is ``pack config run-image-mirrors``; ``[registry-mirrors]`` is
``pack config registry-mirrors``, a table ``registry = "host"`` pack applies when it
pulls (``internal/name/name.go`` TranslateRegistry, see :func:`inspector.resolver.translate`).

pack reads ``$PACK_HOME/config.toml``, else ``~/.pack/config.toml``
(``internal/config/config.go``), and turns ``[[run-images]]`` into a map keyed by the
``image`` string exactly as written (``internal/commands/commands.go`` ``getMirrors``):
a later entry for the same key replaces an earlier one, and a key only applies to a run
image spelled the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from inspector import toml_file
from inspector.sources.model import ConfigError, RunImage

WHAT = "pack config"


@dataclass(frozen=True, slots=True)
class PackConfig:
    path: str | None
    run_images: tuple[RunImage, ...] = ()
    # None when the file has no [registry-mirrors] table: pack's map is then nil and it
    # does not even parse the name it pulls (name.go:24-26).
    registry_mirrors: dict[str, str] | None = field(default=None, hash=False)

    def mirrors_for(self, image: str) -> tuple[str, ...]:
        """The user's mirrors for ``image``: exact-string match, last entry wins."""
        found: tuple[str, ...] = ()
        for entry in self.run_images:
            if entry.image == image:
                found = entry.mirrors
        return found


def default_path() -> Path:
    pack_home = os.environ.get("PACK_HOME")
    if pack_home:
        return Path(pack_home) / "config.toml"
    return Path.home() / ".pack" / "config.toml"


def load(path: str | Path | None) -> PackConfig:
    """Load ``path``; ``None`` means pack's default location, where a missing file is fine."""
    if path is None:
        path = default_path()
        if not path.exists():
            return PackConfig(None)
    path = Path(path)
    where = f"{WHAT} {str(path)!r}"
    document = toml_file.Fields(toml_file.load(path, WHAT), where)
    entries = []
    for entry in document.tables("run-images"):
        image = entry.string("image")
        if not image:
            raise ConfigError(f"{entry.where}: image is required")
        entries.append(RunImage(image, entry.strings("mirrors")))
    return PackConfig(str(path), tuple(entries), _registry_mirrors(document))


def _registry_mirrors(document: toml_file.Fields) -> dict[str, str] | None:
    """``[registry-mirrors]`` (pack ``internal/config/config.go``: map[string]string)."""
    table = document.table_of("registry-mirrors")
    if table is None:
        return None
    mirrors: dict[str, str] = {}
    for key in table.table:
        value = table.string(key)
        # Any string is kept, even "": pack accepts it here and fails when it pulls.
        mirrors[key] = value or ""
    return mirrors
