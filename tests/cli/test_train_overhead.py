"""``lamina train`` on the digits spends its time training: the data is read without importing scikit-learn, the
figures are drawn without pyplot, each in one pass (``benchmarks/cli_overhead.py`` measures the phases)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from lamina.data.vision import read_digits
from lamina.report.plots import new_figure, save_figure
from tests.conftest import ROOT

_RUN = """
import json, sys
from lamina.cli import main
sys.argv = ["lamina", "train", sys.argv[1], "--out", sys.argv[2], "--quiet", "--set", "train.epochs=1"]
try:
    main()
except SystemExit as stop:
    assert not stop.code, stop.code
heavy = ("sklearn", "matplotlib.pyplot", "scipy", "tensorboard", "onnx")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def test_digits_are_read_as_scikit_learn_reads_them():
    from sklearn.datasets import load_digits

    pixels, labels = read_digits()
    expected_pixels, expected_labels = load_digits(return_X_y=True)
    np.testing.assert_array_equal(pixels, expected_pixels)
    np.testing.assert_array_equal(labels, expected_labels)


def test_lamina_train_on_digits_imports_neither_scikit_learn_nor_pyplot(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", _RUN, str(ROOT / "examples" / "digits_mlp.toml"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []
    (run,) = tmp_path.iterdir()
    assert (run / "plots" / "loss.png").is_file() and (run / "report.html").is_file()


def test_a_new_figure_is_saved_at_its_size_in_one_pass(tmp_path):
    fig, ax = new_figure((6, 4))
    ax.plot([1, 2, 3], [0.5, 0.25, 0.125])
    ax.set_ylabel("loss")
    path = save_figure(fig, tmp_path / "curve.png")
    assert Image.open(path).size == (720, 480)  # 6 x 4 inches at 120 dpi: not cropped
    assert "matplotlib.pyplot" not in sys.modules or fig.canvas.manager is None
