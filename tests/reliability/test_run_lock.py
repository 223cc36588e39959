"""Two processes on one run folder: the second is refused naming the holder; a SIGKILLed holder frees the folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from lamina.cli import app
from lamina.train.lock import RunLock, RunLockedError
from tests.conftest import ROOT

pytestmark = pytest.mark.reliability

HOLD = """
import sys, time
from lamina.train.lock import RunLock
lock = RunLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path):
    """Another process holding ``tmp_path``'s lock; yields the process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "held"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_second_lock_in_one_process_is_refused_and_released_on_exit(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(RunLockedError, match=rf"in use by process {os.getpid()} on "):
            RunLock(tmp_path).acquire()
    with RunLock(tmp_path) as again:  # released: taken at once
        assert again.held


def test_another_process_is_named_and_a_sigkilled_holder_frees_the_folder(tmp_path, holder):
    with pytest.raises(RunLockedError) as err:
        RunLock(tmp_path).acquire()
    assert f"process {holder.pid} on " in str(err.value) and str(tmp_path) in str(err.value)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with RunLock(tmp_path) as lock:  # the OS dropped the dead holder's flock: nothing stale to clean
        assert lock.held and lock.holder()["pid"] == os.getpid()


def test_train_resume_into_a_folder_in_use_is_refused_before_touching_it(tmp_path, holder):
    (tmp_path / "config.toml").write_text((ROOT / "examples" / "digits_mlp.toml").read_text())
    (tmp_path / "checkpoints").mkdir()
    pending = tmp_path / "checkpoints" / ".last.pt.abc.tmp"  # the holder's checkpoint write in progress
    pending.write_bytes(b"half")
    result = CliRunner().invoke(app, ["train", "--resume", str(tmp_path), "-q"])
    assert result.exit_code == 2, result.output
    assert f"in use by process {holder.pid}" in result.output and "Traceback" not in result.output
    assert pending.exists()  # a refused resume does not clean up the holder's temporaries
