"""``lamina --help`` and ``lamina names`` answer without torch (issue 24): the package root exports its names lazily
(PEP 562), the command modules import torch, numpy and pydantic inside their commands, and ``names`` reads a
generated index. Checked deterministically, on what a fresh process has imported, not by timing it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import lamina

SRC = Path(lamina.__file__).parents[1]
HEAVY = ("torch", "numpy", "matplotlib", "sklearn", "scipy")


def _fresh(code: str) -> dict:
    """Run ``code`` in a new interpreter (lamina from this checkout, no plugins) and read the JSON it prints last."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _command_imports(*args: str) -> dict:
    """The heavy modules loaded by ``lamina ARGS`` (run as ``python -m lamina`` runs it), and its exit code."""
    code = textwrap.dedent(f"""
        import contextlib, io, json, runpy, sys
        sys.argv = ["lamina", *{list(args)!r}]
        code = 0
        with contextlib.redirect_stdout(io.StringIO()) as out:
            try:
                runpy.run_module("lamina", run_name="__main__")
            except SystemExit as exit:
                code = exit.code or 0
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
        print(json.dumps({{"code": code, "heavy": heavy, "output": out.getvalue()}}))
    """)
    return _fresh(code)


@pytest.mark.parametrize(
    "args",
    [("--help",), ("train", "--help"), ("config", "--help"), ("names",), ("names", "layer", "conv2d")],
    ids=" ".join,
)
def test_help_and_names_import_no_torch(args):
    result = _command_imports(*args)
    assert result["code"] == 0, result["output"]
    assert result["heavy"] == [], f"lamina {' '.join(args)} imported {result['heavy'][:5]}"
    assert result["output"].strip()  # and it answered


def test_import_lamina_is_light_every_exported_name_resolves_and_the_first_lookup_registers_everything():
    # one fresh process (torch is imported once): what `import lamina` loads; every name of __all__; lamina.train
    # still the function once the subpackage is imported; and the registry's first lookup (BUILTIN_MODULES)
    # registering what importing every lamina module registers
    code = textwrap.dedent("""
        import importlib, json, pkgutil, sys, lamina
        light = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "numpy", "pydantic"))
        first = {k: lamina.registry(k).names() for k in ("layer", "optimizer", "dataset", "metric", "pretrain")}
        names = {n: type(getattr(lamina, n)).__name__ for n in lamina.__all__}
        import lamina.train.runs
        for module in pkgutil.walk_packages(lamina.__path__, "lamina."):
            if module.name != "lamina.__main__":
                importlib.import_module(module.name)
        every = {k: lamina.registry(k).names() for k in first}
        print(json.dumps({"light": light, "names": names, "train": type(lamina.train).__name__, "first": first,
                          "every": every, "torch": "torch" in sys.modules, "sklearn": lamina.sklearn.__name__,
                          "dir": dir(lamina) == sorted(lamina.__all__)}))
    """)
    result = _fresh(code)
    assert result["light"] == [] and result["torch"]  # torch arrives with the first name that needs it
    assert set(result["names"]) == set(lamina.__all__)
    assert result["names"]["Trainer"] == "type" and result["names"]["nn"] == "module"
    assert result["names"]["train"] == "function" and result["train"] == "function"
    assert result["sklearn"] == "lamina.sklearn" and result["dir"]
    assert result["first"] == result["every"]
    assert "dense" in result["first"]["layer"] and "digits" in result["first"]["dataset"]
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        lamina.no_such_name  # noqa: B018
