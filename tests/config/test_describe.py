"""lamina.config.describe: the option facts the experiment-file reference and ``lamina names`` list."""

from __future__ import annotations

import sys

import pytest
from pydantic import ValidationError

from lamina.config.describe import describe, describe_kind
from lamina.registry import KINDS, registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_hessian_free_options_read_as_written_in_its_constructor():
    options = {o.name: o for o in describe("optimizer", "hessian_free").options}
    assert options["damping_drop"].rule == "in (0, 1)" and options["damping_drop"].type == "float"
    assert options["cg_max_iter"].rule == ">= 1" and options["cg_max_iter"].default == "250"
    assert options["curvature_precision"].rule == "one of 'fp32', 'bf16', 'fp16'"
    assert options["curvature_precision"].default == '"fp32"'


def test_required_options_component_fields_and_aliases():
    conv = describe("layer", "conv")  # an alias gives the canonical entry
    assert conv.name == "conv2d" and "conv" in conv.aliases
    options = {o.name: o for o in conv.options}
    assert options["filters"].required and options["filters"].default == ""
    assert options["activation"].type == "activation" and options["init"].type == "initializer"
    assert "name" not in options and "type" not in options  # the graph keys are listed once, the name key never


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_default_is_valid_toml_that_the_spec_accepts_back(kind):
    """Each listed default, parsed as TOML and handed back to the spec, validates (``none`` means: leave it out)."""
    for info in describe_kind(kind):
        assert set(registry(kind).names()) >= {info.name, *info.aliases}
        given = {}
        for o in info.options:
            if o.required or o.default == "none" or o.name == "preset":
                continue
            given[o.name] = tomllib.loads(f"v = {o.default}")["v"]
        try:
            info.spec.model_validate(given)
        except ValidationError as err:  # a required option, or a rule across fields, may be missing: never a default
            bad = [e for e in err.errors() if e["loc"] and e["loc"][0] in given]
            assert not bad, f"{kind} {info.name}: listed default refused: {bad}"


def test_unknown_names_are_errors_naming_the_closest():
    with pytest.raises(KeyError, match="hessian_free"):
        describe("optimizer", "hessian_fre")
    with pytest.raises(ValueError, match="layer"):
        describe("layr", "dense")
