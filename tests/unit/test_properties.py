"""Properties (hypothesis) of the reference parser and the config loaders.

Examples per run (``max_examples``; the whole file takes a few seconds):

* ``test_arbitrary_text_parses_or_raises_reference_error``           1500
* ``test_reference_alphabet_text_parses_or_raises_reference_error``  1500
* ``test_grammar_references_parse_to_what_the_grammar_says``          1500
* ``test_builder_loader_arbitrary_bytes``                             300
* ``test_pack_loader_arbitrary_bytes``                                300
* ``test_builder_loader_generated_documents``                         500
* ``test_pack_loader_generated_documents``                            300

Run with ``-s`` to see the counts hypothesis actually ran (it prints them at module teardown).
"""

from __future__ import annotations

import json
import math
import re
import string
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from inspector.reference import (
    DEFAULT_REGISTRY,
    NAME_TOTAL_LENGTH_MAX,
    REPOSITORY_CHARS,
    TAG_CHARS,
    Reference,
    ReferenceError,
    parse,
)
from inspector.sources import builder_toml, pack_config
from inspector.sources.model import Builder, ConfigError, RunImage
from inspector.sources.pack_config import PackConfig

RAN: Counter[str] = Counter()
# No example database: runs leave nothing behind in the work tree.
FAST = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    print("\nhypothesis examples run:", dict(RAN))


# --- the reference parser --------------------------------------------------------------------


def check_parse_total(text: str) -> Reference | None:
    """``parse`` returns a Reference that round-trips, or raises ReferenceError; nothing else.

    The one exception is ggcr's own: a single-name Docker Hub repository of 248-255
    characters is valid as written, but its normalized form (with ``library/``) is past
    the 255 limit, so it does not parse again (ggcr ``Name()`` would not either).
    """
    try:
        ref = parse(text)
    except ReferenceError as error:
        message = str(error)
        assert message.startswith("invalid reference")
        assert "\n" not in message
        return None
    assert isinstance(ref, Reference)
    assert ref.tag is not None or ref.digest is not None
    if ref.registry == DEFAULT_REGISTRY and len(ref.repository) > NAME_TOTAL_LENGTH_MAX:
        with pytest.raises(ReferenceError):
            parse(ref.normalized)
        return ref
    again = parse(ref.normalized)
    assert (again.registry, again.repository, again.tag, again.digest) == (
        ref.registry,
        ref.repository,
        ref.tag,
        ref.digest,
    )
    assert again.normalized == ref.normalized
    return ref


@settings(FAST, max_examples=1500)
@given(st.text())
def test_arbitrary_text_parses_or_raises_reference_error(text):
    RAN["arbitrary text"] += 1
    check_parse_total(text)


REFERENCE_ALPHABET = string.ascii_letters + string.digits + "._-/:@[]" + " \t\n%é"
PIECES = st.sampled_from(
    [
        "a", "b0", "x", "docker.io", "index.docker.io", "registry-1.docker.io", "localhost",
        "example.com", ":5000", ":", "/", "//", "@", "@sha256:", "sha256:", "sha512:", "f" * 64,
        "F" * 64, "f" * 128, "_", "__", "___", "-", "--", ".", "..", "[::1]", "[", "]",
        "library", "Upper", "t" * 128, "latest",
    ]
)  # fmt: skip


@settings(FAST, max_examples=1500)
@given(st.one_of(st.text(REFERENCE_ALPHABET, max_size=80), st.lists(PIECES).map("".join)))
def test_reference_alphabet_text_parses_or_raises_reference_error(text):
    RAN["reference-alphabet text"] += 1
    check_parse_total(text)


# A strategy for valid references, built from go-containerregistry v0.21.5's rules (character
# sets, 2-255 repository, sha256 only, Go net/url hosts), with the expected parse computed
# from those rules (not from the parser).
repository_text = st.text("".join(sorted(REPOSITORY_CHARS)), min_size=2, max_size=40)
domain_label = st.from_regex(r"\A[a-zA-Z0-9_~-]{1,10}\Z")
port = st.one_of(st.just(":"), st.integers(0, 99999).map(lambda p: f":{p}"))
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
ipv6 = st.one_of(
    st.sampled_from(
        ["[::1]", "[2001:db8::1]", "[fc00:1:2:3:4:5:6:7]", "[2001:db8::]", "[FE80::1]", "[::]"]
    ),
    ipv4.map(lambda a: f"[::ffff:{a}]"),
)


