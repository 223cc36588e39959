"""The trainer's step modes (issue 25, item 5): plain, scaled and closure steps each honour ``grad_clip`` or refuse
it; a torch scheduler steps per epoch unless told ``interval = "step"``; ReduceLROnPlateau watches its monitor."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lamina.data import ArrayDataset
from lamina.errors import ConfigError, TrainingDivergedError
from lamina.train import Trainer
from lamina.train.steps import choose_step, closure_step, plain_step, scaled_step
from lamina.train.trainer import FINITE_CHECK_EVERY


def _regression(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = 10 * torch.randn(n, 1, generator=g)  # far from the initial outputs: a gradient norm well above 1
    return x, y


def _linear(seed=0):
    torch.manual_seed(seed)
    return nn.Linear(3, 1)


def _one_step(trainer, x, y):
    trainer.fit(ArrayDataset(x, y), epochs=1)
    return [p.detach().clone() for p in trainer.model.parameters()]


def _clipped_by_hand(model, x, y, lr, clip):
    """One SGD step along the gradient rescaled to norm ``clip`` (an independent oracle)."""
    loss = nn.functional.mse_loss(model(x), y)
    grads = torch.autograd.grad(loss, list(model.parameters()))
    norm = torch.sqrt(sum(g.pow(2).sum() for g in grads))
    assert norm > clip  # otherwise clipping would not change anything and the test could not fail
    return [p.detach() - lr * g * (clip / norm) for p, g in zip(model.parameters(), grads)]


def test_choose_step_picks_one_function_per_mode():
    assert choose_step(needs_closure=True, scaled=False) is closure_step
    assert choose_step(needs_closure=False, scaled=True) is scaled_step
    assert choose_step(needs_closure=False, scaled=False) is plain_step


def test_scaled_step_unscales_before_clipping():
    x, y = _regression()
    expected = _clipped_by_hand(_linear(), x, y, lr=0.1, clip=0.5)
    trainer = Trainer(
        _linear(), loss="mse", optimizer={"type": "sgd", "lr": 0.1}, batch_size=8, grad_clip=0.5, device="cpu", seed=0
    )
    trainer.scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)  # CPU stand-in for the CUDA fp16 scaler
    trainer._step_fn = scaled_step
    for got, want in zip(_one_step(trainer, x, y), expected):
        torch.testing.assert_close(got, want)


class _RecordingLBFGS(torch.optim.LBFGS):
    """L-BFGS that records the gradient norm it reads after every closure call."""

    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        self.norms = []

    def step(self, closure):
        def recorded():
            loss = closure()
            self.norms.append(float(torch.sqrt(sum(p.grad.pow(2).sum() for p in self.param_groups[0]["params"]))))
            return loss

        return super().step(recorded)


@pytest.mark.parametrize("clip", [None, 0.5])
def test_lbfgs_reads_clipped_gradients_from_the_closure(clip):
    x, y = _regression()
    model = _linear()
    optimizer = _RecordingLBFGS(model.parameters(), lr=0.1, max_iter=4)
    Trainer(model, loss="mse", optimizer=optimizer, batch_size=8, grad_clip=clip, device="cpu", seed=0).fit(
        ArrayDataset(x, y), epochs=1
    )
    assert optimizer.norms
    if clip is None:
        assert max(optimizer.norms) > 0.5  # the unclipped gradient is large: the clipped case is a real test
    else:
        assert max(optimizer.norms) <= clip * (1 + 1e-5)


@pytest.mark.parametrize(
    "optimizer",
    [{"type": "hessian_free"}, {"type": "ekf"}, {"type": "evolution_strategies", "inner": {"type": "sgd", "lr": 0.1}}],
)
def test_closure_optimizers_that_cannot_clip_refuse_grad_clip(optimizer):
    with pytest.raises(ConfigError, match="train.grad_clip"):
        Trainer(_linear(), loss="mse", optimizer=optimizer, grad_clip=1.0, device="cpu")


def _step_lr_trainer(**kwargs):
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    return Trainer(
        model, loss="mse", optimizer=optimizer, schedule=scheduler, batch_size=2, device="cpu", seed=0, **kwargs
    ), optimizer


def test_torch_scheduler_steps_per_epoch_by_default():
    x, y = _regression(n=8)  # 4 batches an epoch
    trainer, optimizer = _step_lr_trainer()
    history = trainer.fit(ArrayDataset(x, y * 0.01), epochs=3)
    assert [row["lr"] for row in history] == [1.0, 0.5, 0.25]  # the rate each epoch ran at
    assert optimizer.param_groups[0]["lr"] == 0.125


def test_torch_scheduler_steps_per_batch_when_asked():
    x, y = _regression(n=8)
    trainer, optimizer = _step_lr_trainer(schedule_interval="step")
    trainer.fit(ArrayDataset(x, y * 0.01), epochs=2)
    assert optimizer.param_groups[0]["lr"] == 0.5**8


class _RecordingPlateau(torch.optim.lr_scheduler.ReduceLROnPlateau):
    def __init__(self, optimizer):
        super().__init__(optimizer, patience=0, factor=0.5)
        self.seen = []

    def step(self, metrics):
        self.seen.append(metrics)
        super().step(metrics)


def test_plateau_scheduler_in_a_lightning_dict_watches_its_monitor():
    x, y = _regression(n=8)
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    scheduler = _RecordingPlateau(optimizer)
    trainer = Trainer(
        model,
        loss="mse",
        optimizer=optimizer,
        batch_size=4,
        device="cpu",
        seed=0,
        schedule={"scheduler": scheduler, "interval": "epoch", "monitor": "val_loss"},
    )
    history = trainer.fit(ArrayDataset(x, y), ArrayDataset(x[:4], y[:4]), epochs=3)
    assert scheduler.seen == [row["val_loss"] for row in history]


def test_bad_schedule_intervals_are_refused():
    with pytest.raises(ValueError, match="'epoch' or 'step'"):
        _step_lr_trainer(schedule_interval="batch")
    with pytest.raises(ValueError, match="lamina schedule"):
        Trainer(
            _linear(),
            loss="mse",
            optimizer={"type": "sgd", "lr": 0.1},
            schedule="cosine",
            schedule_interval="step",
            device="cpu",
        )
    model = _linear()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        Trainer(
            model,
            loss="mse",
            optimizer=optimizer,
            schedule_interval="step",
            device="cpu",
            schedule=torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer),
        )


def test_deferred_finiteness_check_stops_within_the_window_and_restores_the_epochs_weights():
    """On an accelerator the loss's finiteness is read every FINITE_CHECK_EVERY steps, not each step (no host wait
    per batch). Forced on the CPU here: the divergence is still caught, inside the window, and the weights the NaN
    steps produced are replaced by the epoch's first ones."""

    torch.manual_seed(0)
    x, y = torch.randn(64 * 8, 5), torch.randint(0, 3, (64 * 8,))
    x[200] = float("nan")  # one poisoned example: its batch (shuffled) has a NaN loss
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    trainer = Trainer(
        model, loss="cross_entropy", optimizer={"type": "sgd", "lr": 0.1}, epochs=3, batch_size=8, device="cpu", seed=0
    )
    trainer._defer_finite = True
    start = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(TrainingDivergedError, match=r"the loss became nan between steps 1 and \d+ of epoch 1") as err:
        trainer.fit(ArrayDataset(x, y))
    assert 1 <= err.value.step <= FINITE_CHECK_EVERY and err.value.step == trainer.step
    for k, v in model.state_dict().items():  # the NaN update was undone: the weights of the epoch's start
        assert torch.isfinite(v).all() and torch.equal(v, start[k])
