"""Divergence at every point of a run (issue 22): mid-epoch, at the epoch boundary, in validation, in pretraining.

Each run stops with :class:`TrainingDivergedError`; ``summary.json`` (strict JSON: no bare NaN) says ``diverged`` with
the phase, epoch and value; the report is still written; and ``last.pt`` still holds the good epoch before.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

import lamina
from lamina.config.loader import parse_experiment
from lamina.errors import TrainingDivergedError
from lamina.train import Callback, Trainer
from lamina.train.checkpoint import load_checkpoint

pytestmark = pytest.mark.reliability

STEPS_PER_EPOCH = 6  # ceil(1294 / 256)


def _experiment(pretrain: bool = False, validation: float = 0.1):
    raw = {
        "name": "diverge",
        "data": {"name": "digits", "validation": validation},
        "model": {
            "layers": [
                {"type": "flatten"},
                {"type": "dense", "units": 16, "activation": "sigmoid"},
                {"type": "dense", "units": 10},
            ]
        },
        "train": {
            "epochs": 3,
            "batch_size": 256,
            "seed": 0,
            "optimizer": {"type": "sgd", "lr": 0.1},
            "checkpoint_every_steps": 1,
        },
    }
    if pretrain:
        raw["pretrain"] = {"method": "autoencoder", "epochs": 2, "batch_size": 256}
    return parse_experiment(raw)


def _strict_json(path):
    def refuse(name):
        raise AssertionError(f"{path} holds a bare {name}")

    return json.loads(path.read_text(), parse_constant=refuse)


class _Poison(Callback):
    """Set every weight to NaN after optimizer step ``at``."""

    def __init__(self, at):
        self.at = at

    def on_batch_end(self, trainer, step, loss):
        if step == self.at:
            with torch.no_grad():
                for p in trainer.model.parameters():
                    p.fill_(math.nan)


class _NaNValidation(Callback):
    """From epoch ``epoch`` (0-based) on, validation reports a NaN loss."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, trainer, epoch):
        if epoch == self.epoch:
            trainer.evaluate = lambda data, **kwargs: {"loss": math.nan, "accuracy": 0.1}


def _run(tmp_path, callback, **kwargs):
    with pytest.raises(TrainingDivergedError) as caught:
        lamina.train(_experiment(**kwargs), out=tmp_path, callbacks=[callback], progress="none")
    (run_dir,) = tmp_path.iterdir()
    summary = _strict_json(run_dir / "summary.json")
    assert summary["status"] == "diverged" and summary["message"] == str(caught.value)
    assert (run_dir / "report.html").is_file()
    log = run_dir / "metrics.jsonl"
    for line in log.read_text().splitlines() if log.exists() else []:
        json.loads(line, parse_constant=lambda name: pytest.fail(f"metrics.jsonl holds a bare {name}"))
    return run_dir, summary, caught.value


def _assert_good_last(run_dir, epoch, step):
    state = load_checkpoint(run_dir / "checkpoints" / "last.pt")["state"]
    assert (state["epoch"], state["step"]) == (epoch, step)
    assert all(torch.isfinite(w).all() for w in state["model"].values())


def test_divergence_mid_epoch(tmp_path):
    at = STEPS_PER_EPOCH + 3  # in epoch 2; the next step sees a NaN loss
    run_dir, summary, err = _run(tmp_path, _Poison(at))
    assert summary["diverged"] == {"phase": "training", "epoch": 2, "step": at + 1, "value": "nan"}
    assert err.epoch == 2 and math.isnan(err.value)
    _assert_good_last(run_dir, epoch=1, step=at - 1)  # the mid-epoch checkpoint before the poisoned step


def test_divergence_at_the_epoch_boundary(tmp_path):
    at = 2 * STEPS_PER_EPOCH  # the last step of epoch 2: no later step sees a NaN loss, the epoch's end must
    run_dir, summary, _ = _run(tmp_path, _Poison(at), validation=0)
    assert summary["diverged"]["epoch"] == 2 and summary["diverged"]["phase"] == "training"
    assert "weights became non-finite" in summary["message"]
    _assert_good_last(run_dir, epoch=1, step=at - 1)


def test_divergence_in_validation(tmp_path):
    run_dir, summary, _ = _run(tmp_path, _NaNValidation(epoch=1))
    assert summary["diverged"] == {"phase": "training", "epoch": 2, "step": 2 * STEPS_PER_EPOCH, "value": "nan"}
    assert "val_loss became nan" in summary["message"]
    _assert_good_last(run_dir, epoch=1, step=2 * STEPS_PER_EPOCH)  # written mid-epoch, before the validation


def test_divergence_in_pretraining(tmp_path, monkeypatch):
    original = Trainer._train_step

    def step(self, x, y):
        if hasattr(self.model, "hidden_bias") and self.epoch == 1:  # a greedy module, in its second epoch
            self._diverged(torch.tensor(math.inf))
        return original(self, x, y)

    monkeypatch.setattr(Trainer, "_train_step", step)
    run_dir, summary, _ = _run(tmp_path, Callback(), pretrain=True)
    assert summary["diverged"]["phase"] == "pretraining"
    assert summary["diverged"]["epoch"] == 2 and summary["diverged"]["value"] == "inf"
    assert not (run_dir / "checkpoints" / "last.pt").exists()
