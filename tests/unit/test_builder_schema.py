"""Unknown keys anywhere in a builder.toml, as pack's strict decoder (BurntSushi/toml,
``Undecoded()``) finds them, with their exact place; and how every command reports them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inspector.checks import audit as checks
from inspector.cli import main
from inspector.sources import builder_schema, builder_toml

# A builder.toml using every key of pack's schema once: none of them is unknown.
EVERY_KEY = """\
description = "all keys"

[[buildpacks]]
id = "example/node"
name = "Node"
version = "1.0.0"
description = "d"
homepage = "https://example.com"
keywords = ["node"]
exec-env = ["production"]
clear-env = false
uri = "docker://example/node:1.0.0"
image = "example/node:1.0.0"
[[buildpacks.licenses]]
type = "MIT"
uri = "https://example.com/license"

[[extensions]]
id = "example/ext"
version = "0.1.0"
uri = "ext.tgz"

[[order]]
[[order.group]]
id = "example/node"
version = "1.0.0"
optional = true

[[order-extensions]]
[[order-extensions.group]]
id = "example/ext"

[lifecycle]
uri = "lifecycle.tgz"
version = "0.20.0"

[build]
image = "example/build:1"
[[build.env]]
name = "BP_X"
value = "1"
suffix = "default"
delim = ":"
exec-env = ["production"]

[[run.images]]
image = "example/run:1"
mirrors = ["registry.example.com/example/run:1"]

[[targets]]
os = "linux"
arch = "arm64"
variant = "v8"
[[targets.distros]]
name = "ubuntu"
version = "22.04"

[system.pre]
buildpacks = [{ id = "example/pre", version = "1", optional = true }]
[system.post]
[[system.post.buildpacks]]
id = "example/post"

