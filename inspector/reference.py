"""Image references parsed exactly as pack v0.40.x parses them. Pure: no I/O.

pack v0.40.3-v0.40.6 pins go-containerregistry **v0.21.5** and calls
``name.ParseReference(s, name.WeakValidation)`` (``pkg/client/common.go:133``); pack is
built with Go 1.25, whose ``net/url`` validates the registry host. This module is a
transcription of ``pkg/name`` at tag v0.21.5 (file:line cited below) and of the parts of
Go 1.25's ``net/url`` (``parse``, ``parseAuthority``, ``parseHost``, ``unescape``,
``shouldEscape``, ``validOptionalPort``) and ``net/netip`` (``ParseAddr``, ``parseIPv6``,
``parseIPv4Fields``) that decide whether a registry is valid. It is *not* distribution's
grammar: ggcr checks character sets and lengths, not path-component separators.

Consequences users meet: ``localhost/x`` is the Docker Hub repository ``localhost/x``
(see :data:`LOCALHOST_IS_REGISTRY`); repositories are 2-255 characters as written;
only ``sha256`` digests; ``my_registry:5000`` and ``[::ffff:10.0.0.1]:5000`` are valid
registries; ``docker.io`` is rewritten to ``index.docker.io`` and nothing else is.
"""

from __future__ import annotations

from dataclasses import dataclass

from inspector.errors import InputError

# options.go:20-25
DEFAULT_REGISTRY = "index.docker.io"
DEFAULT_REGISTRY_ALIAS = "docker.io"
DEFAULT_TAG = "latest"
DEFAULT_NAMESPACE = "library"  # repository.go:25

# Names that reach Docker Hub for transport and credentials. Only "docker.io" is
# *rewritten* for comparison; the others keep their spelling (pack never matches them).
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"

# check.go:35 limits, as repository.go:75 and tag.go:73 call it.
NAME_TOTAL_LENGTH_MIN = 2
NAME_TOTAL_LENGTH_MAX = 255
TAG_LENGTH_MAX = 128

