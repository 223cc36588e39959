"""Weigend et al.'s adaptive weight-elimination strength: the rule on a hand-worked error sequence, the callback that
applies it, the penalty's gradient against finite differences, and the errors for bad options."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

import lamina
from lamina.data import ArrayDataset
from lamina.timeseries import TDNN, WeightElimination, WeightEliminationLoss, adapt_strength, weight_elimination

# Hand-worked with lambda_0 = 0, Delta lambda = 1, cut = 0.25, D = 0.5, gamma = 0.5 (A_0 = E_0):
#   n  E_n   E_{n-1}  A_n       case                                  lambda_n
#   0  4     inf      4         E < E_{n-1}: increase                 1
#   1  3     4        3.5       E < E_{n-1}: increase                 2
#   2  3.5   3        3.5       E >= E_{n-1}, E >= A: cut             0.5
#   3  3.2   3.5      3.35      E < E_{n-1}: increase                 1.5
#   4  5     3.2      4.175     E >= E_{n-1}, E >= A: cut             0.375
#   5  2     5        3.0875    E < E_{n-1}: increase                 1.375
#   6  2.5   2        2.79375   E >= E_{n-1}, E < A: decrease         0.375
#   7  0.4   2.5      1.596875  E < D (and E_{n-1}): increase         1.375
#   8  0.45  0.4      1.0234375 E < D though E >= E_{n-1}: increase  2.375
ERRORS = [4, 3, 3.5, 3.2, 5, 2, 2.5, 0.4, 0.45]
AVERAGES = [4, 3.5, 3.5, 3.35, 4.175, 3.0875, 2.79375, 1.596875, 1.0234375]
STRENGTHS = [1, 2, 0.5, 1.5, 0.375, 1.375, 0.375, 1.375, 2.375]


def test_the_rule_on_a_hand_worked_sequence():
    strength, previous = 0.0, math.inf
    for error, average, expected in zip(ERRORS, AVERAGES, STRENGTHS):
        strength = adapt_strength(strength, error, previous, average, desired=0.5, step=1.0, cut=0.25)
        assert strength == expected
        previous = error


def test_a_decrease_stops_at_zero():
    assert adapt_strength(0.3, 2.5, 2.0, 2.8, desired=0.5, step=1.0) == 0.0


def test_the_callback_follows_the_hand_worked_sequence_on_the_data_term_alone():
    model = TDNN(2, hidden=(3,), dtype=torch.float64)
    trainer = SimpleNamespace(model=model, loss_fn=torch.nn.MSELoss())
    callback = WeightElimination(0.0, desired_error=0.5, strength_step=1.0, average_decay=0.5, cut=0.25)
    callback.on_train_begin(trainer)
    loss = trainer.loss_fn
    assert isinstance(loss, WeightEliminationLoss)
    target = torch.zeros(4, 1, dtype=torch.float64)
    for epoch, error in enumerate(ERRORS):
        callback.on_epoch_begin(trainer, epoch)
        # two "batches" of mean squared error E each: the epoch's error is E, the penalty (lambda > 0) left out
        for _ in range(2):
            loss(torch.full((4, 1), math.sqrt(error), dtype=torch.float64), target)
        with torch.no_grad():  # an evaluation: not training error
            loss(torch.full((4, 1), 100.0, dtype=torch.float64), target)
        callback.on_epoch_end(trainer, epoch, {})
    assert callback.strengths == pytest.approx(STRENGTHS)
    assert loss.strength == pytest.approx(2.375)
    assert callback.state_dict() == pytest.approx({"strength": 2.375, "previous": 0.45, "average": AVERAGES[-1]})


def test_a_fixed_strength_does_not_move():
    model = TDNN(2, hidden=(3,))
    trainer = SimpleNamespace(model=model, loss_fn=torch.nn.MSELoss())
    callback = WeightElimination(0.25)
    callback.on_train_begin(trainer)
    for epoch, error in enumerate(ERRORS):
        callback.on_epoch_begin(trainer, epoch)
        trainer.loss_fn(torch.full((4, 1), math.sqrt(error)), torch.zeros(4, 1))
        callback.on_epoch_end(trainer, epoch, {})
    assert trainer.loss_fn.strength == 0.25 and callback.strengths == []


def test_adaptive_from_an_experiment_callback_in_the_trainer():
    torch.manual_seed(0)
    model = TDNN(3, hidden=(4,))
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    spec = {"type": "weight_elimination", "strength": 0.0, "desired_error": 1e-3, "strength_step": 1e-3}
    callback = lamina.resolve("callback", spec).build()
    trainer = lamina.Trainer(
        model, loss="mse", optimizer={"type": "adam", "lr": 0.01}, epochs=20, batch_size=32, callbacks=[callback]
    )
    trainer.fit(ArrayDataset(x, y))
    # the error stays above D = 1e-3 on noise, so lambda rises only while the error falls: 20 steps up at most
    assert len(callback.strengths) == 20
    assert 0 < trainer.loss_fn.strength == callback.strengths[-1] <= 20 * 1e-3 + 1e-12
    with torch.no_grad():
        expected = ((model(x) - y) ** 2).mean() + trainer.loss_fn.strength * weight_elimination(model)
    assert trainer.evaluate(ArrayDataset(x, y))["loss"] == pytest.approx(float(expected), rel=1e-5)
    # a resumed callback restores lambda and the rule's memory
    again = WeightElimination(0.0, desired_error=1e-3)
    again.on_train_begin(SimpleNamespace(model=model, loss_fn=torch.nn.MSELoss()))
    again.load_state_dict(callback.state_dict())
    assert again.state_dict() == callback.state_dict()


def test_penalty_gradient_matches_finite_differences():
    torch.manual_seed(1)
    model = TDNN(3, hidden=(2,), dtype=torch.float64)
    x, y = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 1, dtype=torch.float64)
    weights = [model.net.hidden0.weight, model.net.output.weight]

    def penalised(w_hidden, w_out):
        return 0.3 * weight_elimination([w_hidden, w_out], scale=0.7)

    assert torch.autograd.gradcheck(penalised, [w.detach().clone().requires_grad_() for w in weights])
    loss = WeightEliminationLoss(model, 0.3, scale=0.7)
    grads = torch.autograd.grad(loss(model(x), y), weights)
    h = 1e-6
    w = model.net.hidden0.weight
    with torch.no_grad():
        w[0, 1] += h
        up = loss(model(x), y)
        w[0, 1] -= 2 * h
        down = loss(model(x), y)
        w[0, 1] += h
    assert float(grads[0][0, 1]) == pytest.approx(float(up - down) / (2 * h), rel=1e-6)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"strength": -1e-4}, "Invalid WeightElimination: strength: expected a number >= 0, got -0.0001"),
        ({"strength": 0.0, "desired_error": 0.0}, "desired_error: expected a number > 0, got 0.0"),
        ({"strength": 0.0, "desired_error": -1.0}, "desired_error: expected a number > 0, got -1.0"),
        ({"strength": 0.0, "strength_step": -1e-6}, "strength_step: expected a number >= 0, got -1e-06"),
        ({"strength": 0.0, "average_decay": 1.0}, r"average_decay: expected a number in \[0, 1\), got 1.0"),
        ({"strength": 0.0, "cut": 0.0}, r"cut: expected a number in \(0, 1\], got 0.0"),
    ],
)
def test_bad_options_name_the_field(options, message):
    with pytest.raises(ValueError, match=message):
        WeightElimination(**options)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"strength": -1.0}, "strength: expected a number >= 0, got -1.0"),
        ({"desired_error": 0}, "desired_error: expected a number > 0, got 0.0"),
        ({"strength_step": -1e-6}, "strength_step: expected a number >= 0, got -1e-06"),
        ({"average_decay": 1}, r"average_decay: expected a number in \[0, 1\), got 1.0"),
        ({"cut": 1.5}, r"cut: expected a number in \(0, 1\], got 1.5"),
    ],
)
def test_bad_config_names_the_field(options, message):
    with pytest.raises(lamina.ConfigError, match=message):
        lamina.resolve("callback", {"type": "weight_elimination", **options})
