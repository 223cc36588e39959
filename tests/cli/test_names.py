"""``lamina names``: every registered component with its options, from a generated index that must match the live
registry (issue 24)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import lamina
from lamina.cli import app
from lamina.cli import names as names_module
from lamina.cli.catalog import REGENERATE, build_catalog, render_catalog
from lamina.cli.names import INDEX_PATH, load_catalog
from lamina.config.describe import _arg_descriptions
from lamina.registry import KINDS, registry

runner = CliRunner()
PLUGIN_PACKAGE = Path(__file__).parents[1] / "plugin_package"


@pytest.fixture(scope="module")
def catalog():
    return build_catalog()


def test_the_index_file_is_the_registry_s(catalog):
    stale = INDEX_PATH.read_text(encoding="utf-8") != render_catalog(catalog)
    assert not stale, f"{INDEX_PATH.name} is stale (a component, option or docstring changed): run `{REGENERATE}`"


def test_every_component_lists_exactly_its_spec_fields_with_their_requiredness(catalog):
    # independent of the rendering: the names, order and required flags come from pydantic's own field table
    for kind in KINDS:
        reg = registry(kind)
        assert set(catalog[kind]["components"]) == set(reg.names(aliases=False))
        for name, entry in catalog[kind]["components"].items():
            fields = reg.lookup(name).model_fields
            assert [o["name"] for o in entry["options"]] == list(fields), (kind, name)
            for option in entry["options"]:
                assert (option["default"] == "required") == fields[option["name"]].is_required(), (kind, name)


def test_the_option_table_of_conv2d_has_types_bounds_defaults_and_descriptions(catalog):
    options = {o["name"]: o for o in catalog["layer"]["components"]["conv2d"]["options"]}
    assert options["filters"] == {
        "name": "filters",
        "type": "int",
        "bounds": ">= 1",
        "default": "required",
        "description": "output channels.",
    }
    assert options["groups"]["default"] == "1" and options["bias"]["default"] == "true"
    assert options["activation"]["type"] == "activation"  # a registered component, named by its kind
    assert options["padding"]["description"].startswith('("same", "valid" or sizes) per spatial dimension')
    es = {o["name"]: o for o in catalog["optimizer"]["components"]["evolution_strategies"]["options"]}
    assert es["shaping"]["bounds"] == "one of 'rank', 'none'" and es["sigma"]["bounds"] == "> 0"
    assert {o["name"]: o["bounds"] for o in catalog["schedule"]["components"]["step"]["options"]}[
        "gamma"
    ] == "in (0, 1]"


def test_names_layer_shows_each_layer_s_options_not_a_class_name():
    result = runner.invoke(app, ["names", "layer"])
    assert result.exit_code == 0, result.output
    assert "Spec" not in result.output
    lines = result.output.splitlines()
    conv = next(i for i, line in enumerate(lines) if line.strip().startswith("conv2d"))
    assert "options: name, inputs, kernel_size (required)" in " ".join(lines[conv + 1 : conv + 4])


def test_names_kind_name_prints_the_full_table_and_accepts_an_alias():
    result = runner.invoke(app, ["names", "layer", "conv"])  # an alias of conv2d
    assert result.exit_code == 0, result.output
    assert result.output.startswith("layer conv2d (also conv):")
    for header in ("option", "type", "bounds", "default", "description"):
        assert header in result.output
    assert "filters" in result.output and ">= 1" in result.output and "output channels." in result.output


def test_an_unknown_kind_or_name_is_an_error_naming_the_closest():
    result = runner.invoke(app, ["names", "layer", "conv3"])
    assert result.exit_code == 2 and "unknown layer 'conv3'; did you mean" in result.output
    result = runner.invoke(app, ["names", "layr"])
    assert result.exit_code == 2 and "did you mean 'layer'?" in result.output


def test_args_sections_are_read_per_name_with_shared_and_continued_entries():
    doc = """Summary.

    Args:
        units: output features.
        kernel_size, padding ("same" or sizes): per spatial dimension,
            or one for all.
        **options: forwarded.

    Shape: (N, C) -> (N, units)
    """
    assert _arg_descriptions(doc) == {
        "units": "output features.",
        "kernel_size": "per spatial dimension, or one for all.",
        "padding": '("same" or sizes) per spatial dimension, or one for all.',
        "options": "forwarded.",
    }


def test_without_plugins_the_index_is_read_from_the_file(monkeypatch, tmp_path):
    (tmp_path / "index.json").write_text('{"layer": "from the file"}')
    monkeypatch.setattr(names_module, "INDEX_PATH", tmp_path / "index.json")
    assert load_catalog() == {"layer": "from the file"}


def test_with_a_plugin_installed_names_shows_its_components():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(lamina.__file__).parents[1]), str(PLUGIN_PACKAGE)])}
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "lamina", "names", "layer", "scale"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("layer scale") and "factor" in done.stdout
