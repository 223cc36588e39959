"""The reliability suite at full length: faults injected, load held, inputs tried, and whether anything was lost.

1. Kill and resume: a run with greedy pretraining is SIGKILLed at 20 points (inside pretraining layers, during the
   atomic writes of pretraining progress and of checkpoints, and at random optimizer steps), resumed after each,
   and compared bit for bit with an uninterrupted run; after every kill each checkpoint must load.
2. A run of 2 epochs in one process resumed to 4 epochs by two processes under torchrun (gloo).
3. Hostile input: generated experiment files and random IDX bytes, and a list of corrupted files; every one must end
   in lamina's own error with a message.

    python -m benchmarks.reliability [--kills 20] [--fuzz 2000]
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import write_result

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ROOT / "tests" / "reliability" / "kill_driver.py"
CONFIG = """
name = "reliability"
[data]
name = "digits"
validation = 0.1
[model]
layers = [
  { type = "flatten" },
  { type = "dense", units = 48, activation = "sigmoid" },
  { type = "dense", units = 32, activation = "sigmoid" },
  { type = "dense", units = 10 },
]
[pretrain]
method = "autoencoder"
epochs = 3
batch_size = 64
[train]
epochs = 6
batch_size = 64
seed = 11
optimizer = { type = "sgd", lr = 0.1, momentum = 0.9 }
schedule = { type = "cosine" }
early_stopping = { monitor = "val_loss", patience = 50 }
log_every = 5
"""
STEPS_PER_EPOCH = 21


def lamina(*args: str, env: dict | None = None, launcher: list[str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}", "OMP_NUM_THREADS": "1", **(env or {})}
    command = launcher or [sys.executable, str(DRIVER)]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=environment, timeout=900)


def checkpoints_load(run_dir: Path) -> bool:
    from lamina.train.checkpoint import load_checkpoint

    for path in (run_dir / "checkpoints").glob("*.pt"):
        load_checkpoint(path)
    return True


def kill_and_resume(work: Path, kills: int, seed: int) -> dict:
    from lamina.train.checkpoint import load_checkpoint

    config = work / "reliability.toml"
    config.write_text(CONFIG)
    reference = lamina("train", str(config), "--out", str(work / "reference"), "-q")
    if reference.returncode != 0:
        raise SystemExit(reference.stderr)
    (reference_dir,) = (work / "reference").iterdir()

    rng = random.Random(seed)
    total = 6 * STEPS_PER_EPOCH
    # In order of progress (KILL_IN_PRETRAIN_LAYER counts the greedy fits of each process): inside layer 0; during
    # the atomic write of layer 0's progress; inside layer 1 (second fit of a process that redoes layer 0); inside
    # layer 1 again (first fit of a process resuming after layer 0); then training.
    plan = [("pretraining, layer 0", {"KILL_IN_PRETRAIN_LAYER": "0"}), ("pretraining progress write", {"KILL_IN_WRITE": "1"}),
            ("pretraining, layer 1", {"KILL_IN_PRETRAIN_LAYER": "1"}), ("pretraining, layer 1", {"KILL_IN_PRETRAIN_LAYER": "0"})]
    writes = 3
    steps = sorted(rng.sample(range(STEPS_PER_EPOCH + 2, total), kills - len(plan) - writes))
    write_at = set(rng.sample(range(len(steps)), writes))
    for i, step in enumerate(steps):
        if i in write_at:
            plan.append(("checkpoint write", {"KILL_IN_WRITE": "2"}))
        plan.append(("optimizer step", {"KILL_AT_STEP": str(step)}))
    out, records, run_dir = work / "killed", [], None
    for where, env in plan:
        if run_dir is None:
            result = lamina("train", str(config), "--out", str(out), "-q", env=env)
            (run_dir,) = out.iterdir()
        else:
            result = lamina("train", "--resume", str(run_dir), "-q", env=env)
        records.append({"where": where, "env": env, "killed": result.returncode == -9,
                        "checkpoints_load": checkpoints_load(run_dir)})
    final = lamina("train", "--resume", str(run_dir), "-q")
    if final.returncode != 0:
        raise SystemExit(final.stderr)
    expected = load_checkpoint(reference_dir / "checkpoints" / "last.pt")["state"]["model"]
    got = load_checkpoint(run_dir / "checkpoints" / "last.pt")["state"]["model"]
    identical = all(torch.equal(expected[k], got[k]) for k in expected)
    leftovers = [p.name for p in (run_dir / "checkpoints").glob(".*.tmp")]
    return {"kills_planned": len(plan), "kills_landed": sum(r["killed"] for r in records), "records": records,
            "identical_to_uninterrupted": identical, "temporary_files_left": leftovers}


def resume_on_more_processes(work: Path) -> dict:
    config = work / "reliability.toml"
    first = lamina("train", str(config), "--out", str(work / "scale"), "-q", "--set", "train.epochs=2")
    if first.returncode != 0:
        raise SystemExit(first.stderr)
    (run_dir,) = (work / "scale").iterdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
                "--master-port", str(port), "-m", "lamina"]
    second = lamina("train", "--resume", str(run_dir), "-q", "--set", "train.epochs=4", launcher=launcher)
    summary = json.loads((run_dir / "summary.json").read_text())
    return {"returncode": second.returncode, "epochs": summary.get("epochs"), "processes": summary.get("processes"),
            "status": summary.get("status"), "test": summary.get("test"), "stderr_tail": second.stderr[-500:]}


def fuzz(examples: int, seed: int) -> dict:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from lamina.config.loader import parse_experiment
    from lamina.data.idx import parse_idx
    from lamina.errors import ConfigError, DataError
    from tests.config.test_config_errors import VALID
    from tests.config.test_config_fuzz import mutated

    tally = {"configs": 0, "configs_valid": 0, "configs_config_error": 0, "idx": 0, "idx_data_error": 0, "idx_parsed": 0}

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(mutated())
    def configs(raw):
        tally["configs"] += 1
        try:
            parse_experiment(copy.deepcopy(raw))
            tally["configs_valid"] += 1
        except ConfigError:
            tally["configs_config_error"] += 1

    @settings(max_examples=examples, deadline=None, database=None)
    @given(st.binary(max_size=128))
    def idx(raw):
        tally["idx"] += 1
        try:
            parse_idx(raw)
            tally["idx_parsed"] += 1
        except DataError:
            tally["idx_data_error"] += 1

    assert VALID  # the valid config the mutations start from
    configs()
    idx()
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--fuzz", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("LAMINA_DATA", str(ROOT.parent / "shared" / "datasets"))
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        kills = kill_and_resume(work, args.kills, args.seed)
        print(f"kill and resume: {kills['kills_landed']}/{kills['kills_planned']} kills landed, identical to the "
              f"uninterrupted run: {kills['identical_to_uninterrupted']}, "
              f"temporaries left: {kills['temporary_files_left']}")
        scaled = resume_on_more_processes(work)
        print(f"1 process -> 2 processes resume: exit {scaled['returncode']}, {scaled['epochs']} epochs, "
              f"{scaled['processes']} processes, test {scaled['test']}")
    tally = fuzz(args.fuzz, args.seed)
    print(f"fuzz: {tally}")
    write_result("reliability", {"kill_and_resume": kills, "resume_on_more_processes": scaled, "fuzz": tally,
                                 "seconds": round(time.time() - start, 1)})


if __name__ == "__main__":
    main()