[stack]
id = "io.buildpacks.stacks.jammy"
build-image = "example/build:1"
run-image = "example/run:1"
run-image-mirrors = ["registry.example.com/example/run:1"]
"""


def write(tmp_path: Path, text: str, name: str = "builder.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_key_of_packs_schema_is_known(tmp_path: Path) -> None:
    assert builder_toml.load(write(tmp_path, EVERY_KEY)).unknown_keys == ()


# (a line inserted after `after`, the path pack reports it under, the key it meant)
MISSPELT = [
    ('uri = "docker://example/node:1.0.0"\n', ("buildpacks", 0, "url"), "uri"),
    ('type = "MIT"\n', ("buildpacks", 0, "licenses", 0, "typ"), "type"),
    ('uri = "ext.tgz"\n', ("extensions", 0, "versions"), "version"),
    ("optional = true\n", ("order", 0, "group", 0, "optinal"), "optional"),
    ("[[order-extensions.group]]\n", ("order-extensions", 0, "group", 0, "ids"), "id"),
    ('version = "0.20.0"\n', ("lifecycle", "versions"), "version"),
    ('image = "example/build:1"\n', ("build", "imag"), "image"),
    ('delim = ":"\n', ("build", "env", 0, "suffx"), "suffix"),
    (
        'mirrors = ["registry.example.com/example/run:1"]\n',
        ("run", "images", 0, "mirror"),
        "mirrors",
    ),
    ('variant = "v8"\n', ("targets", 0, "distributions"), "distros"),
    ('version = "22.04"\n', ("targets", 0, "distros", 0, "versions"), "version"),
    ("[system.post]\n", ("system", "post", "buildpack"), "buildpacks"),
    ('id = "example/post"\n', ("system", "post", "buildpacks", 0, "optinal"), "optional"),
    ('run-image = "example/run:1"\n', ("stack", "run-image-mirror"), "run-image-mirrors"),
    ('description = "all keys"\n', ("descriptin",), "description"),
]


@pytest.mark.parametrize(("after", "path", "meant"), MISSPELT, ids=[str(m[1]) for m in MISSPELT])
def test_a_misspelt_key_is_found_in_every_section_at_its_line(
    tmp_path: Path, after: str, path: tuple[Any, ...], meant: str
) -> None:
    assert EVERY_KEY.count(after) >= 1
    index = EVERY_KEY.index(after) + len(after)
    key = path[-1]
    text = EVERY_KEY[:index] + f'{key} = "x"\n' + EVERY_KEY[index:]
    line = EVERY_KEY[:index].count("\n") + 1

    (unknown,) = builder_toml.load(write(tmp_path, text)).unknown_keys

    assert unknown.path == path
    assert (unknown.line, unknown.column) == (line, 1)
    assert unknown.suggestion() == meant
    assert unknown.in_run_image_section is (path[0] in ("run", "stack"))


def test_keys_match_case_insensitively_as_in_burntsushi_toml(tmp_path: Path) -> None:
    text = '[[Run.Images]]\nImage = "example/run:1"\nMirrors = ["r.example.com/example/run:1"]\n'
    builder = builder_toml.load(write(tmp_path, text))
    assert builder.unknown_keys == ()
    assert builder.run_images[0].mirrors == ("r.example.com/example/run:1",)


def test_a_misspelt_mirrors_key_loses_its_values_but_is_named(tmp_path: Path) -> None:
    text = '[[run.images]]\nimage = "example/run:1"\nmirror = ["r.example.com/example/run:1"]\n'
    builder = builder_toml.load(write(tmp_path, text))
    assert builder.run_images[0].mirrors == ()
    (unknown,) = builder.unknown_keys
    assert unknown.describe() == "[[run.images]] #1: unknown key 'mirror'"
    assert unknown.line == 3


def test_nested_arrays_of_tables_name_both_entries(tmp_path: Path) -> None:
    text = (
        '[[run.images]]\nimage = "r/x:1"\n'
        '[[order]]\n[[order.group]]\nid = "a"\n[[order]]\n[[order.group]]\nid = "b"\n'
        "[[order.group]]\noptinal = true\n"
    )
    (unknown,) = builder_toml.load(write(tmp_path, text)).unknown_keys
    assert unknown.path == ("order", 1, "group", 1, "optinal")
    assert unknown.line == 10
    assert unknown.describe() == "[[order.group]] #2 (in [[order]] #2): unknown key 'optinal'"


def test_inline_tables_are_walked_too(tmp_path: Path) -> None:
    text = 'run = { images = [ { image = "r/x:1", mirror = ["m.example.com/x:1"] } ] }\n'
    (unknown,) = builder_toml.load(write(tmp_path, text)).unknown_keys
    assert unknown.path == ("run", "images", 0, "mirror")
    assert (unknown.line, unknown.column) == (1, 39)


def test_normalize_keeps_the_exact_spelling_when_both_are_written() -> None:
    document, unknown = builder_schema.normalize(
        {"run": {"images": [{"image": "a", "Image": "b"}]}}
    )
    assert document["run"]["images"][0]["image"] == "a"
    assert unknown == []


def test_audit_reports_packs_own_invalid_builder_shape() -> None:
    loaded = checks.read_builder("fixtures/audit/ins004-pack-invalid-builder.toml")
    findings = checks.audit([loaded])
    assert [(f.rule.id, f.line, f.column) for f in findings] == [("INS004", 4, 3)]
    assert "[[buildpacks]] #1: unknown key 'url'" in findings[0].message
    assert "did you mean 'uri'?" in findings[0].message


# -- every command names an unknown key; resolve/builder exit as before --------------


def run(capsys: Any, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    assert isinstance(exited.value.code, int)
    return exited.value.code, out, err


TYPO = (
    '[[run.images]]\nimage = "registry.example.com/example/run:1"\n'
    'mirror = ["mirror.example.org/example/run:1"]\n'
)


@pytest.mark.parametrize(
    "command",
    [
        ["resolve", "registry.example.com/acme/app"],
        ["builder"],
    ],
)
def test_offline_commands_name_the_key_on_stderr(
    tmp_path: Path, capsys: Any, monkeypatch: Any, command: list[str]
) -> None:
    monkeypatch.setenv("PACK_HOME", str(tmp_path / "pack-home"))
    path = write(tmp_path, TYPO)
    code, out, err = run(capsys, *command, "-c", str(path), "--json")
    assert code == 0  # offline: nothing is counted, but nothing is silent either
    assert f"{path}:3: [[run.images]] #1: unknown key 'mirror' (did you mean 'mirrors'?)" in err
    json.loads(out)  # stdout stays one JSON document
