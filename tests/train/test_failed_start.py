"""A run that fails before training starts (missing data, a model that does not build) leaves no run folder."""

from __future__ import annotations

import pytest

import lamina
from lamina.config.loader import parse_experiment
from lamina.errors import DataError, ShapeError


def _experiment(layers):
    return parse_experiment(
        {
            "name": "early",
            "data": {"name": "digits", "validation": 0.1},
            "model": {"layers": layers},
            "train": {"epochs": 1, "batch_size": 256},
        }
    )


def test_a_model_that_does_not_build_leaves_no_run_folder(tmp_path):
    # a 2-d convolution on flat vectors: the model fails at build time, after the run folder was made
    exp = _experiment(
        [{"type": "flatten"}, {"type": "conv2d", "filters": 4, "kernel_size": 3}, {"type": "dense", "units": 10}]
    )
    with pytest.raises(ShapeError):
        lamina.train(exp, out=tmp_path, progress="none")
    assert list(tmp_path.iterdir()) == []


def test_missing_data_leaves_no_run_folder(tmp_path, monkeypatch):
    exp = _experiment([{"type": "flatten"}, {"type": "dense", "units": 10}])

    def missing(self):
        raise DataError("digits.csv: not found in LAMINA_DATA")

    monkeypatch.setattr(type(exp.data), "load", missing)
    with pytest.raises(DataError, match="not found"):
        lamina.train(exp, out=tmp_path, progress="none")
    assert list(tmp_path.iterdir()) == []


def test_a_run_that_started_keeps_its_folder(tmp_path):
    run = lamina.train(
        _experiment([{"type": "flatten"}, {"type": "dense", "units": 10}]), out=tmp_path, progress="none"
    )
    assert list(tmp_path.iterdir()) == [run.dir] and run.summary["status"] == "completed"