REPOSITORY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-./")  # repository.go:26
TAG_CHARS = frozenset(  # tag.go:25
    "abcdefghijklmnopqrstuvwxyz0123456789_-.ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_LOWER_HEX = frozenset("0123456789abcdef")

# --- the localhost rule, in one place --------------------------------------------------------
# ggcr v0.21.5 repository.go:88 takes the first path component as the registry iff it
# contains "." or ":". v0.21.7 added `maybeRegistry == "localhost"`; pack v0.40.x does not
# use that version yet. Flip this when pack moves to ggcr >= v0.21.7.
LOCALHOST_IS_REGISTRY = False


def names_a_registry(first_component: str) -> bool:
    """Whether the first ``/``-separated component of a name is a registry for pack."""
    if LOCALHOST_IS_REGISTRY and first_component == "localhost":
        return True
    return "." in first_component or ":" in first_component


class ReferenceError(InputError, ValueError):
    """An image reference that does not parse; the message says what is wrong."""


class _BadName(Exception):
    """ggcr's ``ErrBadName``: internal, turned into a :class:`ReferenceError` by parse."""


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed image reference.

    ``registry`` is ggcr's ``RegistryStr()`` (what pack compares); ``repository`` is
    ``RepositoryStr()`` (``library/`` added for single-name Docker Hub images). ``tag`` is
    the tag as written, ``latest`` when the reference names neither tag nor digest, and
    ``None`` for a digest-only reference. A reference with both is a ggcr *Digest*: the
    registry is asked for the digest (``identifier``); the tag is kept for display.
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
        """ggcr ``Identifier()``: the digest when there is one, else the tag."""
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
    """``name.ParseReference(text, name.WeakValidation)`` or :class:`ReferenceError`."""
    if not isinstance(text, str):
        raise ReferenceError(f"invalid reference {text!r}: not a string")
    # ref.go:40-48: a Tag if NewTag accepts it, else a Digest if NewDigest does.
    try:
        registry, repo, tag, _ = _new_tag(text)
        return Reference(text, registry, _repository_str(registry, repo), tag, None)
    except _BadName as tag_error:
        why = str(tag_error)
    try:
        registry, repo, tag_or_none, digest = _new_digest(text)
        return Reference(text, registry, _repository_str(registry, repo), tag_or_none, digest)
    except _BadName as digest_error:
        if "@" in text:
            why = str(digest_error)
    raise ReferenceError(f"invalid reference {text!r}: {why}")


def registry_of(text: str) -> str:
    """The registry pack compares for ``text`` (``ref.Context().RegistryStr()``)."""
    return parse(text).registry


# --- pkg/name transcription ------------------------------------------------------------------


def _check_element(what: str, element: str, allowed: frozenset[str], low: int, high: int) -> None:
    """check.go:35-43: a length in runes (Python code points), then a character set."""
    if not low <= len(element) <= high:
        raise _BadName(f"{what} must be between {low} and {high} characters in length")
    bad = next((c for c in element if c not in allowed), None)
    if bad is not None:
        raise _BadName(f"{what} cannot contain {bad!r}")


def _new_registry(name: str) -> str:
    """registry.go:121-141 NewRegistry (weak): checkRegistry, default, docker.io rewrite."""
    if not _is_uri_authority(name):  # registry.go:110-117 checkRegistry
        raise _BadName(f"registry {name!r} is not a valid RFC 3986 URI authority")
    if name == "":
        name = DEFAULT_REGISTRY
    if name == DEFAULT_REGISTRY_ALIAS:  # registry.go:136-138
        name = DEFAULT_REGISTRY
    return name


def _new_repository(name: str) -> tuple[str, str]:
    """repository.go:79-108 NewRepository (weak) -> (registry, repository as written)."""
    if name == "":
        raise _BadName("a repository name must be specified")
    registry, repo = "", name
    first, slash, rest = name.partition("/")  # strings.SplitN(name, "/", 2)
    if slash and names_a_registry(first):  # repository.go:88
        registry, repo = first, rest
    # repository.go:74-76: the 2-255 limit applies to the repository *as written*
    # (without the registry, and without the implicit "library/").
    _check_element("repository", repo, REPOSITORY_CHARS, NAME_TOTAL_LENGTH_MIN, 255)
    return _new_registry(registry), repo


def _repository_str(registry: str, repo: str) -> str:
    """repository.go:42-52 RepositoryStr: ``library/`` for single-name Docker Hub images."""
    if "/" not in repo and registry == DEFAULT_REGISTRY:
        return f"{DEFAULT_NAMESPACE}/{repo}"
    return repo


def _new_tag(name: str) -> tuple[str, str, str, bool]:
    """tag.go:77-116 NewTag (weak) -> (registry, repository, tag, tag was written)."""
    base, tag = name, ""
    parts = name.split(":")
    # tag.go:84-91: the last ":" part is a tag unless it holds a "/" (a host's port).
    if len(parts) > 1 and "/" not in parts[-1]:
        base, tag = ":".join(parts[:-1]), parts[-1]
        if tag == "":
            raise _BadName("a tag name must follow the colon")
    written = tag != ""
    if written:  # tag.go:97-101, checkTag tag.go:72-74
        _check_element("tag", tag, TAG_CHARS, 1, TAG_LENGTH_MAX)
    else:
        tag = DEFAULT_TAG
    registry, repo = _new_repository(base)
    return registry, repo, tag, written


def _new_digest(name: str) -> tuple[str, str, str | None, str]:
    """digest.go:102-133 NewDigest -> (registry, repository, tag as written, digest)."""
    parts = name.split("@")
    if len(parts) != 2:
        raise _BadName("a digest must contain exactly one '@' separator")
    base, digest = parts
    prefix = "sha256:"  # go-digest Canonical; no other algorithm is accepted
    if not digest.startswith(prefix):
        raise _BadName(f"unsupported digest algorithm in {digest!r} (only sha256)")
    hex_part = digest[len(prefix) :]
    # go-digest Algorithm.Validate: exactly 64 characters of [a-f0-9].
    if len(hex_part) != 64:
        raise _BadName("invalid checksum digest length")
    if not set(hex_part) <= _LOWER_HEX:
        raise _BadName("invalid checksum digest format")
    tag: str | None = None
    try:
        # digest.go:119-122: a valid "name:tag" base is re-read from its Name(), so the
        # repository is checked again *with* the implicit "library/".
        registry, repo, parsed_tag, written = _new_tag(base)
        base = f"{registry}/{_repository_str(registry, repo)}"
        tag = parsed_tag if written else None
    except _BadName:
        pass
    registry, repo = _new_repository(base)
    return registry, repo, tag, digest


# --- Go 1.25 net/url: url.Parse("//" + name).Host == name ----------------------------------

# url.go shouldEscape(c, encodeHost): what a host may hold unescaped (ASCII only; bytes
# >= 0x80 are never rejected by unescape in host mode).
_HOST_ASCII = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    "-_.~"  # unreserved marks
    "!$&'()*+,;=:[]<>\""  # sub-delims plus what Go adds for host[:port] and [ipv6]
)


