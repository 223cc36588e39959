"""Run names and paths (issue 22): a ``name`` that is a path, holds a NUL byte or a newline, or is too long is
refused by ``lamina config check`` with the field's path and the rule, never turned into a run folder outside
``--out``, and never a raw ``OSError``/``ValueError``. Before the fix ``name = "../../x"`` made ``out/../../x-<time>``.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import lamina
from lamina.cli import app
from lamina.config.run_name import run_name_from_file, run_name_problem
from lamina.errors import ConfigError
from lamina.train.runs import new_run_dir
from tests.conftest import ROOT

pytestmark = pytest.mark.reliability

EXAMPLE = ROOT / "examples" / "digits_mlp.toml"
BAD_NAMES = {
    "parent": "../../x",
    "absolute": "/tmp/lamina-evil",
    "nul": "a\x00b",
    "newline": "a\nb",
    "long": "x" * 300,
    "hidden": ".x",
    "slash": "a/b",
    "empty": "",
    "space": "a b",
}


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_config_check_refuses_the_name_with_its_path_and_the_rule(name):
    # json.dumps gives a TOML basic string (\u0000 escapes and all) that the override parser reads back verbatim
    result = CliRunner().invoke(app, ["config", "check", str(EXAMPLE), "--set", f"name={json.dumps(name)}"])
    assert result.exit_code == 2, result.output
    assert "name: expected a run name of 1 to 100 letters, digits, '.', '_' or '-'" in " ".join(result.output.split())
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_a_bad_name_in_the_file_is_a_config_error(tmp_path, name):
    path = tmp_path / "exp.toml"
    path.write_text(f"name = {json.dumps(name)}\n" + EXAMPLE.read_text().split("\n", 4)[4])
    with pytest.raises(ConfigError) as err:
        lamina.load_experiment(path)
    assert [p.path for p in err.value.problems] == ["name"]


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_new_run_dir_never_leaves_out(tmp_path, name):
    out = tmp_path / "a" / "b" / "runs"
    with pytest.raises(ConfigError, match="name: expected a run name"):
        new_run_dir(out, name)
    assert not any(p for p in tmp_path.rglob("*") if p.is_dir() and p not in (out.parent.parent, out.parent))


@pytest.mark.parametrize("name", ["digits_mlp", "a", "run.v2-final", "_x", "9lives", "x" * 100])
def test_good_names_pass(tmp_path, name):
    assert run_name_problem(name) is None
    path = new_run_dir(tmp_path, name)
    assert path.parent == tmp_path and path.name.startswith(name + "-")


def test_a_name_taken_from_the_file_name_is_made_valid(tmp_path):
    assert run_name_from_file("my exp (v2)") == "my_exp__v2_"
    assert run_name_from_file(".hidden") == "_.hidden"
    assert run_name_from_file("é" * 300) == "_" * 100
    for stem in ("my exp (v2)", ".hidden", "-x", "a\nb", "é" * 300):
        assert run_name_problem(run_name_from_file(stem)) is None
    path = tmp_path / "my exp.toml"
    path.write_text(EXAMPLE.read_text().split("\n", 4)[4])  # without its name line
    assert lamina.load_experiment(path).name == "my_exp"
