"""Mid-epoch checkpoints (``[train] checkpoint_every_steps``): a run stopped inside an epoch and resumed from such
a checkpoint ends with exactly the weights, optimizer state and logged epoch losses of an uninterrupted run."""

from __future__ import annotations

import pytest
import torch

import lamina
from lamina.train import Callback, EarlyStopping, Trainer
from lamina.train.callbacks import Checkpointer
from lamina.train.checkpoint import load_checkpoint

SPEC = [
    {"type": "flatten"},
    {"type": "dense", "units": 32, "activation": "relu"},
    {"type": "dropout", "p": 0.3},
    {"type": "dense", "units": 10},
]


@pytest.fixture(scope="module")
def digits():
    return lamina.data.load("digits", validation=0.1)


class _Interrupt(Callback):
    def __init__(self, at):
        self.at = at

    def on_batch_end(self, trainer, step, loss):
        if step == self.at:
            raise KeyboardInterrupt


def _trainer(callbacks):
    torch.manual_seed(0)
    model = lamina.build_model(SPEC, (1, 8, 8))
    return Trainer(
        model,
        optimizer={"type": "sgd", "lr": 0.05, "momentum": 0.9},
        epochs=3,
        batch_size=64,
        seed=5,
        schedule={"type": "cosine", "interval": "step"},
        metrics=["accuracy"],
        callbacks=[EarlyStopping("val_loss", patience=10), *callbacks],
    )


@pytest.mark.parametrize("stop_at", [30, 42])  # inside epoch 2 (21 steps an epoch); 42: its last batch
def test_resume_from_a_mid_epoch_checkpoint_is_bit_identical(digits, tmp_path, stop_at):
    full = _trainer([])
    full.fit(digits.train, digits.validation)

    checkpointer = Checkpointer(tmp_path, every_steps=4 if stop_at == 30 else 1, monitor=None)
    first = _trainer([checkpointer, _Interrupt(stop_at)])
    with pytest.raises(KeyboardInterrupt):
        first.fit(digits.train, digits.validation)
    state = load_checkpoint(tmp_path / "last.pt")["state"]
    assert state["position"] is not None and state["position"]["batch"] > 0  # really taken inside an epoch
    assert state["step"] == (28 if stop_at == 30 else 42)

    second = _trainer([Checkpointer(tmp_path, monitor=None)])
    second.load_state_dict(state)
    second.fit(digits.train, digits.validation)
    for name, value in full.model.state_dict().items():
        assert torch.equal(value, second.model.state_dict()[name]), name
    assert second.step == full.step
    for ours, theirs in zip(second.history, full.history):
        assert {k: v for k, v in ours.items() if k != "time"} == {k: v for k, v in theirs.items() if k != "time"}
