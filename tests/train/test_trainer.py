"""The trainer: accuracy on digits, determinism, penalties, clipping, closures, divergence, resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import lamina
from lamina.data import ArrayDataset
from lamina.errors import TrainingDivergedError
from lamina.train import EarlyStopping, Trainer

MLP = [{"type": "flatten"}, {"type": "dense", "units": 64, "activation": "relu"}, {"type": "dense", "units": 10}]


@pytest.fixture(scope="module")
def digits():
    return lamina.data.load("digits", validation=0.1)


def _model(seed=0, spec=MLP, shape=(1, 8, 8)):
    torch.manual_seed(seed)
    return lamina.build_model(spec, shape)


def test_digits_mlp_reaches_95_percent(digits):
    trainer = Trainer(_model(), optimizer={"type": "sgd", "lr": 0.05, "momentum": 0.9}, epochs=15, batch_size=32)
    history = trainer.fit(digits.train, digits.validation)
    assert len(history) == 15 and history[-1]["loss"] < history[0]["loss"]
    assert trainer.evaluate(digits.test)["accuracy"] >= 0.95


def test_same_seed_same_weights_and_caller_rng_untouched(digits):
    spec = MLP[:2] + [{"type": "dropout", "p": 0.3}] + MLP[2:]
    weights = []
    for _ in range(2):
        model = _model(spec=spec)
        before = torch.get_rng_state()  # after the model's own seeding, so the test does not depend on the order
        trainer = Trainer(model, epochs=2, batch_size=64, seed=123)
        trainer.fit(digits.train)
        assert torch.equal(torch.get_rng_state(), before)  # library code never reseeds the caller
        weights.append([p.detach().clone() for p in trainer.model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*weights))
    other = Trainer(_model(spec=spec), epochs=2, batch_size=64, seed=124)
    other.fit(digits.train)
    assert not all(torch.equal(a, b) for a, b in zip(weights[0], other.model.parameters()))


def test_resume_from_state_dict_is_bit_exact(digits):
    spec = MLP[:2] + [{"type": "dropout", "p": 0.3}] + MLP[2:]
    options = dict(
        epochs=4,
        batch_size=64,
        seed=7,
        schedule={"type": "step", "step_size": 1, "gamma": 0.5},
        optimizer={"type": "sgd", "lr": 0.1, "momentum": 0.9},
        callbacks=[EarlyStopping("val_loss", patience=10)],
    )
    full = Trainer(_model(spec=spec), **options)
    full.fit(digits.train, digits.validation)
    first = Trainer(_model(spec=spec), **{**options, "callbacks": [EarlyStopping("val_loss", patience=10)]})
    first.fit(digits.train, digits.validation, epochs=2)
    state = first.state_dict()
    resumed = Trainer(_model(seed=99, spec=spec), **{**options, "callbacks": [EarlyStopping("val_loss", patience=10)]})
    resumed.load_state_dict(state)
    resumed.fit(digits.train, digits.validation)
    assert all(torch.equal(a, b) for a, b in zip(full.model.parameters(), resumed.model.parameters()))
    assert full.history["val_loss"] == resumed.history["val_loss"]
    # the scheduler steps after every optimizer step: after 4 epochs it holds the rate of epoch 5
    assert (
        resumed.optimizer.param_groups[0]["lr"] == full.optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**4)
    )


def test_l1_l2_penalties_match_the_hand_computed_gradient():
    torch.manual_seed(0)
    x, y = torch.randn(8, 3), torch.randn(8, 2)
    model = nn.Linear(3, 2)
    w0, b0 = model.weight.detach().clone(), model.bias.detach().clone()
    trainer = Trainer(
        model, loss="mse", optimizer={"type": "sgd", "lr": 0.1}, epochs=1, batch_size=8, l1=0.01, l2=0.1, seed=0
    )
    trainer.fit(ArrayDataset(x, y))
    # by hand: d/dw [mean((xw^T + b - y)^2) + 0.01 sum|w| + 0.05 sum w^2]
    residual = x @ w0.T + b0 - y
    grad_w = 2 * residual.T @ x / residual.numel() + 0.01 * w0.sign() + 0.1 * w0
    grad_b = 2 * residual.sum(0) / residual.numel()  # biases are not penalised
    torch.testing.assert_close(model.weight.detach(), w0 - 0.1 * grad_w)
    torch.testing.assert_close(model.bias.detach(), b0 - 0.1 * grad_b)
    # the logged loss includes the penalty, taken at the weights the step started from
    logged = residual.pow(2).mean() + 0.01 * w0.abs().sum() + 0.05 * w0.pow(2).sum()
    assert trainer.history[0]["loss"] == pytest.approx(logged.item(), rel=1e-6)


def test_shuffle_false_steps_through_the_data_in_order_every_epoch():
    torch.manual_seed(0)
    x, y = torch.randn(5, 3), torch.randn(5, 1)
    model = nn.Linear(3, 1, bias=False)
    w = start = model.weight.detach().clone()
    trainer = Trainer(model, loss="mse", optimizer={"type": "sgd", "lr": 0.1}, batch_size=2, shuffle=False, seed=0)
    trainer.fit(ArrayDataset(x, y), epochs=2)
    for _ in range(2):  # by hand: batches [0, 1], [2, 3], [4], in that order, twice
        for rows in (slice(0, 2), slice(2, 4), slice(4, 5)):
            residual = x[rows] @ w.T - y[rows]
            w = w - 0.1 * 2 * residual.T @ x[rows] / len(residual)
    torch.testing.assert_close(model.weight.detach(), w)
    shuffled = nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        shuffled.weight.copy_(start)
    Trainer(shuffled, loss="mse", optimizer={"type": "sgd", "lr": 0.1}, batch_size=2, seed=0).fit(
        ArrayDataset(x, y), epochs=2
    )
    assert not torch.allclose(shuffled.weight, model.weight)  # the default draws another order


def test_l2_penalty_reaches_a_weight_outside_the_loss():
    # autograd through the penalty gives an unused weight the gradient l2 * w; the hand-added gradient must too
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    model.unused = nn.Parameter(torch.randn(2, 2))
    w0 = model.unused.detach().clone()
    Trainer(model, loss="mse", optimizer={"type": "sgd", "lr": 0.1}, epochs=1, batch_size=8, l2=0.5, seed=0).fit(
        ArrayDataset(torch.randn(8, 3), torch.randn(8, 2))
    )
    torch.testing.assert_close(model.unused.detach(), w0 - 0.1 * 0.5 * w0)


def test_gradient_clipping_scales_the_step():
    torch.manual_seed(0)
    x, y = torch.randn(4, 3) * 10, torch.randn(4, 1)
    model = nn.Linear(3, 1)
    params0 = [p.detach().clone() for p in model.parameters()]
    model.zero_grad()
    nn.functional.mse_loss(model(x), y).backward()
    grads = [p.grad.clone() for p in model.parameters()]
    norm = torch.sqrt(sum(g.pow(2).sum() for g in grads))
    assert norm > 1.0
    Trainer(
        model, loss="mse", optimizer={"type": "sgd", "lr": 0.01}, epochs=1, batch_size=4, grad_clip=1.0, seed=0
    ).fit(ArrayDataset(x, y))
    for p0, g, p in zip(params0, grads, model.parameters()):
        torch.testing.assert_close(p.detach(), p0 - 0.01 * g / norm, rtol=1e-5, atol=1e-6)


def test_lbfgs_solves_least_squares_like_numpy():
    torch.manual_seed(0)
    x = torch.randn(50, 4, dtype=torch.float64)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]], dtype=torch.float64) + 0.1 * torch.randn(
        50, 1, dtype=torch.float64
    )
    model = nn.Linear(4, 1, bias=False).double()
    Trainer(
        model,
        loss="mse",
        optimizer={"type": "lbfgs", "max_iter": 50, "tolerance_grad": 1e-12, "tolerance_change": 1e-15},
        epochs=3,
        batch_size=50,
        seed=0,
    ).fit(ArrayDataset(x, y))
    expected, *_ = np.linalg.lstsq(x.numpy(), y.numpy(), rcond=None)
    np.testing.assert_allclose(model.weight.detach().numpy().T, expected, atol=1e-6)


@pytest.mark.parametrize(
    "schedule, factors",
    [
        ({"type": "step", "step_size": 2, "gamma": 0.5}, [1, 1, 0.5, 0.5, 0.25]),
        ({"type": "exponential", "gamma": 0.9}, [0.9**t for t in range(5)]),
        ({"type": "inverse_time", "decay": 0.5}, [1 / (1 + 0.5 * t) for t in range(5)]),
        ({"type": "cosine"}, [0.5 * (1 + np.cos(np.pi * t / 5)) for t in range(5)]),
        ({"type": "multistep", "milestones": [1, 3], "gamma": 0.1}, [1, 0.1, 0.1, 0.01, 0.01]),
    ],
)
def test_epoch_schedules_follow_their_formula(schedule, factors):
    data = ArrayDataset(torch.randn(12, 2), torch.randn(12, 1))
    trainer = Trainer(
        nn.Linear(2, 1),
        loss="mse",
        optimizer={"type": "sgd", "lr": 0.1},
        schedule=schedule,
        epochs=5,
        batch_size=4,
        seed=0,
    )
    seen = []

    class Record(lamina.Callback):
        def on_epoch_begin(self, trainer, epoch):
            seen.append(trainer.optimizer.param_groups[0]["lr"])

    trainer.callbacks.append(Record())
    trainer.fit(data)
    np.testing.assert_allclose(seen, [0.1 * f for f in factors], rtol=1e-12)


def test_linear_warmup_per_step():
    data = ArrayDataset(torch.randn(10, 2), torch.randn(10, 1))
    trainer = Trainer(
        nn.Linear(2, 1),
        loss="mse",
        optimizer={"type": "sgd", "lr": 1.0},
        schedule={"type": "warmup", "warmup_steps": 4},
        epochs=1,
        batch_size=1,
        seed=0,
    )
    rates = []

    class Record(lamina.Callback):
        def on_batch_end(self, trainer, step, loss):
            rates.append(trainer.optimizer.param_groups[0]["lr"])

    trainer.callbacks.append(Record())
    trainer.fit(data)
    assert rates[:5] == pytest.approx([0.5, 0.75, 1.0, 1.0, 1.0])  # after steps 1..5: (step + 1) / 4, capped


def test_nan_loss_stops_with_the_step_and_keeps_finite_weights():
    x = torch.randn(64, 3)
    x[37] = float("nan")  # one bad example
    data = ArrayDataset(x, torch.randn(64, 1))
    trainer = Trainer(
        nn.Linear(3, 1), loss="mse", optimizer={"type": "sgd", "lr": 0.01}, epochs=3, batch_size=8, seed=0
    )
    with pytest.raises(TrainingDivergedError) as info:
        trainer.fit(data)
    assert "the loss became nan at epoch 1" in str(info.value) and info.value.step == trainer.step + 1
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())


def test_exploding_weights_are_restored_to_the_last_finite_epoch():
    data = ArrayDataset(torch.randn(64, 3) * 100, torch.randn(64, 1) * 100)
    trainer = Trainer(
        nn.Linear(3, 1), loss="mse", optimizer={"type": "sgd", "lr": 10.0}, epochs=50, batch_size=8, seed=0
    )
    with pytest.raises(TrainingDivergedError, match="weights"):
        trainer.fit(data)
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())


def test_early_stopping_restores_the_best_weights(digits):
    snapshots = {}

    class Snapshot(lamina.Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            snapshots[epoch] = {k: v.clone() for k, v in trainer.model.state_dict().items()}

    stopper = EarlyStopping("val_loss", patience=2)
    trainer = Trainer(
        _model(),
        optimizer={"type": "sgd", "lr": 0.5, "momentum": 0.9},
        epochs=40,
        batch_size=16,
        callbacks=[Snapshot(), stopper],
    )
    trainer.fit(digits.train, digits.validation)
    assert trainer.stop_training and trainer.epoch < 40 and "has not improved for 2 epochs" in trainer.stop_reason
    best = int(np.argmin(trainer.history["val_loss"]))
    assert all(torch.equal(v, snapshots[best][k]) for k, v in trainer.model.state_dict().items())


def test_early_stopping_on_a_missing_metric_lists_the_logged_ones(digits):
    trainer = Trainer(_model(), epochs=2, callbacks=[EarlyStopping("val_acuracy")])
    with pytest.raises(lamina.ConfigError, match="did you mean 'val_accuracy'"):
        trainer.fit(digits.train, digits.validation)


def test_metrics_agree_with_scikit_learn(digits):
    from sklearn.metrics import accuracy_score, top_k_accuracy_score

    trainer = Trainer(_model(), epochs=1, metrics=["accuracy", {"type": "top_k_accuracy", "k": 3}])
    trainer.fit(digits.train)
    logits = trainer.predict(digits.test)
    results = trainer.evaluate(digits.test, batch_size=50)
    assert results["accuracy"] == pytest.approx(accuracy_score(digits.test.y, logits.argmax(1)))
    assert results["top3_accuracy"] == pytest.approx(
        top_k_accuracy_score(digits.test.y, logits.numpy(), k=3, labels=range(10))
    )


def test_models_with_their_own_training_loss():
    class Quadratic(nn.Module):
        def __init__(self):
            super().__init__()
            self.center = nn.Parameter(torch.zeros(2))

        def training_loss(self, batch):
            x, _ = batch
            return (x - self.center).pow(2).sum(1).mean()

    data = ArrayDataset(torch.randn(200, 2) + torch.tensor([3.0, -1.0]))
    model = Quadratic()
    Trainer(model, optimizer={"type": "sgd", "lr": 0.25}, epochs=20, batch_size=200, seed=0).fit(data)
    torch.testing.assert_close(model.center.detach(), data.x.mean(0), atol=1e-4, rtol=0)


def test_regression_target_shape_mismatch_is_explained():
    data = ArrayDataset(torch.randn(8, 3), torch.randn(8, 2))
    trainer = Trainer(nn.Linear(3, 3), loss="mse", epochs=1, seed=0)
    with pytest.raises(lamina.ShapeError, match=r"output has shape \(8, 3\) but the target \(8, 2\)"):
        trainer.fit(data)


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="`epochs` must be a positive integer, got 0"):
        Trainer(nn.Linear(1, 1), epochs=0)
    with pytest.raises(ValueError, match="`precision`"):
        Trainer(nn.Linear(1, 1), precision="fp8")
    with pytest.raises(lamina.ConfigError, match="unknown optimizer 'sdg'; did you mean 'sgd'"):
        Trainer(nn.Linear(1, 1), optimizer="sdg")


def test_bf16_autocast_on_cpu_trains(digits):
    trainer = Trainer(_model(), epochs=3, precision="bf16", optimizer={"type": "adam", "lr": 3e-3})
    trainer.fit(digits.train)
    assert trainer.evaluate(digits.test)["accuracy"] > 0.8
