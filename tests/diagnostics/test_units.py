"""unit_statistics against networks built by hand with known dead and saturated units."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import lamina
from lamina.diagnostics import LayerNotFoundError, UnitStatisticsLog, unit_statistics


def _set(linear: nn.Linear, weight, bias) -> None:
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        linear.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))


def test_dead_relu_units_of_a_hand_built_network():
    model = lamina.build_model(
        [{"type": "dense", "units": 6, "activation": "relu"}, {"type": "dense", "units": 4, "activation": "sigmoid"}],
        (3,),
    )
    # inputs are positive; units 0 and 3 have negative weights and bias: never positive, dead
    _set(
        model[0][0],
        [[-1, -1, -1], [1, 0, 0], [0, 1, 0], [-2, -0.5, -1], [0, 0, 1], [1, -1, 0]],
        [-0.1, 0, 0, -0.1, 0, 0.05],
    )
    # sigmoid units 1 and 2 sit at a bound for every input, unit 0 and 3 around 0.5
    _set(model[1][0], torch.zeros(4, 6), [0.0, 20.0, -20.0, 0.1])
    x = torch.rand(50, 3) + 0.01
    stats = unit_statistics(model, x)
    relu, sigmoid = stats["dense_0"], stats["dense_1"]
    assert relu.kind == "ReLU" and relu.units == 6 and relu.dead_units == [0, 3] and relu.dead == 2
    z = x.numpy() @ model[0][0].weight.detach().numpy().T + model[0][0].bias.detach().numpy()
    assert relu.zero_fraction == pytest.approx(float((z <= 0).mean()))
    counts, _ = np.histogram(np.maximum(z, 0), bins=50, range=(np.maximum(z, 0).min(), np.maximum(z, 0).max()))
    assert relu.counts == counts.tolist()  # the histogram is numpy's
    assert sigmoid.kind == "Sigmoid" and sigmoid.saturated_units == [1, 2] and sigmoid.dead_units == []
    assert sigmoid.saturated_fraction == pytest.approx(0.5)
    assert "dense_0" in stats.table() and stats.n_inputs == 50


def test_dead_channels_of_a_convolution_and_tanh_saturation_margin():
    model = nn.Sequential(nn.Conv2d(1, 3, 1), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2), nn.Tanh())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([1.0, -1.0, 0.5]).reshape(3, 1, 1, 1))
        model[0].bias.copy_(torch.tensor([0.0, -0.5, 0.0]))
    _set(model[3], torch.zeros(2, 12), [float(np.arctanh(0.985)), float(np.arctanh(0.975))])
    stats = unit_statistics(model, torch.rand(8, 1, 2, 2))
    assert stats["1"].units == 3 and stats["1"].dead_units == [1]  # channel 1: -x - 0.5 < 0 everywhere
    # tanh range 2: saturated beyond 1 - 0.01 * 2 = 0.98; 0.985 is, 0.975 is not
    assert stats["4"].saturated_units == [0]
    assert stats.to_dict()["layers"][0]["dead_units"] == [1]


def test_a_model_without_activations_and_bad_input(tmp_path):
    empty = unit_statistics(nn.Linear(3, 2), torch.randn(4, 3))
    assert empty.layers == [] and "no activation layers" in empty.table() and empty.plot(tmp_path / "h.png") is None
    model = lamina.build_model([{"type": "dense", "units": 3, "activation": "relu"}], (2,))
    with pytest.raises(LayerNotFoundError, match="its layers are: dense_0"):
        unit_statistics(model, torch.randn(4, 2), layers=["relu"])
    with pytest.raises(lamina.ShapeError, match=r"expects inputs of shape \(N, 2\)"):
        unit_statistics(model, torch.randn(4, 3))
    with pytest.raises(ValueError, match="`saturation` must be in"):
        unit_statistics(model, torch.randn(4, 2), saturation=0.7)
    assert unit_statistics(model, torch.randn(30, 2)).plot(tmp_path / "h.png").is_file()


def test_unit_statistics_callback_counts_the_dead_units(tmp_path):
    model = lamina.build_model(
        [{"type": "dense", "units": 4, "activation": "relu"}, {"type": "dense", "units": 2}], (2,)
    )
    _set(model[0][0], [[1, 0], [-1, -1], [0, 1], [-1, -1]], [0.1, -5.0, 0.1, -5.0])  # two dead units
    data = lamina.data.ArrayDataset(torch.rand(20, 2), torch.randint(0, 2, (20,)))
    log = UnitStatisticsLog(every=1, folder=tmp_path)
    lamina.Trainer(model, optimizer={"type": "sgd", "lr": 0.01}, epochs=1, batch_size=10, callbacks=[log]).fit(data)
    assert [r["step"] for r in log.records] == [1, 2]
    assert log.records[0]["layers"]["dense_0"]["dead_percent"] == 50.0  # dead units get no gradient: stay dead
    assert log.records[1]["layers"]["dense_0"]["dead_percent"] == 50.0
    assert (tmp_path / "plots" / "units_during_training.png").is_file()
