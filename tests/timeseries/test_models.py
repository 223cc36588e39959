"""TDNN and Elman against hand-written references: the Elman forward pass and its truncated-BPTT gradient against an
explicit loop over time steps; the TDNN against its affine maps written out."""

from __future__ import annotations

import pytest
import torch

import lamina
from lamina.errors import ShapeError
from lamina.timeseries import NARX, TDNN, Elman
from lamina.timeseries.tdnn import mlp


def _elman_by_hand(model: Elman, x: torch.Tensor, cut: int) -> torch.Tensor:
    """h_t = tanh(W x_t + b_ih + U h_{t-1} + b_hh), the context detached after ``cut`` steps; y = V h_L + c."""
    rnn = model.rnn
    h = torch.zeros(x.shape[0], model.hidden_size, dtype=x.dtype)
    for t in range(x.shape[1]):
        if t == cut:
            h = h.detach()  # truncation: no gradient flows into the steps before
        h = torch.tanh(x[:, t] @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h @ rnn.weight_hh_l0.T + rnn.bias_hh_l0)
    return model.readout(h)


@pytest.mark.parametrize("bptt", [None, 1, 3])
def test_elman_forward_and_truncated_gradient_equal_an_explicit_loop(bptt):
    torch.manual_seed(0)
    model = Elman(2, 5, outputs=2, bptt=bptt, dtype=torch.float64)
    x = torch.randn(4, 7, 2, dtype=torch.float64)
    target = torch.randn(4, 2, dtype=torch.float64)
    cut = 0 if bptt is None else 7 - bptt

    loss = ((model(x) - target) ** 2).sum()
    grads = torch.autograd.grad(loss, list(model.parameters()))
    ref_loss = ((_elman_by_hand(model, x, cut) - target) ** 2).sum()
    ref_grads = torch.autograd.grad(ref_loss, list(model.parameters()))
    torch.testing.assert_close(loss, ref_loss)
    for g, r in zip(grads, ref_grads):
        torch.testing.assert_close(g, r)


def test_truncation_changes_the_gradient_but_not_the_output():
    torch.manual_seed(1)
    full = Elman(1, 4, dtype=torch.float64)
    short = Elman(1, 4, bptt=2, dtype=torch.float64)
    short.load_state_dict(full.state_dict())
    x = torch.randn(3, 6, dtype=torch.float64)  # (N, L): a univariate window
    torch.testing.assert_close(full(x), short(x))
    g_full = torch.autograd.grad(full(x).sum(), full.rnn.weight_hh_l0)[0]
    g_short = torch.autograd.grad(short(x).sum(), short.rnn.weight_hh_l0)[0]
    assert not torch.allclose(g_full, g_short)


def test_tdnn_is_the_mlp_on_the_delay_line():
    torch.manual_seed(0)
    model = TDNN(lags=3, hidden=(4,), outputs=2, activation="sigmoid")
    x = torch.randn(5, 3)
    net = model.net
    expected = torch.sigmoid(x @ net.hidden0.weight.T + net.hidden0.bias) @ net.output.weight.T + net.output.bias
    torch.testing.assert_close(model(x), expected)
    torch.testing.assert_close(model(x.unsqueeze(-1)), expected)  # (N, lags, 1) is the same window
    assert model.window.lags == 3 and model.window.horizon == 2


def test_shape_errors_say_what_was_expected():
    with pytest.raises(
        ShapeError,
        match=r"TDNN expects windows of 12 lags x 1 feature\(s\), shape \(N, 12\), "
        r"got \(5, 10\)",
    ):
        TDNN(12)(torch.zeros(5, 10))
    with pytest.raises(ShapeError, match=r"Elman expects windows of shape \(N, L, 3\), got \(2, 5, 1\)"):
        Elman(3)(torch.zeros(2, 5, 1))
    with pytest.raises(ValueError, match=r"^Invalid Elman: bptt: expected an integer >= 1, got 0$"):
        Elman(1, bptt=0)
    with pytest.raises(ValueError, match=r"^Invalid TDNN: hidden\[1\]: expected an integer >= 1, got 0$"):
        TDNN(4, hidden=(8, 0))
    with pytest.raises(ValueError, match=r"`hidden` sizes must be positive integers, got \[8, 0\]"):
        mlp(4, (8, 0), 1, "tanh")


