"""A full disk or a file-size limit while writing metrics, plots or the report: one line naming the file and the
free space, the last good checkpoint intact, ``summary.json`` saying what happened; never a later traceback."""

from __future__ import annotations

import errno
import json
import os
import resource
import subprocess
import sys

import pytest

import lamina
from lamina.disk import DiskFullError, disk_errors
from lamina.report import plots
from lamina.train.callbacks import metrics_log
from lamina.train.checkpoint import load_checkpoint
from tests.conftest import ROOT

pytestmark = pytest.mark.reliability

CONFIG = """
name = "fills_the_disk"
[data]
name = "digits"
validation = 0.1
[model]
layers = [{ type = "flatten" }, { type = "dense", units = 16, activation = "relu" }, { type = "dense", units = 10 }]
[train]
epochs = 2
batch_size = 128
optimizer = { type = "sgd", lr = 0.1 }
log_every = 4
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "fills.toml"
    path.write_text(CONFIG)
    return path


def test_disk_errors_names_the_file_and_the_free_space(tmp_path):
    target = tmp_path / "plots" / "loss.png"
    with pytest.raises(DiskFullError, match=r"loss.png: could not write it: no space left on the device \(.* free\)"):
        with disk_errors(target):
            raise OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(DiskFullError, match="over the file-size limit"):
        with disk_errors(target):
            raise OSError(errno.EFBIG, "File too large")
    with pytest.raises(PermissionError):  # other errors pass through unchanged
        with disk_errors(target):
            raise PermissionError(errno.EACCES, "denied")


class _FillsUp:
    """A file object whose writes fail with ENOSPC after ``room`` of them."""

    def __init__(self, fh, room: int) -> None:
        self.fh, self.room = fh, room

    def write(self, text: str) -> int:
        self.room -= 1
        if self.room < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.fh.write(text)

    def __getattr__(self, name):
        return getattr(self.fh, name)


def test_disk_full_while_logging_metrics_keeps_the_last_checkpoint(config, tmp_path, monkeypatch):
    original = metrics_log.MetricsLog.on_train_begin

    def begin(self, trainer):
        original(self, trainer)
        self._fh = _FillsUp(self._fh, room=5)  # epoch 1 (steps 4, 8, its line) and steps 12, 16 fit; step 20 does not

    monkeypatch.setattr(metrics_log.MetricsLog, "on_train_begin", begin)
    with pytest.raises(DiskFullError, match=r"metrics.jsonl: could not write it: no space left"):
        lamina.train(config, out=tmp_path / "runs", progress="none")
    (run_dir,) = (tmp_path / "runs").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "disk_full" and "metrics.jsonl" in summary["message"]
    assert load_checkpoint(run_dir / "checkpoints" / "last.pt")["state"]["epoch"] == 1  # the last good one
    monkeypatch.undo()
    resumed = lamina.train(resume=run_dir, progress="none")  # space freed: the run resumes and finishes
    assert resumed.summary["status"] == "completed" and resumed.summary["epochs"] == 2


def test_disk_full_while_plotting_finalises_the_summary(config, tmp_path, monkeypatch):
    def full(fig, path):
        with disk_errors(path):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(plots, "save_figure", full)
    with pytest.raises(DiskFullError, match=r"\.png: could not write it"):
        lamina.train(config, out=tmp_path / "runs", progress="none")
    (run_dir,) = (tmp_path / "runs").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "disk_full" and summary["previous_status"] == "completed"
    assert summary["epochs"] == 2 and "test" in summary  # the training itself finished and was evaluated
    assert load_checkpoint(run_dir / "checkpoints" / "last.pt")["state"]["epoch"] == 2


def _limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))  # checkpoints fit, report.html (images) does not


def test_file_size_limit_in_a_real_process_is_one_line(config, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "lamina", "train", str(config), "--out", str(tmp_path / "runs"), "-q"],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=_limit_file_size,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "report.html: could not write it" in result.stderr
    assert "over the file-size limit" in result.stderr and "free)" in result.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "disk_full" and summary["previous_status"] == "completed"
    load_checkpoint(run_dir / "checkpoints" / "last.pt")
