"""NMSE, NRMSE and MAE against scikit-learn (NMSE = 1 - R^2 when normalised by the actual values' variance), and
the batched trainer metric against the whole-set value."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

import lamina
from lamina.data import ArrayDataset
from lamina.timeseries import mae, nmse, nrmse


def test_against_sklearn():
    rng = np.random.default_rng(0)
    actual = rng.normal(5, 2, 200)
    predicted = actual + rng.normal(0, 0.5, 200)
    assert nmse(predicted, actual) == pytest.approx(1 - r2_score(actual, predicted), rel=1e-12)
    assert nrmse(predicted, actual) == pytest.approx(math.sqrt(1 - r2_score(actual, predicted)), rel=1e-12)
    assert mae(torch.tensor(predicted), actual) == pytest.approx(mean_absolute_error(actual, predicted), rel=1e-12)
    assert nmse(predicted, actual, variance=1535.0) == pytest.approx(mean_squared_error(actual, predicted) / 1535.0)


def test_scale_invariance_and_the_mean_predictor_scores_one():
    actual = np.array([1.0, 4.0, 2.0, 8.0])
    assert nmse(np.full(4, actual.mean()), actual) == pytest.approx(1.0)
    predicted = np.array([1.5, 3.0, 2.5, 7.0])
    assert nmse(10 * predicted + 3, 10 * actual + 3) == pytest.approx(nmse(predicted, actual))


def test_bad_input():
    with pytest.raises(lamina.ShapeError, match=r"predicted values have shape \(3,\) and actual values \(4,\)"):
        nmse([1, 2, 3], [1, 2, 3, 4])
    with pytest.raises(ValueError, match="the actual values are constant"):
        nmse([1, 2], [3, 3])


def test_trainer_metric_accumulated_over_batches_equals_the_whole_set():
    torch.manual_seed(0)
    x = torch.randn(103, 4)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [0.0]]) + 0.3 * torch.randn(103, 1) + 7.0
    model = torch.nn.Linear(4, 1)
    trainer = lamina.Trainer(model, loss="mse", metrics=["nmse", "nrmse", "arv"], optimizer=None, seed=None)
    result = trainer.evaluate(ArrayDataset(x, y), batch_size=10)  # 11 batches
    with torch.no_grad():
        whole = nmse(model(x), y)
    assert result["nmse"] == pytest.approx(whole, rel=1e-9)
    assert result["nrmse"] == pytest.approx(math.sqrt(whole), rel=1e-9)