def test_the_old_keywords_name_the_experiment_files_keys_that_replaced_them():
    with pytest.raises(TypeError, match=r"^Elman: 'hidden' is now 'units'$"):
        Elman(1, hidden=8)
    with pytest.raises(TypeError, match=r"^TDNN: 'horizon' is now 'outputs'$"):
        TDNN(4, horizon=2)
    with pytest.raises(TypeError, match=r"^NARX: 'horizon' is now 'outputs'$"):
        NARX(4, horizon=2)
    assert Elman(1, units=5).hidden_size == 5 and TDNN(4, outputs=2).window.horizon == 2


def test_layers_build_from_a_config():
    model = lamina.build_model([{"type": "elman", "units": 6, "bptt": 4}], input_shape=(12, 1))
    assert model(torch.zeros(2, 12, 1)).shape == (2, 1)
    model = lamina.build_model(
        [{"type": "tdnn", "hidden": [8, 4], "activation": "sigmoid", "outputs": 3}], input_shape=(12,)
    )
    assert model(torch.zeros(2, 12)).shape == (2, 3)
    with pytest.raises(lamina.ConfigError, match=r"model.layers\[0\].bptt: expected an integer >= 1, got 0"):
        lamina.build_model([{"type": "elman", "bptt": 0}], input_shape=(12, 1))


def test_weight_elimination_value_and_gradient_by_hand():
    from lamina.timeseries import WeightEliminationLoss, weight_elimination

    torch.manual_seed(0)
    model = TDNN(3, hidden=(2,), dtype=torch.float64)
    w0 = 0.7
    weights = [model.net.hidden0.weight, model.net.output.weight]  # the biases are not penalised
    expected = sum(((w / w0) ** 2 / (1 + (w / w0) ** 2)).sum() for w in weights)
    value = weight_elimination(model, scale=w0)
    torch.testing.assert_close(value, expected)
    grad = torch.autograd.grad(value, weights)
    for g, w in zip(grad, weights):  # dC/dw = (2 w / w0^2) / (1 + (w / w0)^2)^2
        torch.testing.assert_close(g, (2 * w / w0**2) / (1 + (w / w0) ** 2) ** 2)
    loss = WeightEliminationLoss(model, 0.01, scale=w0)
    x, y = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 1, dtype=torch.float64)
    torch.testing.assert_close(loss(model(x), y), ((model(x) - y) ** 2).mean() + 0.01 * expected)
    with pytest.raises(ValueError, match="`scale` must be > 0, got 0"):
        weight_elimination(model, scale=0)


def test_weight_elimination_callback_adds_the_penalty_to_the_trainer_loss():
    from lamina.data import ArrayDataset
    from lamina.timeseries import weight_elimination

    torch.manual_seed(0)
    model = TDNN(3, hidden=(2,))
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    callback = lamina.resolve("callback", {"type": "weight_elimination", "strength": 0.5}).build()
    trainer = lamina.Trainer(
        model, loss="mse", optimizer={"type": "sgd", "lr": 1e-9}, epochs=1, batch_size=8, callbacks=[callback]
    )
    trainer.fit(ArrayDataset(x, y))
    with torch.no_grad():
        expected = ((model(x) - y) ** 2).mean() + 0.5 * weight_elimination(model)
    assert trainer.evaluate(ArrayDataset(x, y))["loss"] == pytest.approx(float(expected), rel=1e-5)
    trainer.fit(ArrayDataset(x, y), epochs=2)  # a second fit does not add the penalty twice
    with torch.no_grad():
        expected = ((model(x) - y) ** 2).mean() + 0.5 * weight_elimination(model)
    assert trainer.evaluate(ArrayDataset(x, y))["loss"] == pytest.approx(float(expected), rel=1e-5)
