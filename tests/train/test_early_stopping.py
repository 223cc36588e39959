"""Early stopping's warm-up (``start_from_epoch``, as in Keras): the epochs before it are not monitored, so a
network on its initial plateau is not stopped there, and the best epoch is counted from the warm-up's end."""

from __future__ import annotations

import types

import pytest
import torch

from lamina.errors import ConfigError
from lamina.registry import resolve
from lamina.train import EarlyStopping


def _run(callback: EarlyStopping, values: list[float]) -> int | None:
    """Feed ``val_error`` values epoch by epoch to the callback, as the trainer would; the epoch it stopped at."""
    trainer = types.SimpleNamespace(model=torch.nn.Linear(1, 1), stop_training=False, stop_reason=None, epoch=0)
    callback.on_train_begin(trainer)
    for epoch, value in enumerate(values):
        callback.on_epoch_end(trainer, epoch, {"val_error": value})
        trainer.epoch = epoch + 1
        if trainer.stop_training:
            return epoch
    return None


# a plateau at chance for 6 epochs, then learning: 90, 90, ..., 40, 20, 10, then no more progress
CURVE = [90.0, 89.9, 90.0, 90.0, 90.0, 90.0, 40.0, 20.0, 10.0, 11.0, 12.0, 11.5, 12.5, 13.0]


def test_without_warm_up_the_plateau_ends_the_run():
    stopper = EarlyStopping("val_error", mode="min", patience=3)
    assert _run(stopper, CURVE) == 4  # best 89.9 at epoch 1 (0-based), then 3 epochs without improvement
    assert stopper.best == 89.9 and stopper.best_epoch == 1


def test_warm_up_epochs_are_not_monitored():
    stopper = EarlyStopping("val_error", mode="min", patience=3, start_from_epoch=5)
    assert _run(stopper, CURVE) == 11  # best 10.0 at epoch 8, then 3 without improvement
    assert stopper.best == 10.0 and stopper.best_epoch == 8
    # a warm-up longer than the run: nothing is ever monitored, nothing stops it, no best weights to restore
    idle = EarlyStopping("val_error", mode="min", patience=1, start_from_epoch=len(CURVE))
    assert _run(idle, CURVE) is None and idle.best_epoch == -1 and idle.best_weights is None


def test_the_option_is_validated_in_experiment_files():
    spec = resolve("callback", {"type": "early_stopping", "monitor": "val_loss", "start_from_epoch": 4})
    assert spec.build().start_from_epoch == 4
    with pytest.raises(ConfigError, match="start_from_epoch"):
        resolve("callback", {"type": "early_stopping", "start_from_epoch": -1})
