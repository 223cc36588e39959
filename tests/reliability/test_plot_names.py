"""Names that reach matplotlib: titles and labels with ``$...$`` (or an unbalanced ``$``) plot, and every figure shows
them exactly as typed, never parsed as mathtext; a run name with ``$`` is refused by the run-name rule."""

from __future__ import annotations

import pytest
from matplotlib.text import Text

import lamina
from lamina.errors import ConfigError
from lamina.report import literal
from lamina.report.plots import plot_learning_curves
from tests.conftest import ROOT

pytestmark = pytest.mark.reliability

NAMES = ["cost $5$", "x $^$ y", "$$", "a\\$b", "50$ \\frac{", "$\\undefinedmacro$"]


@pytest.mark.parametrize("name", NAMES)
def test_literal_is_shown_character_for_character(name):
    text = literal(name)
    shown, is_math = Text(text=text)._preprocess_math(text)  # what matplotlib will draw, and whether as math
    assert (shown, is_math) == (name, False)


def test_plots_with_hostile_titles_are_written(tmp_path):
    epochs = [
        {"epoch": 1, "loss": 1.0, "val_loss": 1.2, "lr": 0.1},
        {"epoch": 2, "loss": 0.5, "val_loss": 0.7, "lr": 0.05},
    ]
    for i, name in enumerate(NAMES):
        paths = plot_learning_curves(epochs, tmp_path / str(i), loss_name="cross_entropy $x^$", title=name)
        assert [p.name for p in paths] == ["loss.png", "lr.png"] and all(p.stat().st_size > 0 for p in paths)


def test_a_run_named_with_dollars_is_refused_before_any_folder_is_made(tmp_path):
    """The run-name rule keeps mathtext out of run names altogether; the titles above cover what still reaches
    matplotlib (loss names, dataset and layer names)."""
    with pytest.raises(ConfigError, match=r"name: expected a run name"):
        exp = lamina.load_experiment(ROOT / "examples" / "digits_mlp.toml", ["train.epochs=1", "name=x $^$ y"])
        lamina.train(exp, out=tmp_path, progress="none")
    assert list(tmp_path.iterdir()) == []
