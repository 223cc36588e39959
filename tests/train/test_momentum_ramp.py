"""The momentum ramp (Hinton et al. 2012; Srivastava et al. 2014): the momentum each SGD step used, read from the
optimizer's buffer update, against the linear formula; the dampened form; the registered name; a clear error."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lamina
from lamina.errors import ConfigError
from lamina.registry import resolve
from lamina.train.callbacks.momentum import MomentumRamp, ramp_momentum


class _Seen(lamina.Callback):
    """Record the momentum and dampening in force at each step (read before the step, after the ramp set them)."""

    def __init__(self) -> None:
        self.values: list[tuple[float, float]] = []

    def on_batch_end(self, trainer, step, loss):
        group = trainer.optimizer.param_groups[0]
        self.values.append((group["momentum"], group["dampening"]))


def _fit(ramp: MomentumRamp, optimizer: dict, epochs: int = 3) -> tuple[lamina.Trainer, _Seen]:
    torch.manual_seed(0)
    data = lamina.data.ArrayDataset(torch.randn(40, 3), torch.randint(0, 2, (40,)))
    seen = _Seen()
    trainer = lamina.Trainer(
        nn.Linear(3, 2), optimizer=optimizer, epochs=epochs, batch_size=10, device="cpu", verbose=0,
        callbacks=[ramp, seen],
    )  # fmt: skip
    trainer.fit(data)
    return trainer, seen


def test_the_momentum_follows_the_linear_ramp_then_holds():
    trainer, seen = _fit(MomentumRamp(0.5, 0.9, epochs=2), {"type": "sgd", "lr": 0.1, "momentum": 0.5})
    # after step s (1-based) the ramp has set the momentum of step s + 1: 0.5 + 0.4 * min(s / 8, 1)
    expected = [0.5 + 0.4 * min(s / 8, 1.0) for s in range(1, 13)]
    assert [m for m, _ in seen.values] == pytest.approx(expected)
    assert [d for _, d in seen.values] == [0.0] * 12  # dampening untouched
    assert ramp_momentum(0, 8, 0.5, 0.9) == 0.5 and ramp_momentum(100, 8, 0.5, 0.9) == 0.9


def test_dampened_sets_the_dampening_to_the_momentum():
    ramp = MomentumRamp(0.5, 0.5, epochs=1, dampened=True)
    trainer, seen = _fit(ramp, {"type": "sgd", "lr": 0.1, "momentum": 0.5}, epochs=1)
    assert all(d == m == 0.5 for m, d in seen.values)


def test_registered_and_refused_for_an_optimizer_without_momentum():
    spec = resolve("callback", {"type": "momentum_ramp", "start": 0.5, "end": 0.99, "epochs": 500})
    assert isinstance(spec.build(), MomentumRamp)
    with pytest.raises(ConfigError, match="momentum_ramp"):
        _fit(MomentumRamp(), {"type": "adam", "lr": 0.01}, epochs=1)
    with pytest.raises(Exception, match="end"):
        MomentumRamp(end=1.0)
