"""Kill and resume: a training process SIGKILLed at random steps (inside epochs, resumed from mid-epoch checkpoints),
in the middle of a checkpoint write and while writing its report, then resumed each time, ends with exactly the weights
of an uninterrupted run; no checkpoint is ever torn. Ctrl-C prints and records the command that resumes the run."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lamina.train.checkpoint import load_checkpoint
from tests.conftest import ROOT

pytestmark = pytest.mark.reliability

CONFIG = """
name = "killme"
[data]
name = "digits"
validation = 0.1
[model]
layers = [
  { type = "flatten" },
  { type = "dense", units = 32, activation = "relu" },
  { type = "dropout", p = 0.3 },
  { type = "dense", units = 10 },
]
[train]
epochs = 5
batch_size = 64
seed = 3
optimizer = { type = "sgd", lr = 0.05, momentum = 0.9 }
schedule = { type = "step", step_size = 2, gamma = 0.5 }
early_stopping = { monitor = "val_loss", patience = 50 }
log_every = 7
checkpoint_every_steps = 8
"""
STEPS_PER_EPOCH = 21  # ceil(1294 / 64)


def lamina(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, str(ROOT / "tests" / "reliability" / "kill_driver.py"), *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run_dir / "checkpoints" / "last.pt")["state"]["model"]


def assert_not_torn(run_dir: Path) -> None:
    for name in ("last.pt", "best.pt"):
        path = run_dir / "checkpoints" / name
        if path.exists():
            load_checkpoint(path)  # raises CheckpointError on a torn file


def test_killed_and_resumed_run_equals_uninterrupted_run(tmp_path):
    config = tmp_path / "killme.toml"
    config.write_text(CONFIG)
    reference = lamina("train", str(config), "--out", str(tmp_path / "reference"), "-q")
    assert reference.returncode == 0, reference.stderr
    (reference_dir,) = (tmp_path / "reference").iterdir()

    rng = random.Random(0)
    total = 5 * STEPS_PER_EPOCH
    # five kills: in the middle of the second checkpoint write (the mid-epoch last.pt of step 16), then at three
    # random steps in increasing order, so each lands after the checkpoint the previous resume started from, then
    # while the finished run writes its report
    steps = sorted(rng.sample(range(STEPS_PER_EPOCH + 2, total), 3))
    kills = [{"KILL_IN_WRITE": "2"}] + [{"KILL_AT_STEP": str(s)} for s in steps]
    out = tmp_path / "killed"
    first = lamina("train", str(config), "--out", str(out), "-q", env=kills[0])
    assert first.returncode == -9, first.stderr
    (run_dir,) = out.iterdir()
    mid_epoch = 0
    for kill in [*kills[1:], {"KILL_IN_REPORT": "1"}]:  # the last: training done, killed while writing the report
        assert_not_torn(run_dir)
        position = load_checkpoint(run_dir / "checkpoints" / "last.pt")["state"]["position"]
        mid_epoch += position is not None and position["batch"] % STEPS_PER_EPOCH != 0
        resumed = lamina("train", "--resume", str(run_dir), "-q", env=kill)
        assert resumed.returncode == -9, f"the kill at {kill} did not happen: {resumed.stderr}"
    assert mid_epoch >= 2, "the kills should mostly resume from checkpoints taken inside an epoch"
    assert_not_torn(run_dir)
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "running"  # died before its end
    done = lamina("train", "--resume", str(run_dir), "-q")
    assert done.returncode == 0, done.stderr
    assert (run_dir / "report.html").is_file()
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"
    assert not list((run_dir / "checkpoints").glob(".*.tmp"))  # the torn temporary was cleaned up

    expected, got = final_weights(reference_dir), final_weights(run_dir)
    assert expected.keys() == got.keys()
    assert all(torch.equal(expected[k], got[k]) for k in expected), "resumed weights differ from the uninterrupted run"
    epochs = [line for line in (run_dir / "metrics.jsonl").read_text().splitlines() if '"kind": "epoch"' in line]
    assert len(epochs) == 5  # the log was rolled back to each checkpoint, so no epoch appears twice


def test_ctrl_c_prints_and_records_the_resume_command(tmp_path):
    config = tmp_path / "killme.toml"
    config.write_text(CONFIG)
    out = tmp_path / "interrupted"
    result = lamina("train", str(config), "--out", str(out), "-q", env={"INTERRUPT_AT_STEP": "30"})
    assert result.returncode == 130, result.stderr
    (run_dir,) = out.iterdir()
    command = f"lamina train --resume {run_dir.resolve()}"
    assert f"run folder: {run_dir}\nresume with: {command}\n" in result.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["resume_command"] == command
    state = load_checkpoint(run_dir / "checkpoints" / "last.pt")["state"]
    assert state["step"] == 24  # the last mid-epoch checkpoint (every 8 steps): at most 8 steps lost
