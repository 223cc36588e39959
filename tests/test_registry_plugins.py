"""The registry's kinds are a fixed set, and third-party components arrive through the ``lamina.plugins``
entry-point group (issue 25): tests/plugin_package is such a package, found by ``importlib.metadata`` through its
dist-info once its folder is on ``sys.path`` (in a subprocess, so that its layer stays out of this process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import lamina
from lamina.config.fields import component
from lamina.registry import KINDS, register, registry

PLUGIN_PACKAGE = Path(__file__).parent / "plugin_package"


def test_an_unknown_kind_is_an_error_naming_the_closest_and_creates_nothing():
    with pytest.raises(ValueError, match=r"unknown registry kind 'layr'; did you mean 'layer'\? valid kinds: layer, "):
        registry("layr")
    with pytest.raises(ValueError, match=r"unknown registry kind 'optimiser'; did you mean 'optimizer'\?"):
        register("optimiser", "my_sgd")
    with pytest.raises(ValueError, match=r"unknown registry kind 'metrc'; did you mean 'metric'\?"):
        component("metrc")  # a field of a misspelt kind fails where it is declared
    with pytest.raises(ValueError, match="unknown registry kind 'layr'"):
        registry("layr")  # still unknown: the first call made no new, empty kind
    with pytest.raises(TypeError):
        KINDS["layr"] = "type"  # type: ignore[index]
    assert registry("layer") is registry("layer") and "dense" in registry("layer")


def test_a_plugin_registers_a_layer_through_the_entry_point_group_and_a_broken_one_only_warns():
    script = textwrap.dedent("""
        import json, sys, warnings
        import torch
        import lamina
        imported_with_lamina = "lamina_plugin_example" in sys.modules
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = lamina.build_model([{"type": "scale", "factor": 3.0}, {"type": "dense", "units": 2}], (4,))
            names = lamina.registry("layer").names()
            lamina.registry("loss").lookup("mse")  # a second lookup loads nothing again
        print(json.dumps({
            "imported_with_lamina": imported_with_lamina,
            "output": model[0](torch.ones(1, 4)).tolist(),
            "scale_listed": "scale" in names,
            "dense_is_lamina_s": lamina.registry("layer").lookup("dense").__module__,
            "warnings": [(w.category.__name__, str(w.message)) for w in caught],
        }))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(lamina.__file__).parents[1]), str(PLUGIN_PACKAGE)])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["imported_with_lamina"] is False  # plugins load on the first lookup, not on import lamina
    assert result["output"] == [[3.0, 3.0, 3.0, 3.0]] and result["scale_listed"]
    assert result["dense_is_lamina_s"] == "lamina.nn.layers"
    assert len(result["warnings"]) == 1, result["warnings"]
    category, message = result["warnings"][0]
    assert category == "PluginWarning"
    assert message.startswith(
        "lamina plugin 'broken' (lamina_plugin_example.broken:setup) failed to load and was "
        "skipped: ValueError: layer 'dense' is already registered to DenseSpec"
    ), message
