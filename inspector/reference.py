"""Image references: the distribution grammar with go-containerregistry's normalization.

Pure: no I/O. pack compares registries with go-containerregistry's ``name`` package
(``ref.Context().RegistryStr()``), so this module follows ``pkg/name`` where it and
distribution/reference differ:

* the first path component is a registry only if it contains ``.`` or ``:`` or is
  ``localhost`` (ggcr ``repository.go``; distribution would also take an uppercase one);
* no registry means Docker Hub, ``index.docker.io``; only ``docker.io`` is rewritten to
  it (ggcr ``registry.go``) — ``registry-1.docker.io`` is compared as written;
* single-name Docker Hub repositories get ``library/``;
* neither tag nor digest means tag ``latest``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from inspector.errors import InputError

DEFAULT_REGISTRY = "index.docker.io"
DEFAULT_TAG = "latest"
# Names that reach Docker Hub for transport and credentials. Only "docker.io" is
# *rewritten* for comparison; the others keep their spelling (pack never matches them).
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"

NAME_TOTAL_LENGTH_MAX = 255
TAG_LENGTH_MAX = 128

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = re.compile(rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
# Digest algorithms and the exact hex length each needs (opencontainers/go-digest).
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_LOWER_HEX = re.compile(r"[a-f0-9]+")


class ReferenceError(InputError, ValueError):
    """An image reference that does not parse; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed image reference.

    ``registry`` is the registry as pack compares it; ``repository`` has ``library/``
    added for single-name Docker Hub images. ``tag`` is ``latest`` when the reference
    names neither tag nor digest.
    """

    original: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """Registry and repository, e.g. ``index.docker.io/library/ubuntu``."""
        return f"{self.registry}/{self.repository}"

    @property
    def normalized(self) -> str:
        """Fully qualified: ``index.docker.io/library/x:latest`` or ``r/x@sha256:…``."""
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def identifier(self) -> str:
        """What to ask the registry for: the digest when there is one, else the tag."""
        if self.digest is not None:
            return self.digest
        assert self.tag is not None  # parse() guarantees one of them
        return self.tag

    @property
    def is_docker_hub(self) -> bool:
        """True when requests and credentials for this image go to Docker Hub."""
        return self.registry in DOCKER_HUB_HOSTS

    def __str__(self) -> str:
        return self.normalized


def parse(text: str) -> Reference:
    """Parse ``text`` as an image reference, or raise :class:`ReferenceError`."""
    if not isinstance(text, str):
        raise ReferenceError(f"invalid reference {text!r}: not a string")
    if text == "":
        raise ReferenceError("invalid reference '': empty")
    if text != text.strip() or any(c.isspace() for c in text):
        raise ReferenceError(f"invalid reference {text!r}: contains whitespace")

    def fail(why: str) -> ReferenceError:
        return ReferenceError(f"invalid reference {text!r}: {why}")

    name, at, digest = text.partition("@")
    if at:
        _check_digest(digest, fail)
    digest_or_none = digest if at else None

    # A tag is a ':' suffix of the last path component ("localhost:5000/x" has none).
    head, colon, tail = name.rpartition(":")
    tag: str | None = None
    if colon and "/" not in tail:
        name, tag = head, tail
        if not _TAG.fullmatch(tag):
            if len(tag) > TAG_LENGTH_MAX:
                raise fail(f"tag is longer than {TAG_LENGTH_MAX} characters")
            raise fail(f"invalid tag {tag!r}")
    if name == "":
        raise fail("no repository name")

    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
        if not _HOST.fullmatch(registry):
            raise fail(f"invalid registry {registry!r}")
    else:
        registry, path = DEFAULT_REGISTRY, name

    for component in path.split("/"):
        if component == "":
            raise fail("empty path component")
        if not _PATH_COMPONENT.fullmatch(component):
            if component.lower() != component and _PATH_COMPONENT.fullmatch(component.lower()):
                raise fail("repository name must be lowercase")
            raise fail(f"invalid path component {component!r}")

    if registry == "docker.io":
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    # The limit is on the repository path, not the registry (distribution/reference
    # ``RepositoryNameTotalLengthMax``, ggcr ``checkRepository``); checked after
    # ``library/`` so that ``normalized`` always parses again.
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise fail(f"repository name is longer than {NAME_TOTAL_LENGTH_MAX} characters")
    if tag is None and digest_or_none is None:
        tag = DEFAULT_TAG
    return Reference(text, registry, path, tag, digest_or_none)


def registry_of(text: str) -> str:
    """The registry pack compares for ``text`` (``RegistryStr()``)."""
    return parse(text).registry


def _check_digest(digest: str, fail: Callable[[str], ReferenceError]) -> None:
    algorithm, colon, hex_part = digest.partition(":")
    if not colon or not algorithm or not hex_part:
        raise fail(f"invalid digest {digest!r}: expected algorithm:hex")
    expected = _DIGEST_HEX_LENGTH.get(algorithm)
    if expected is None:
        raise fail(f"unsupported digest algorithm {algorithm!r}")
    if not _LOWER_HEX.fullmatch(hex_part):
        raise fail(f"invalid digest {digest!r}: not lowercase hex")
    if len(hex_part) != expected:
        raise fail(f"invalid {algorithm} digest: {len(hex_part)} hex characters, want {expected}")
