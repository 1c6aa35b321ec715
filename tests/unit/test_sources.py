"""builder.toml and pack config loading (pack ``builder/config_reader.go``,
``internal/config/config.go``, ``internal/commands/commands.go`` getMirrors)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.errors import InputError
from inspector.sources import builder_toml, pack_config
from inspector.sources.model import Builder, ConfigError, RunImage

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def write(tmp_path: Path, text: str, name: str = "builder.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- builder.toml ---------------------------------------------------------------------------


def test_new_shape_fixture():
    builder = builder_toml.load(FIXTURES / "builder-new.toml")
    assert isinstance(builder, Builder)
    assert builder.run_images == (
        RunImage(
            "example/run", ("registry.example.com/example/run", "mirror.example.org/example/run")
        ),
        RunImage("example/run-full", ("registry.example.com/example/run-full",)),
    )
    assert builder.run_image == builder.run_images[0]
    assert builder.stack_run_image is None
    assert builder.build_image == "example/build"
    assert builder.description == "Example builder"
    assert builder.lifecycle_version == "0.20.0"
    assert [(bp.id, bp.version) for bp in builder.buildpacks] == [("example/node", "1.2.3")]
    assert builder.source == str(FIXTURES / "builder-new.toml")


def test_legacy_stack_fixture():
    builder = builder_toml.load(FIXTURES / "builder-legacy.toml")
    assert builder.run_images == (
        RunImage(
            "example/run", ("registry.example.com/example/run", "mirror.example.org/example/run")
        ),
    )
    assert builder.stack_id == "io.buildpacks.stacks.jammy"
    assert builder.build_image == "example/build"
    assert builder.stack_run_image is None  # it *is* the run image


def test_both_shapes_run_images_win_and_stack_is_kept():
    builder = builder_toml.load(FIXTURES / "builder-both.toml")
    assert builder.run_images == (
        RunImage("example/run:jammy", ("registry.example.com/example/run:jammy",)),
    )
    assert builder.stack_run_image == RunImage(
        "example/run:bionic", ("registry.example.com/example/run:bionic",)
    )
    assert builder.stack_id == "io.buildpacks.stacks.jammy"


def test_messy_fixture_keeps_every_mirror_as_written_and_in_order():
    builder = builder_toml.load(FIXTURES / "builder-messy.toml")
    first = builder.run_images[0]
    assert first.image == "docker.io/example/run"
    assert first.mirrors == (
        "example/run",
        "registry.example.com/example/run:1.0",
        "registry.example.com/example/run",
        "registry.example.com/example/run",  # duplicates are kept: pack does not dedupe
        "registry-1.docker.io/example/run",
        "localhost:5000/other/run",
        "Mirror.Example.org/Example/Run",  # invalid references are loaded, not judged here
    )
    assert builder.run_images[1] == RunImage(
        "example/run-full", ("registry.example.com/example/run-full",)
    )


def test_build_image_beats_stack_build_image(tmp_path):
    path = write(
        tmp_path,
        """
        [build]
        image = "new/build"
        [stack]
        id = "s"
        build-image = "old/build"
        run-image = "r"
        """,
    )
    assert builder_toml.load(path).build_image == "new/build"


def test_inline_tables_and_missing_mirrors(tmp_path):
    path = write(tmp_path, 'run = { images = [ { image = "a/run" }, { image = "b/run" } ] }\n')
    assert builder_toml.load(path).run_images == (RunImage("a/run"), RunImage("b/run"))


def test_stack_without_mirrors(tmp_path):
    path = write(tmp_path, '[stack]\nrun-image = "a/run"\n')
    assert builder_toml.load(path).run_images == (RunImage("a/run"),)


def test_empty_run_images_falls_back_to_stack(tmp_path):
    path = write(tmp_path, 'run = { images = [] }\n[stack]\nrun-image = "a/run"\n')
    assert builder_toml.load(path).run_images == (RunImage("a/run"),)


def test_unknown_keys_are_ignored(tmp_path):
    # pack rejects unknown keys in builder.toml at `builder create`; inspector reads run images
    # of builders it did not write and does not lint here (audit does).
    path = write(tmp_path, '[[run.images]]\nimage = "a/run"\nextra = 1\n[other]\nx = 2\n')
    assert builder_toml.load(path).run_images == (RunImage("a/run"),)


BUILDER_ERRORS = [
    pytest.param('[[run.images]]\nimage = "a"\nmirrors = "b"\n', ["mirrors"], id="mirrors-string"),
    pytest.param('[[run.images]]\nimage = "a"\nmirrors = [1]\n', ["mirrors"], id="mirrors-ints"),
    pytest.param(
        '[[run.images]]\nimage = "a"\nmirrors = ["b", 1]\n', ["mirrors"], id="mirrors-mixed"
    ),
    pytest.param(
        '[[run.images]]\nimage = "a"\nmirrors = {b = 1}\n', ["mirrors"], id="mirrors-table"
    ),
    pytest.param("[[run.images]]\nimage = 1\n", ["image"], id="image-int"),
    pytest.param("[[run.images]]\nimage = ['a']\n", ["image"], id="image-list"),
    pytest.param("[[run.images]]\nimage = true\n", ["image"], id="image-bool"),
    pytest.param('[run]\nimages = "a"\n', ["images"], id="run.images-string"),
    pytest.param('[run]\nimages = ["a"]\n', ["images"], id="run.images-strings"),
    pytest.param("[run.images]\nimage = 'a'\n", ["images"], id="run.images-one-table"),
    pytest.param('run = "a"\n', ["run"], id="run-string"),
    pytest.param("[[run]]\nimages = []\n", ["run"], id="run-array"),
    pytest.param('stack = "a"\n', ["stack"], id="stack-string"),
    pytest.param("[stack]\nrun-image = 1\n", ["run-image"], id="stack-run-image-int"),
    pytest.param(
        '[stack]\nrun-image = "a"\nrun-image-mirrors = "b"\n',
        ["run-image-mirrors"],
        id="stack-mirrors-string",
    ),
    pytest.param(
        '[[run.images]]\nimage = "a"\n[stack]\nrun-image-mirrors = "b"\n',
        ["run-image-mirrors"],
        id="stack-mirrors-string-without-stack-image",
    ),
    pytest.param("[[run.images]]\nmirrors = ['b']\n", ["image"], id="image-missing"),
    pytest.param('[[run.images]]\nimage = ""\n', ["image"], id="image-empty"),
    pytest.param(
        '[[run.images]]\nimage = "a"\n[[run.images]]\nimage = ""\n',
        ["image"],
        id="second-image-empty",
    ),
    pytest.param("", ["no run image"], id="empty-file"),
    pytest.param('description = "x"\n', ["no run image"], id="no-run-image"),
    pytest.param("run = {}\n", ["no run image"], id="empty-run-table"),
    pytest.param("run = { images = [] }\n", ["no run image"], id="empty-run-images"),
    pytest.param('[stack]\nid = "x"\n', ["no run image"], id="stack-without-run-image"),
    pytest.param('[stack]\nrun-image = ""\n', ["no run image"], id="stack-run-image-empty"),
    pytest.param(
        'description = 1\n[[run.images]]\nimage = "a"\n', ["description"], id="description-int"
    ),
    pytest.param(
        '[[run.images]]\nimage = "a"\n[build]\nimage = 2\n', ["image"], id="build-image-int"
    ),
    pytest.param(
        '[[run.images]]\nimage = "a"\n[lifecycle]\nversion = 2\n',
        ["version"],
        id="lifecycle-version-int",
    ),
    pytest.param(
        'buildpacks = "x"\n[[run.images]]\nimage = "a"\n', ["buildpacks"], id="buildpacks-string"
    ),
]


@pytest.mark.parametrize(("text", "words"), BUILDER_ERRORS)
def test_builder_type_errors(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        builder_toml.load(path)
    message = str(caught.value)
    assert str(path) in message
    assert "\n" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("[[run.images]\nimage = 'a'\n", 1, None),
        ("[[run.images]]\nimage = 'a\n", 3, 1),  # at the end of the document
        ("[[run.images]]\nimage = 'a'\nmirrors = ['x'", 3, 15),
        ("[[run.images]]\nimage 'a'\n", 2, 7),
        ("a = 1\na = 2\n", 2, None),
        ('[[run.images]]\nimage = "a"\nmirrors = ["x",\n', 4, 1),
    ],
    ids=[
        "bad-header",
        "open-string",
        "open-array-no-newline",
        "missing-equals",
        "duplicate-key",
        "open-array",
    ],
)
def test_toml_syntax_error_names_line_and_column(tmp_path, text, line, column):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        builder_toml.load(path)
    message = str(caught.value)
    assert str(path) in message
    assert "\n" not in message
    assert f"line {line}" in message
    assert "column" in message
    if column is not None:
        assert f"column {column}" in message


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="no such file") as caught:
        builder_toml.load(path)
    assert str(path) in str(caught.value)


def test_directory(tmp_path):
    with pytest.raises(ConfigError, match="directory") as caught:
        builder_toml.load(tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[[run.images]]\nimage = "caf\xe9"\n')
    with pytest.raises(ConfigError) as caught:
        builder_toml.load(path)
    assert str(path) in str(caught.value)


def test_path_through_a_file(tmp_path):
    # Any other OSError (here ENOTDIR) is a ConfigError naming the file too.
    parent = write(tmp_path, "x = 1\n", "plain")
    path = parent / "builder.toml"
    with pytest.raises(ConfigError) as caught:
        builder_toml.load(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    ["a = " + "[" * 5000 + "]" * 5000, "a = " + "{b = " * 3000 + "1" + "}" * 3000],
    ids=["deep-array", "deep-inline-table"],
)
def test_deep_nesting_is_a_config_error(tmp_path, text):
    # tomllib recurses per level; the RecursionError must not escape as an internal error.
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        builder_toml.load(path)
    assert str(path) in str(caught.value)
    with pytest.raises(ConfigError):
        pack_config.load(path)


def test_config_error_is_input_error():
    assert issubclass(ConfigError, InputError)


# --- pack config -----------------------------------------------------------------------------


def test_pack_config_fixture_exact_key_match():
    config = pack_config.load(FIXTURES / "packconfig" / "config.toml")
    assert config.path == str(FIXTURES / "packconfig" / "config.toml")
    assert config.mirrors_for("example/run") == (
        "localhost:5000/example/run",
        "registry.example.com/mine/run",
    )
    assert config.mirrors_for("docker.io/example/run") == ("registry.example.com/ignored/run",)
    # pack's map is keyed by the raw string: no normalization at all.
    for spelling in [
        "index.docker.io/example/run",
        "example/run:latest",
        "registry-1.docker.io/example/run",
        "Example/run",
        " example/run",
    ]:
        assert config.mirrors_for(spelling) == ()


def test_pack_config_later_entry_for_same_key_wins(tmp_path):
    path = write(
        tmp_path,
        """
        [[run-images]]
        image = "a/run"
        mirrors = ["first/one", "first/two"]

        [[run-images]]
        image = "b/run"
        mirrors = ["b/mirror"]

        [[run-images]]
        image = "a/run"
        mirrors = ["second/one"]
        """,
        "config.toml",
    )
    config = pack_config.load(path)
    assert config.mirrors_for("a/run") == ("second/one",)  # replaced, not merged
    assert config.mirrors_for("b/run") == ("b/mirror",)


def test_pack_config_later_empty_entry_clears(tmp_path):
    path = write(
        tmp_path,
        '[[run-images]]\nimage = "a/run"\nmirrors = ["x/y"]\n[[run-images]]\nimage = "a/run"\n',
        "config.toml",
    )
    assert pack_config.load(path).mirrors_for("a/run") == ()


def test_pack_config_other_keys_ignored(tmp_path):
    path = write(
        tmp_path,
        'default-builder-image = "x"\nexperimental = true\n[registry-mirrors]\n"*" = "m"\n'
        '[[trusted-builders]]\nname = "t"\n',
        "config.toml",
    )
    config = pack_config.load(path)
    assert config.run_images == ()
    assert config.mirrors_for("x") == ()


def test_default_path_prefers_pack_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PACK_HOME", str(tmp_path / "packhome"))
    assert pack_config.default_path() == tmp_path / "packhome" / "config.toml"


@pytest.mark.parametrize("pack_home", [None, ""], ids=["unset", "empty"])
def test_default_path_falls_back_to_home(tmp_path, monkeypatch, pack_home):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if pack_home is None:
        monkeypatch.delenv("PACK_HOME", raising=False)
    else:
        monkeypatch.setenv("PACK_HOME", pack_home)
    assert pack_config.default_path() == tmp_path / "home" / ".pack" / "config.toml"


def test_default_loads_from_pack_home(tmp_path, monkeypatch):
    home = tmp_path / "home" / ".pack"
    home.mkdir(parents=True)
    (home / "config.toml").write_text('[[run-images]]\nimage = "a"\nmirrors = ["home/a"]\n')
    pack_home = tmp_path / "packhome"
    pack_home.mkdir()
    (pack_home / "config.toml").write_text('[[run-images]]\nimage = "a"\nmirrors = ["ph/a"]\n')
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PACK_HOME", str(pack_home))
    config = pack_config.load(None)
    assert config.path == str(pack_home / "config.toml")
    assert config.mirrors_for("a") == ("ph/a",)
    monkeypatch.delenv("PACK_HOME")
    config = pack_config.load(None)
    assert config.path == str(home / "config.toml")
    assert config.mirrors_for("a") == ("home/a",)


def test_missing_default_file_is_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PACK_HOME", raising=False)
    config = pack_config.load(None)
    assert config.path is None
    assert config.run_images == ()
    monkeypatch.setenv("PACK_HOME", str(tmp_path / "nowhere"))
    assert pack_config.load(None).run_images == ()


def test_broken_default_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PACK_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text("[[run-images]\n")
    with pytest.raises(ConfigError) as caught:
        pack_config.load(None)
    assert str(tmp_path / "config.toml") in str(caught.value)


def test_missing_explicit_file_is_an_error(tmp_path):
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError, match="no such file") as caught:
        pack_config.load(path)
    assert str(path) in str(caught.value)
    with pytest.raises(ConfigError):
        pack_config.load(str(path))


def test_pack_config_directory(tmp_path):
    with pytest.raises(ConfigError, match="directory"):
        pack_config.load(tmp_path)


PACK_ERRORS = [
    pytest.param('[[run-images]]\nimage = "a"\nmirrors = "b"\n', "mirrors", id="mirrors-string"),
    pytest.param('[[run-images]]\nimage = "a"\nmirrors = [1]\n', "mirrors", id="mirrors-ints"),
    pytest.param("[[run-images]]\nimage = 1\n", "image", id="image-int"),
    pytest.param('[[run-images]]\nimage = ""\n', "image", id="image-empty"),
    pytest.param("[[run-images]]\nmirrors = ['x']\n", "image", id="image-missing"),
    pytest.param('run-images = "a"\n', "run-images", id="run-images-string"),
    pytest.param("[run-images]\nimage = 'a'\n", "run-images", id="run-images-table"),
    pytest.param("run-images = [1, 2]\n", "run-images", id="run-images-ints"),
    pytest.param("[[run-images]]\nimage = 'a'\nimage = 'b'\n", "line 3", id="duplicate-key"),
    pytest.param("[[run-images]\n", "line 1", id="syntax"),
]


@pytest.mark.parametrize(("text", "word"), PACK_ERRORS)
def test_pack_config_errors(tmp_path, text, word):
    path = write(tmp_path, text, "config.toml")
    with pytest.raises(ConfigError) as caught:
        pack_config.load(path)
    message = str(caught.value)
    assert str(path) in message
    assert "pack config" in message
    assert "\n" not in message
    assert word in message