def _is_uri_authority(name: str) -> bool:
    """registry.go:113: ``url.Parse("//" + name)`` succeeds and its Host equals ``name``.

    url.go ``parse``: control bytes fail; ``#`` (fragment), ``?`` (query), ``/`` (path)
    and ``@`` (userinfo) all cut the host short of ``name``, and ``%`` either fails to
    unescape or unescapes to something else, so none can be in a valid registry.
    """
    if name == "":
        return True
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):  # stringContainsCTLByte
        return False
    if any(c in "#?/@%" for c in name):
        return False
    return _parse_host_keeps(name)


def _valid_optional_port(port: str) -> bool:
    """url.go validOptionalPort: empty, or ``:`` and digits (``:`` alone is fine)."""
    if port == "":
        return True
    return port[0] == ":" and all("0" <= c <= "9" for c in port[1:])


def _host_chars_ok(text: str) -> bool:
    """url.go unescape(text, encodeHost) without ``%``: no ASCII that must be escaped."""
    return all(ord(c) >= 0x80 or c in _HOST_ASCII for c in text)


def _parse_host_keeps(host: str) -> bool:
    """url.go parseHost (Go 1.25.3+) returns ``host`` unchanged, without error."""
    open_bracket = host.rfind("[")
    if open_bracket != -1:
        close_bracket = host.rfind("]")
        if close_bracket < 0:
            return False  # missing ']' in host
        if not _valid_optional_port(host[close_bracket + 1 :]):
            return False  # (also covers a "]" before the last "[")
        hostname = host[open_bracket + 1 : close_bracket]
        if not _host_chars_ok(hostname):
            return False
        # "Per RFC 3986, only a host identified by a valid IPv6 address can be enclosed
        # by square brackets. This excludes any IPv4, but notably not IPv4-mapped
        # addresses." The result is "[" + hostname + "]" + port: equal only from index 0.
        return _is_ipv6_not_ipv4(hostname) and open_bracket == 0
    colon = host.rfind(":")
    if colon != -1 and not _valid_optional_port(host[colon:]):
        return False
    return _host_chars_ok(host)


def _is_ipv6_not_ipv4(text: str) -> bool:
    """netip.ParseAddr(text) succeeds and ``!addr.Is4()``; ``text`` holds no ``%``."""
    for c in text:  # netip.go ParseAddr: the first "." or ":" decides
        if c == ".":
            return False  # IPv4 (or an error): rejected in brackets either way
        if c == ":":
            return _parse_ipv6(text)
    return False


def _parse_ipv6(s: str) -> bool:
    """netip.go parseIPv6 without zones: True when ``s`` is a valid IPv6 address."""
    ellipsis = -1
    if len(s) >= 2 and s[0] == ":" and s[1] == ":":
        ellipsis, s = 0, s[2:]
        if s == "":
            return True
    i = 0
    while i < 16:
        off = 0
        while off < len(s) and s[off] in "0123456789abcdefABCDEF":
            if off > 3:
                return False  # each group must have 4 or less digits
            off += 1
        if off == 0:
            return False  # each colon-separated field must have at least one digit
        if off < len(s) and s[off] == ".":
            if ellipsis < 0 and i != 12:
                return False  # embedded IPv4 must replace the final 2 fields
            if i + 4 > 16:
                return False
            if not _parse_ipv4_fields(s):
                return False
            s, i = "", i + 4
            break
        i += 2
        s = s[off:]
        if s == "":
            break
        if s[0] != ":" or len(s) == 1:
            return False  # want colon; colon must be followed by more characters
        s = s[1:]
        if s[0] == ":":
            if ellipsis >= 0:
                return False  # multiple :: in address
            ellipsis, s = i, s[1:]
            if s == "":
                break
    if s != "":
        return False  # trailing garbage after address
    if i < 16:
        return ellipsis >= 0  # else: address string too short
    return ellipsis < 0  # the :: must expand to at least one field of zeros


def _parse_ipv4_fields(s: str) -> bool:
    """netip.go parseIPv4Fields: four decimal octets, no leading zeros, each <= 255."""
    fields = s.split(".")
    if len(fields) != 4:
        return False
    for field in fields:
        if not field or len(field) > 3 or not all("0" <= c <= "9" for c in field):
            return False
        if len(field) > 1 and field[0] == "0":
            return False  # IPv4 field has octet with leading zero
        if int(field) > 255:
            return False
    return True
