"""The user's run-image mirrors from pack's config (``pack config run-image-mirrors``).

pack reads ``$PACK_HOME/config.toml``, else ``~/.pack/config.toml``
(``internal/config/config.go``), and turns ``[[run-images]]`` into a map keyed by the
``image`` string exactly as written (``internal/commands/commands.go`` ``getMirrors``):
a later entry for the same key replaces an earlier one, and a key only applies to a run
image spelled the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from inspector.sources import toml_file
from inspector.sources.model import ConfigError, RunImage

WHAT = "pack config"


@dataclass(frozen=True, slots=True)
class PackConfig:
    path: str | None
    run_images: tuple[RunImage, ...] = ()

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
    return PackConfig(str(path), tuple(entries))
