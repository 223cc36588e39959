"""``--set`` with ``--resume`` (issue 22): a resumable setting is applied from the next epoch and recorded in the run's
config and summary; any other setting is refused, naming it."""

from __future__ import annotations

import pytest

import lamina
from lamina.config.loader import load_experiment, parse_experiment
from lamina.errors import ConfigError

RAW = {
    "name": "again",
    "data": {"name": "digits", "validation": 0.1},
    "model": {"layers": [{"type": "flatten"}, {"type": "dense", "units": 10}]},
    "train": {
        "epochs": 2,
        "batch_size": 256,
        "seed": 0,
        "optimizer": {"type": "sgd", "lr": 0.1},
        "schedule": {"type": "step", "step_size": 1, "gamma": 0.5},
    },
}


@pytest.fixture()
def run_dir(tmp_path):
    return lamina.train(parse_experiment(RAW), out=tmp_path, progress="none").dir


def test_learning_rate_and_epochs_apply_on_resume_and_are_recorded(run_dir):
    run = lamina.train(resume=run_dir, overrides=["train.epochs=4", "train.optimizer.lr=0.4"], progress="none")
    # the step schedule halves the base rate each epoch; the logged rate is the one after the epoch's last step:
    # 0.1 / 2, 0.1 / 4, then from base 0.4: 0.4 / 8, 0.4 / 16 (without the override: 0.1 / 8, 0.1 / 16)
    assert [round(row["lr"], 12) for row in run.history] == [0.05, 0.025, 0.05, 0.025]
    assert run.summary["epochs"] == 4
    assert run.summary["overrides"] == [
        {"set": "train.epochs=4", "epoch": 3},
        {"set": "train.optimizer.lr=0.4", "epoch": 3},
    ]
    config = (run_dir / "config.toml").read_text()
    assert "# --set train.optimizer.lr=0.4 (applied on resume at epoch 3)" in config
    exp = load_experiment(run_dir / "config.toml")
    assert exp.train.optimizer.lr == 0.4 and exp.train.epochs == 4


def test_settings_a_checkpoint_fixes_are_refused(run_dir):
    with pytest.raises(ConfigError, match=r"train.batch_size: cannot change when resuming") as caught:
        lamina.train(resume=run_dir, overrides=["train.batch_size=32", "train.epochs=3"], progress="none")
    assert "train.optimizer.lr" in str(caught.value)  # the message lists what can change
    assert "# --set" not in (run_dir / "config.toml").read_text()
