"""``lamina config check`` reports every problem at once: those beside an unknown dataset name too, and a
validation hold-out larger than a dataset whose size is known without loading it (issue 24)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from lamina.cli import app
from lamina.data.vision import Digits
from lamina.errors import ConfigError
from lamina.registry import resolve
from tests.conftest import needs_mnist

runner = CliRunner()
MODEL = '[model]\nlayers = [{ type = "dense", units = 10 }]\n'


def _check(tmp_path, text: str):
    path = tmp_path / "exp.toml"
    path.write_text(text)
    return runner.invoke(app, ["config", "check", str(path)])


def test_problems_beside_an_unknown_dataset_name_are_all_reported(tmp_path):
    result = _check(
        tmp_path,
        '[data]\nname = "digitz"\nvalidation = -0.5\nshufle = true\n'
        + MODEL
        + '[train]\nepochs = 0\nloss = "cross_entropy"\n',
    )
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "4 problems" in out
    assert "data: unknown dataset 'digitz'; did you mean 'digits'?" in out
    assert "data.validation: expected a count of examples (integer >= 0) or a fraction in [0, 1), got -0.5" in out
    assert "data.shufle: unknown key 'shufle': no dataset takes it" in out
    assert "train.epochs: expected an integer >= 1, got 0" in out


def test_a_key_only_some_datasets_take_is_left_alone_beside_an_unknown_name():
    with pytest.raises(ConfigError) as caught:
        resolve("dataset", {"name": "digitz", "flatten": True, "scale": "unit"}, path="data")
    assert len(caught.value.problems) == 1  # flatten and scale are image options: which dataset was meant decides


def test_a_validation_larger_than_the_known_training_set_is_refused_with_the_other_problems(tmp_path):
    result = _check(
        tmp_path, '[data]\nname = "digits"\nvalidation = 5000\n' + MODEL + '[train]\nepochs = 0\nloss = "mse"\n'
    )
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "2 problems" in out and "train.epochs" in out
    assert "data.validation: validation = 5000 holds out 5000 of the 1438 training examples of 'digits'" in out


@pytest.mark.parametrize(
    "options", [{}, {"test_fraction": 0.5}, {"train_subset": 100}, {"train_subset": 5000, "test_fraction": 0.3}]
)
def test_the_digits_declared_training_size_is_what_loading_gives(options):
    spec = Digits(**options)
    assert spec.known_train_examples() == len(spec.load().train)  # the oracle: the loaded split


def test_a_fraction_or_a_count_that_leaves_examples_is_accepted():
    assert Digits(validation=0.99).known_train_examples() == 1438
    assert Digits(validation=1437, train_subset=1438).validation == 1437
    with pytest.raises(ValueError, match="holds out 100 of the 100 training examples"):
        Digits(validation=100, train_subset=100)


@needs_mnist
def test_mnist_s_declared_size_is_its_training_set():
    spec = resolve("dataset", {"name": "mnist"})
    assert spec.known_train_examples() == len(spec.load().train) == 60_000
