"""The audit rule set as data, and what a check reports.

:data:`RULES` is the one table of ids, names, levels and help that the checks, the table,
the JSON and the SARIF renderers all read; a :class:`Finding` is one rule broken at one
``file:line:column``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """SARIF's result levels, which are also what ``--fail-on`` compares."""

    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Level.NOTE: 0, Level.WARNING: 1, Level.ERROR: 2}


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    level: Level
    short: str  # one line: SARIF shortDescription, `audit --help`
    help: str  # why it matters and what to do: SARIF help/fullDescription
    online: bool = False  # needs --online


RULES: tuple[Rule, ...] = (
    Rule(
        "INS001",
        "invalid-reference",
        Level.ERROR,
        "A run image, mirror or pack-config key is not a valid image reference.",
        "pack cannot parse it: it skips such a mirror, and fails on such a run image. "
        "References are parsed as pack v0.40 parses them (go-containerregistry v0.21.5): a "
        "repository of 2-255 characters [a-z0-9_-./], an optional :tag and an optional "
        "@sha256:<64 hex digits>.",
    ),
    Rule(
        "INS002",
        "unloadable-config",
        Level.ERROR,
        "The file cannot be read, is not TOML, or has a value of the wrong type.",
        "pack refuses such a file too. Nothing else in it is audited until it loads.",
    ),
    Rule(
        "INS003",
        "no-run-image",
        Level.ERROR,
        "The builder config names no run image.",
        'A builder needs [[run.images]] image = "…" (or the legacy [stack] run-image), and '
        "every [[run.images]] entry needs an image; `pack builder create` fails otherwise.",
    ),
    Rule(
        "INS004",
        "unknown-key",
        Level.ERROR,
        "pack rejects a builder config with a key its schema does not have.",
        "`pack builder create` decodes builder.toml strictly (builder/config_reader.go and "
        "pkg/dist: [[buildpacks]], [[extensions]], [[order]] and [[order.group]], "
        "[[order-extensions]], [lifecycle], [build] and [[build.env]], [run] and "
        "[[run.images]], [[targets]] and [[targets.distros]], [system], [stack]) and fails on "
        "keys they do not have; keys match case-insensitively. A misspelt key in a run-image "
        "section (mirror, run-image-mirror) would otherwise lose its values silently.",
    ),
    Rule(
        "INS006",
        "duplicate-mirror",
        Level.WARNING,
        "The same mirror is listed twice.",
        "After normalization (docker.io is index.docker.io, library/ is implied, no tag "
        "means :latest) this mirror equals an earlier one, so pack never reaches it. "
        "Remove it.",
    ),
    Rule(
        "INS007",
        "mirror-is-image",
        Level.WARNING,
        "A mirror is the run image itself.",
        "It normalizes to the run image (docker.io/x and x, x and x:latest): it adds "
        "nothing, since the run image itself is a candidate. Remove it.",
    ),
    Rule(
        "INS008",
        "fallback-mirror",
        Level.NOTE,
        "A later candidate on the same registry is only a fallback.",
        "pack picks the first readable candidate on the preferred registry (user mirrors, "
        "then the run image, then its mirrors). A later candidate on a registry an earlier "
        "one claims is used only when the earlier one cannot be read (401/403 or no "
        "answer): a real fallback, worth knowing, not a mistake.",
    ),
    Rule(
        "INS009",
        "tag-drift",
        Level.WARNING,
        "A mirror names a different tag or digest than the run image.",
        "A mirror should be a copy of the run image. A different tag, or a tag where the "
        "run image has a digest, gives apps on that registry a different base image.",
    ),
    Rule(
        "INS010",
        "image-name-drift",
        Level.NOTE,
        "A mirror's image name (last path component) differs from the run image's.",
        "Namespaces differ across registries all the time (Docker Hub's paketobuildpacks/ "
        "is gcr.io's paketo-buildpacks/, since Docker Hub names cannot hold '-'), so only "
        "the image name itself is compared: run-jammy-base mirrored as run-jammy-full is "
        "an easy way to point at another image. `inspector mirrors` tells for sure.",
    ),
    Rule(
        "INS011",
        "stack-conflict",
        Level.WARNING,
        "[stack] and [[run.images]] disagree; pack uses [[run.images]].",
        "With both shapes present pack (pkg/builder/config_reader.go) overwrites the [stack] "
        "run image and mirrors with the first [[run.images]] entry, so the [stack] values "
        "are silently ignored. Make them equal, or drop the legacy [stack] run image.",
    ),
    Rule(
        "INS012",
        "user-mirror-precedence",
        Level.NOTE,
        "A pack-config mirror takes precedence over the builder's candidate on its registry.",
        "User mirrors from pack's config come before the builder's run image and mirrors. "
        "On a registry a user mirror claims, pack on this machine never picks the "
        "builder's candidate: intended for local overrides, surprising otherwise.",
    ),
    Rule(
        "INS013",
        "pack-config-key-mismatch",
        Level.WARNING,
        "A pack-config entry spells the run image differently, so it never applies.",
        "pack looks up user mirrors by the run image string exactly as the builder writes "
        "it. docker.io/x/run, index.docker.io/x/run:latest and x/run are one image but "
        "three keys. Write the key exactly as the builder does.",
    ),
    Rule(
        "INS014",
        "overridden-pack-config-entry",
        Level.WARNING,
        "A later pack-config entry for the same image replaces this one.",
        "pack keeps one list of mirrors per image key: the last [[run-images]] entry wins "
        "and earlier ones are ignored. Merge them into one entry.",
    ),
    Rule(
        "INS015",
        "docker-hub-alias",
        Level.WARNING,
        "A mirror on a Docker Hub alias pack never matches.",
        "registry-1.docker.io and registry.hub.docker.com reach Docker Hub, but pack "
        "compares registries as written and rewrites only docker.io (to index.docker.io): "
        "an app on Docker Hub never selects this mirror. Write docker.io/… or no registry.",
    ),
    Rule(
        "INS016",
        "unselectable-run-image",
        Level.NOTE,
        "Mirrors of a run image after the first are never selected.",
        "pack build and pack rebase select from the builder's first run image only. Mirrors, "
        "and pack-config entries, for later run images are recorded but never chosen.",
    ),
    Rule(
        "INS017",
        "digest-pinned-run-image",
        Level.NOTE,
        "The run image is pinned by digest: rebase cannot bring patches.",
        "Apps record the run image as written. `pack rebase` (and lifecycle's rebaser) then "
        "resolve that name again: a digest always resolves to the same image, so rebasing "
        "never moves apps onto a patched OS layer. Floating tags (:latest, :24, or none) "
        "are how buildpacks deliver base-image patches. Pin by digest only on purpose.",
    ),
    Rule(
        "INS101",
        "missing-image",
        Level.ERROR,
        "The run image or a mirror does not exist in its registry.",
        "The registry answered 404. pack counts any answer but 401/403 as readable, so it "
        "can still pick a missing mirror, and the build then fails to pull it.",
        online=True,
    ),
    Rule(
        "INS102",
        "stale-mirror",
        Level.ERROR,
        "A mirror serves a different digest than the run image.",
        "The mirror is out of sync: apps on its registry are built on a different (usually "
        "older) base image. Copy the run image to it again (`inspector sync`).",
        online=True,
    ),
    Rule(
        "INS103",
        "unauthorized",
        Level.WARNING,
        "The registry refused access (401/403).",
        "pack drops candidates it cannot read and falls back to another. Check the "
        "credentials for this registry (docker login; in CI, the job's pull access).",
        online=True,
    ),
    Rule(
        "INS104",
        "registry-unreachable",
        Level.WARNING,
        "The registry could not be reached, or answered with an error.",
        "A network, DNS or TLS failure, or a server error. Without an answer pack drops the "
        "candidate; an HTTP error other than 401/403 still counts as readable to pack.",
        online=True,
    ),
)