@st.composite
def registry_host(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["dotted", "label+port", "ipv4", "ipv6", "named"]))
    if kind == "dotted":
        labels = draw(st.lists(domain_label, min_size=2, max_size=4))
        return ".".join(labels) + draw(st.one_of(st.just(""), port))
    if kind == "label+port":
        return draw(domain_label) + draw(port)
    if kind == "ipv4":
        return draw(ipv4) + draw(st.one_of(st.just(""), port))
    if kind == "ipv6":
        return draw(ipv6) + draw(st.one_of(st.just(""), port))
    return draw(
        st.sampled_from(
            [
                "localhost:5000",
                "my_registry:5000",
                "docker.io",
                "index.docker.io",
                "registry-1.docker.io",
                "registry.hub.docker.com",
            ]
        )
    )


tag_st = st.text("".join(sorted(TAG_CHARS)), min_size=1, max_size=128)
digest_st = st.text("0123456789abcdef", min_size=64, max_size=64).map("sha256:".__add__)


@st.composite
def grammar_reference(draw: st.DrawFn) -> tuple[str, tuple[str, str, str | None, str | None]]:
    registry = draw(st.one_of(st.none(), registry_host()))
    path = draw(repository_text)
    if registry is None:
        first, slash, _ = path.partition("/")
        # Without a registry, a first component with "." would itself be read as one.
        assume(not (slash and "." in first))
    tag = draw(st.one_of(st.none(), tag_st))
    digest = draw(st.one_of(st.none(), digest_st))
    text = (f"{registry}/" if registry else "") + path
    text += (f":{tag}" if tag is not None else "") + (f"@{digest}" if digest else "")
    # What ggcr's rules say the parse is:
    expected_registry = {None: "index.docker.io", "docker.io": "index.docker.io"}.get(
        registry, registry
    )
    if expected_registry == "index.docker.io" and "/" not in path:
        path = f"library/{path}"
    if tag is None and digest is None:
        tag = "latest"
    return text, (expected_registry, path, tag, digest)


@settings(FAST, max_examples=1500)
@given(grammar_reference())
def test_grammar_references_parse_to_what_the_grammar_says(case):
    RAN["grammar references"] += 1
    text, (registry, repository, tag, digest) = case
    ref = check_parse_total(text)
    assert ref is not None, text
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )
    assert ref.original == text


# --- config loaders --------------------------------------------------------------------------

KEYS = [
    "run", "images", "image", "mirrors", "stack", "id", "build-image", "run-image",
    "run-image-mirrors", "run-images", "build", "description", "buildpacks", "version",
    "lifecycle", "uri", "other",
]  # fmt: skip
scalar = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["example/run", "registry.example.com/x/run", "Bad/Ref", ""]),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
)
key = st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=6))
value = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(key, inner, max_size=4)),
    max_leaves=12,
)
document = st.dictionaries(key, value, max_size=6)


def toml_string(text: str) -> str:
    """A TOML basic string: JSON escapes, except that non-ASCII stays as it is (TOML has no
    surrogate-pair escapes) and DEL is escaped (TOML forbids it raw)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else toml_string(k)


def toml_value(v: Any) -> str:
    """Inline TOML for a value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        assert math.isfinite(v)
        return repr(v) if ("." in repr(v) or "e" in repr(v)) else f"{v!r}.0"
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def dump_toml(doc: dict[str, Any]) -> str:
    """A tiny TOML writer: scalars and arrays inline, tables as ``[t]``, arrays of tables as
    ``[[t]]``, so both table syntaxes get exercised."""
    lines: list[str] = []
    later: list[str] = []
    for k, v in doc.items():
        name = toml_key(k)
        if isinstance(v, dict):
            later.append(f"[{name}]")
            later += [f"{toml_key(sk)} = {toml_value(sv)}" for sk, sv in v.items()]
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for item in v:
                later.append(f"[[{name}]]")
                later += [f"{toml_key(sk)} = {toml_value(sv)}" for sk, sv in item.items()]
        else:
            lines.append(f"{name} = {toml_value(v)}")
    return "\n".join(lines + later) + "\n"


def load_or_config_error(loader, data: bytes) -> Builder | PackConfig | None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "config.toml"
        path.write_bytes(data)
        try:
            return loader(path)
        except ConfigError as error:
            message = str(error)
            assert str(path) in message
            assert "\n" not in message
            return None


