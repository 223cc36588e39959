"""The model zoo: a built model loads back from its sha256-checked file and reproduces its recorded figure exactly
(checked here against a plain-torch evaluation of the same test images); a file whose sha256 differs is refused."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from typer.testing import CliRunner

from lamina.cli import app
from lamina.errors import LaminaError
from lamina.zoo import CATALOG, build, entry, load_model, read_index
from lamina.zoo import catalog as zoo_catalog
from tests.conftest import ROOT

runner = CliRunner()


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    home = tmp_path_factory.mktemp("zoo")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAMINA_ZOO", str(home))
        result = runner.invoke(app, ["zoo", "build", "digits_mlp", "--quiet"])
        assert result.exit_code == 0, result.output
        assert "meets the target" in result.output
        yield home


def test_build_records_the_file_and_its_figure(zoo, monkeypatch):
    monkeypatch.setenv("LAMINA_ZOO", str(zoo))
    record = read_index()["digits_mlp-v1.safetensors"]
    assert (zoo / "digits_mlp-v1.safetensors").is_file() and (zoo / "digits_mlp-v1.toml").is_file()
    assert len(record["sha256"]) == 64 and record["meets_target"] and record["figure"] <= 0.05


def test_load_reproduces_the_figure_exactly(zoo, monkeypatch):
    monkeypatch.setenv("LAMINA_ZOO", str(zoo))
    model = load_model("digits_mlp", check=True)
    # the oracle: the test images through the loaded model by hand, counted with plain torch
    from lamina.config.loader import load_experiment

    test = load_experiment(entry("digits_mlp").recipe).data.load().test
    x = torch.stack([test[i][0] for i in range(len(test))])
    y = torch.tensor([int(test[i][1]) for i in range(len(test))])
    with torch.no_grad():
        wrong = (model(x).argmax(1) != y).sum().item()
    assert wrong / len(test) == pytest.approx(read_index()["digits_mlp-v1.safetensors"]["figure"], abs=1e-12)
    result = runner.invoke(app, ["zoo", "load", "digits_mlp"])
    assert result.exit_code == 0 and "as recorded" in result.output, result.output


def test_a_changed_file_is_refused(zoo, monkeypatch, tmp_path):
    copy = tmp_path / "zoo"
    copy.mkdir()
    for f in zoo.iterdir():
        if f.is_file():
            (copy / f.name).write_bytes(f.read_bytes())
    monkeypatch.setenv("LAMINA_ZOO", str(copy))
    weights = copy / "digits_mlp-v1.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01  # one bit of one weight
    weights.write_bytes(bytes(data))
    with pytest.raises(LaminaError, match="sha256 mismatch"):
        load_model("digits_mlp")
    result = runner.invoke(app, ["zoo", "load", "digits_mlp"])
    assert result.exit_code != 0 and "sha256 mismatch" in result.output


def test_a_published_sha256_wins_over_the_local_record(zoo, monkeypatch):
    monkeypatch.setenv("LAMINA_ZOO", str(zoo))
    published = dataclasses.replace(CATALOG["digits_mlp"], sha256="0" * 64)
    monkeypatch.setitem(zoo_catalog.CATALOG, "digits_mlp", published)
    with pytest.raises(LaminaError, match="expected 0000"):
        load_model("digits_mlp")


def test_missing_and_unknown_models(tmp_path, monkeypatch):
    monkeypatch.setenv("LAMINA_ZOO", str(tmp_path))
    with pytest.raises(LaminaError, match="not built yet; `lamina zoo build lenet5`"):
        load_model("lenet5")
    with pytest.raises(LaminaError, match="did you mean 'lenet5'"):
        entry("lenet")
    with pytest.raises(LaminaError):
        build("nope")
    listed = runner.invoke(app, ["zoo", "list"], env={"COLUMNS": "160"})
    assert listed.exit_code == 0 and "lenet5" in listed.output and "not built" in listed.output


@pytest.mark.parametrize("name", list(CATALOG))
def test_each_recipe_is_its_example_file(name):
    assert entry(name).recipe.read_bytes() == (ROOT / "examples" / f"{name}.toml").read_bytes()