# The check lives in audit_registry_mirrors.py (pack-fidelity); registered here with the rest.
RULES += (
    Rule(
        "INS105",
        "registry-mirror-lacks-run-image",
        Level.ERROR,
        "A [registry-mirrors] host in pack's config lacks the run image, or holds other bits.",
        "pack selects the run image without translating, then pulls the pick from the "
        "registry mirror (TranslateRegistry). A missing or stale copy there is what the "
        "build really gets. Copy the run image to the mirror, or fix the mirror entry.",
        online=True,
    ),
)

RULES_BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in RULES}


def rule(rule_id: str) -> Rule:
    return RULES_BY_ID[rule_id]


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    file: str
    line: int
    column: int | None
    message: str

    @property
    def rule_id(self) -> str:
        return self.rule.id

    @property
    def level(self) -> Level:
        return self.rule.level


@dataclass(frozen=True, slots=True)
class Summary:
    files: int
    errors: int
    warnings: int
    notes: int
    fail_on: Level | None  # None: never fail

    @property
    def total(self) -> int:
        return self.errors + self.warnings + self.notes

    @property
    def failed(self) -> bool:
        if self.fail_on is None:
            return False
        counts = {Level.ERROR: self.errors, Level.WARNING: self.warnings, Level.NOTE: self.notes}
        return any(n for level, n in counts.items() if level.rank >= self.fail_on.rank)


def summarize(findings: Sequence[Finding], files: int, fail_on: Level | None) -> Summary:
    def count(level: Level) -> int:
        return sum(1 for f in findings if f.level is level)

    return Summary(files, count(Level.ERROR), count(Level.WARNING), count(Level.NOTE), fail_on)