toml_ish = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.lists(
        st.sampled_from(
            [
                "[[run.images]]\n", "[stack]\n", "[run]\n", "[[run-images]]\n", "image = ",
                "mirrors = ", "run-image = ", '"example/run"', "[", "]", "{", "}", ",", "=",
                "'x'", "1", "\n", '"""', "#", "\\", "\x00", "\ud7ff",
            ]
        ),
        max_size=30,
    ).map(lambda parts: "".join(parts).encode()),
)  # fmt: skip


@settings(FAST, max_examples=300)
@given(toml_ish)
def test_builder_loader_arbitrary_bytes(data):
    RAN["builder arbitrary bytes"] += 1
    load_or_config_error(builder_toml.load, data)


@settings(FAST, max_examples=300)
@given(toml_ish)
def test_pack_loader_arbitrary_bytes(data):
    RAN["pack arbitrary bytes"] += 1
    load_or_config_error(pack_config.load, data)


def images_of(doc: dict[str, Any]) -> list[Any]:
    run = doc.get("run")
    images = run.get("images") if isinstance(run, dict) else None
    return images if isinstance(images, list) else []


good_ref = st.sampled_from(["a/run", "b/run", "registry.example.com/a/run", "Bad/Ref", "x"])
# Mostly well-typed, sometimes not: so that both loading and every type error get exercised.
image_value = st.one_of(good_ref, good_ref, good_ref, scalar)
mirrors_value = st.one_of(
    st.lists(good_ref, max_size=3),
    st.lists(good_ref, max_size=3),
    st.lists(scalar, max_size=3),
    value,
)
string_value = st.one_of(st.text(max_size=8), st.text(max_size=8), scalar)
image_table = st.fixed_dictionaries({"image": image_value}, optional={"mirrors": mirrors_value})

stack_table = st.fixed_dictionaries(
    {},
    optional={"id": string_value, "run-image": image_value, "run-image-mirrors": mirrors_value},
)
builder_document = st.one_of(
    document,
    # Documents close to a real builder.toml, so that loading often succeeds.
    st.fixed_dictionaries(
        {},
        optional={
            "run": st.fixed_dictionaries(
                {}, optional={"images": st.lists(image_table, max_size=3)}
            ),
            "stack": stack_table,
            "description": string_value,
        },
    ),
    st.fixed_dictionaries(
        {"run": st.fixed_dictionaries({"images": st.lists(image_table, min_size=1, max_size=3)})},
        optional={"stack": stack_table},
    ),
)


@settings(FAST, max_examples=500)
@given(builder_document)
def test_builder_loader_generated_documents(doc):
    RAN["builder documents"] += 1
    builder = load_or_config_error(builder_toml.load, dump_toml(doc).encode())
    if builder is None:
        return
    RAN["builder documents loaded"] += 1
    assert isinstance(builder, Builder)
    assert builder.run_images
    images = images_of(doc)
    stack = doc.get("stack") if isinstance(doc.get("stack"), dict) else {}
    stack_image = stack.get("run-image") and RunImage(
        stack["run-image"], tuple(stack.get("run-image-mirrors", ()))
    )
    if images:  # [[run.images]] wins, in order; [stack] kept aside
        assert builder.run_images == tuple(
            RunImage(i["image"], tuple(i.get("mirrors", ()))) for i in images
        )
        if stack.get("run-image"):
            assert builder.stack_run_image == stack_image
        else:
            assert builder.stack_run_image is None
    else:
        assert builder.run_images == (stack_image,)
        assert builder.stack_run_image is None
    assert all(isinstance(r.image, str) and r.image for r in builder.run_images)
    assert all(isinstance(m, str) for r in builder.run_images for m in r.mirrors)


pack_document = st.one_of(
    document,
    st.fixed_dictionaries(
        {},
        optional={
            "run-images": st.lists(image_table, max_size=4),
            "default-builder-image": string_value,
        },
    ),
)


@settings(FAST, max_examples=300)
@given(pack_document)
def test_pack_loader_generated_documents(doc):
    RAN["pack documents"] += 1
    config = load_or_config_error(pack_config.load, dump_toml(doc).encode())
    if config is None:
        return
    RAN["pack documents loaded"] += 1
    assert isinstance(config, PackConfig)
    entries = doc.get("run-images") or []
    # The last entry for a key wins (pack builds a map from the list in order).
    expected: dict[str, tuple[str, ...]] = {}
    for entry in entries:
        expected[entry["image"]] = tuple(entry.get("mirrors", ()))
    for image, mirrors in expected.items():
        assert config.mirrors_for(image) == mirrors
    assert config.mirrors_for("never/configured:at-all") == ()
