"""The reliability suite at full length: faults injected, load held, inputs tried, and whether anything was lost.

1. Kill and resume: a run with greedy pretraining is SIGKILLed at 40 points (inside pretraining layers, during the
   atomic writes of pretraining progress and of checkpoints, and at random optimizer steps, mid-epoch), resumed after
   each, and compared bit for bit with an uninterrupted run; after every kill each checkpoint must load.
2. A run of 2 epochs in one process resumed to 4 epochs by two processes under torchrun (gloo).
3. Hostile input: generated experiment files and random IDX bytes, and a list of corrupted files; every one must end
   in lamina's own error with a message.
4. Fuzzed files and names (``benchmarks/fuzz_inputs.py``): configs, run names, IDX, CSV, checkpoints, safetensors and
   metrics files, ``--fuzz`` of each; every one accepted or refused with lamina's own error.
5. Faults of the run's surroundings (issue 22): a file-size limit hit while the report is written, a second process
   resuming a run in use, a model too big for memory, a run name full of mathtext (refused by the run-name rule).
6. Security probes (issue 22, :mod:`benchmarks.security_probes`): each attack tried once, recorded refused or not.

The table of ``benchmarks/results/reliability.md`` (between its ``table`` markers) is rewritten from the results.

    python -m benchmarks.reliability [--kills 40] [--fuzz 2000]
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
from benchmarks.security_probes import security_probes

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
    environment = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "OMP_NUM_THREADS": "1",
        **(env or {}),
    }
    command = launcher or [sys.executable, str(DRIVER)]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=environment, timeout=900)


def checkpoints_load(run_dir: Path) -> bool:
    from lamina.train.checkpoint import load_checkpoint

    for path in (run_dir / "checkpoints").glob("*.pt"):
        load_checkpoint(path)
    return True


def _steps_done(run_dir: Path) -> int:
    """Optimizer steps in the run's ``last.pt`` (0 before the first)."""
    from lamina.train.checkpoint import load_checkpoint

    last = run_dir / "checkpoints" / "last.pt"
    return int(load_checkpoint(last)["state"].get("step", 0)) if last.is_file() else 0


def kill_and_resume(work: Path, kills: int, seed: int) -> dict:
    from lamina.train.checkpoint import load_checkpoint

    config = work / "reliability.toml"
    config.write_text(CONFIG)
    reference = lamina("train", str(config), "--out", str(work / "reference"), "-q")
    if reference.returncode != 0:
        raise SystemExit(reference.stderr)
    (reference_dir,) = (work / "reference").iterdir()

    plan = kill_plan(kills, seed)
    out, records, run_dir = work / "killed", [], None
    for where, env in plan:
        if "KILL_AT_STEP" in env and run_dir is not None:
            # a kill inside a checkpoint write may have let the run pass the planned step: move it just past the
            # checkpoint it resumes from, so that every planned kill lands
            done = _steps_done(run_dir)
            env = {"KILL_AT_STEP": str(max(int(env["KILL_AT_STEP"]), done + 2))}
            step = int(env["KILL_AT_STEP"]) - 1  # optimizer steps done when the kill comes
            where = "optimizer step, mid-epoch" if step % STEPS_PER_EPOCH else "optimizer step, at an epoch's start"
        if run_dir is None:
            result = lamina("train", str(config), "--out", str(out), "-q", env=env)
            (run_dir,) = out.iterdir()
        else:
            result = lamina("train", "--resume", str(run_dir), "-q", env=env)
        records.append(
            {
                "where": where,
                "env": env,
                "killed": result.returncode == -9,
                "checkpoints_load": checkpoints_load(run_dir),
            }
        )
    final = lamina("train", "--resume", str(run_dir), "-q")
    if final.returncode != 0:
        raise SystemExit(final.stderr)
    expected = load_checkpoint(reference_dir / "checkpoints" / "last.pt")["state"]["model"]
    got = load_checkpoint(run_dir / "checkpoints" / "last.pt")["state"]["model"]
    identical = all(torch.equal(expected[k], got[k]) for k in expected)
    leftovers = [p.name for p in (run_dir / "checkpoints").glob(".*.tmp")]
    return {
        "kills_planned": len(plan),
        "kills_landed": sum(r["killed"] for r in records),
        "records": records,
        "identical_to_uninterrupted": identical,
        "temporary_files_left": leftovers,
    }


def kill_plan(kills: int, seed: int) -> list[tuple[str, dict[str, str]]]:
    """Where to SIGKILL the run, in order of its progress: ``kills`` points (the first ones when there are fewer than
    the fixed pretraining points)."""
    rng = random.Random(seed)
    total = 6 * STEPS_PER_EPOCH
    # In order of progress (KILL_IN_PRETRAIN_LAYER counts the greedy fits of each process): inside layer 0; during
    # the atomic write of layer 0's progress; inside layer 1 (second fit of a process that redoes layer 0); inside
    # layer 1 again (first fit of a process resuming after layer 0); then training.
    plan = [
        ("pretraining, layer 0", {"KILL_IN_PRETRAIN_LAYER": "0"}),
        ("pretraining progress write", {"KILL_IN_WRITE": "1"}),
        ("pretraining, layer 1", {"KILL_IN_PRETRAIN_LAYER": "1"}),
        ("pretraining, layer 1", {"KILL_IN_PRETRAIN_LAYER": "0"}),
    ]
    if kills <= len(plan):
        return plan[:kills]
    # a fifth of the rest inside checkpoint writes (KILL_IN_WRITE=2: the second torch.save of the process, at the end
    # of the epoch it resumed in), the others at random optimizer steps (mid-epoch unless they fall on a boundary)
    writes = max(1, (kills - len(plan)) // 5)
    candidates = range(STEPS_PER_EPOCH + 2, total)
    steps = sorted(rng.sample(candidates, min(kills - len(plan) - writes, len(candidates))))
    write_at = set(rng.sample(range(len(steps)), min(writes, len(steps))))
    for i, step in enumerate(steps):
        if i in write_at:
            plan.append(("checkpoint write", {"KILL_IN_WRITE": "2"}))
        plan.append(("optimizer step", {"KILL_AT_STEP": str(step)}))
    return plan


def resume_on_more_processes(work: Path) -> dict:
    config = work / "reliability.toml"
    first = lamina("train", str(config), "--out", str(work / "scale"), "-q", "--set", "train.epochs=2")
    if first.returncode != 0:
        raise SystemExit(first.stderr)
    (run_dir,) = (work / "scale").iterdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    launcher = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(port),
        "-m",
        "lamina",
    ]
    second = lamina("train", "--resume", str(run_dir), "-q", "--set", "train.epochs=4", launcher=launcher)
    summary = json.loads((run_dir / "summary.json").read_text())
    return {
        "returncode": second.returncode,
        "epochs": summary.get("epochs"),
        "processes": summary.get("processes"),
        "status": summary.get("status"),
        "test": summary.get("test"),
        "stderr_tail": second.stderr[-500:],
    }


def fuzz(examples: int, seed: int) -> dict:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from lamina.config.loader import parse_experiment
    from lamina.data.idx import parse_idx
    from lamina.errors import ConfigError, DataError
    from tests.config.test_config_errors import VALID
    from tests.config.test_config_fuzz import mutated

    tally = {
        "configs": 0,
        "configs_valid": 0,
        "configs_config_error": 0,
        "idx": 0,
        "idx_data_error": 0,
        "idx_parsed": 0,
    }

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


def fuzz_files(examples: int, seed: int) -> dict:
    """``benchmarks.fuzz_inputs`` over every category: ``examples`` cases each."""
    from benchmarks.fuzz_inputs import fuzz as fuzz_inputs

    return {name: tally.as_dict() for name, tally in fuzz_inputs(examples, seed).items()}


def _limit_file_size() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))  # checkpoints fit; report.html (images) does not


SMALL = """
name = "NAME"
[data]
name = "digits"
validation = 0.1
[model]
layers = [{ type = "flatten" }, { type = "dense", units = 16, activation = "relu" }, { type = "dense", units = 10 }]
[train]
epochs = EPOCHS
batch_size = 64
optimizer = { type = "sgd", lr = 0.1 }
"""


def _small_config(work: Path, name: str, epochs: int) -> Path:
    path = work / f"{name.replace('$', 'd').replace(' ', '_')}.toml"
    path.write_text(SMALL.replace("NAME", name.replace("\\", "\\\\")).replace("EPOCHS", str(epochs)))
    return path


def _one_line_error(result: subprocess.CompletedProcess) -> bool:
    return (
        result.returncode in (1, 2) and "Traceback" not in result.stderr and result.stderr.strip().startswith("error:")
    )


def environment_faults(work: Path) -> list[dict]:
    """Issue 22's faults of the run's surroundings, each tried once in a real process: what was tried, whether lamina
    refused it or coped as promised, and what was lost."""
    from lamina.train.checkpoint import load_checkpoint

    rows = []
    # a file-size limit (RLIMIT_FSIZE: the kernel's EFBIG) reached while writing report.html at the end of a run
    config = _small_config(work, "fsize", 2)
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "lamina", "train", str(config), "--out", str(work / "fsize"), "-q"],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=_limit_file_size,
        timeout=900,
    )
    (run_dir,) = (work / "fsize").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    load_checkpoint(run_dir / "checkpoints" / "last.pt")
    rows.append(
        {
            "fault": "file-size limit (100 kB) hit while writing report.html",
            "tried": 1,
            "handled": _one_line_error(result)
            and "report.html" in result.stderr
            and summary.get("status") == "disk_full",
            "outcome": f"exit {result.returncode}: {' '.join(result.stderr.split())[:240]}; summary status "
            f"{summary.get('status')!r} (was {summary.get('previous_status')!r}); last.pt loads",
            "lost": "nothing (the training, its checkpoints and the summary are whole; rerun `lamina report`)",
        }
    )

    # a second process resuming a run that a first one is training
    config = _small_config(work, "locked", 400)
    first = lamina("train", str(config), "--out", str(work / "locked"), "-q", "--set", "train.epochs=1")
    (run_dir,) = (work / "locked").iterdir()
    holder = subprocess.Popen(
        [sys.executable, str(DRIVER), "train", "--resume", str(run_dir), "-q", "--set", "train.epochs=400"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and f'"pid": {holder.pid}' not in _read(run_dir / ".lock"):
        time.sleep(0.2)
    second = lamina("train", "--resume", str(run_dir), "-q")
    holder.kill()
    holder.wait()
    third = lamina("train", "--resume", str(run_dir), "-q", "--set", "train.epochs=2")
    rows.append(
        {
            "fault": "a second `lamina train --resume` on a run in use; then the holder SIGKILLed",
            "tried": 1,
            "handled": first.returncode == 0
            and _one_line_error(second)
            and f"process {holder.pid}" in second.stderr
            and third.returncode == 0,
            "outcome": f"second: exit {second.returncode}: {' '.join(second.stderr.split())[:240]}; after the "
            f"SIGKILL a resume took the lock at once: exit {third.returncode}",
            "lost": "nothing (the refused process touched nothing)",
        }
    )

    # a model whose weights alone exceed any memory: refused by config check and by train before allocation
    huge = work / "huge.toml"
    huge.write_text(
        SMALL.replace("NAME", "huge")
        .replace("EPOCHS", "1")
        .replace("units = 16", "units = 1000000")
        .replace("units = 10 }", 'units = 1000000 }, { type = "dense", units = 10 }')
    )
    check = lamina("config", "check", str(huge))
    train = lamina("train", str(huge), "--out", str(work / "huge"), "-q")
    rows.append(
        {
            "fault": "a 10^6 x 10^6 dense layer (4 TB of weights)",
            "tried": 2,
            "handled": _one_line_error(check) and _one_line_error(train) and "model.layers[2]" in check.stderr,
            "outcome": f"config check and train: exit {check.returncode}/{train.returncode}: "
            f"{' '.join(check.stderr.split())[:240]}",
            "lost": "nothing (nothing was allocated)",
        }
    )

    # a run name that is mathtext, unbalanced at that: outside the run-name rule, so refused before any folder is made
    # (titles that do reach matplotlib go through lamina.report.literal: tests/reliability/test_plot_names.py)
    config = _small_config(work, "cost $^$ {x}", 1)
    named = lamina("train", str(config), "--out", str(work / "named"), "-q")
    made = sorted(p.name for p in (work / "named").glob("*")) if (work / "named").exists() else []
    rows.append(
        {
            "fault": "a run named `cost $^$ {x}` (mathtext that does not parse)",
            "tried": 1,
            "handled": _one_line_error(named) and "name:" in named.stderr and not made,
            "outcome": f"exit {named.returncode}: {' '.join(named.stderr.split())[:200]}",
            "lost": "nothing",
        }
    )
    return rows


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


TABLE_BEGIN, TABLE_END = "<!-- table:begin (written by python -m benchmarks.reliability) -->", "<!-- table:end -->"


def reliability_table(
    kills: dict, scaled: dict, fuzzed: dict, faults: list[dict], legacy: dict, probes: dict | None = None
) -> str:
    """The results as the markdown table of ``benchmarks/results/reliability.md``: what was tried, how many, what
    happened and what was lost."""
    wheres: dict[str, int] = {}
    for record in kills["records"]:
        wheres[record["where"]] = wheres.get(record["where"], 0) + 1
    lost = (
        "nothing"
        if kills["identical_to_uninterrupted"]
        and not kills["temporary_files_left"]
        and all(r["checkpoints_load"] for r in kills["records"])
        else "**weights differ or a checkpoint is torn**"
    )
    rows = [
        (
            "SIGKILL, then `lamina train --resume` (greedy pretraining + training)",
            f"{kills['kills_planned']}: " + ", ".join(f"{n} {w}" for w, n in wheres.items()),
            f"{kills['kills_landed']}/{kills['kills_planned']} landed; every checkpoint loads after every kill; final "
            f"weights bit-identical to the uninterrupted run: {kills['identical_to_uninterrupted']}",
            lost,
        ),
        (
            "Resume on more processes (torchrun, gloo)",
            "1 run: 2 epochs in 1 process, then to 4 epochs in 2",
            f"exit {scaled['returncode']}, {scaled['epochs']} epochs, {scaled['processes']} processes",
            "nothing",
        ),
    ]
    rows.append(
        (
            "Hypothesis-mutated experiment tables",
            f"{legacy['configs']:,}",
            f"{legacy['configs_valid']} valid, {legacy['configs_config_error']} ConfigError, 0 other",
            "nothing",
        )
    )
    rows.append(
        (
            "Random bytes as IDX",
            f"{legacy['idx']:,}",
            f"{legacy['idx_parsed']} parsed, {legacy['idx_data_error']} DataError, 0 other",
            "nothing",
        )
    )
    for name, tally in fuzzed.items():
        other = f", **{tally['other']} other**: {tally['examples'][0][:120]}" if tally["other"] else ", 0 other"
        rows.append(
            (
                f"Fuzzed {name.replace('_', ' ')}",
                f"{tally['tried']:,}",
                f"{tally['accepted']} accepted, {tally['lamina_errors']} lamina errors{other}",
                "nothing" if not tally["other"] else "see the other outcomes",
            )
        )
    for fault in faults:
        rows.append(
            (
                fault["fault"],
                str(fault["tried"]),
                ("handled: " if fault["handled"] else "**not handled**: ")
                + fault["outcome"].replace("|", "\\|").replace("\n", " "),
                fault["lost"],
            )
        )
    for name, probe in (probes or {}).items():
        rows.append(
            (
                f"Security probe: {name.replace('_', ' ')}",
                "1",
                ("refused: " if probe["refused"] else "**not refused**: ")
                + str(probe.get("error", "")).replace("|", "\\|").replace("\n", " ")[:160],
                "nothing" if probe["refused"] else "**the attack went through**",
            )
        )
    lines = ["| what | tried | outcome | lost |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(str(c).replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_table(table: str, path: Path = ROOT / "benchmarks" / "results" / "reliability.md") -> None:
    """Put ``table`` between the markers of ``path`` (appended with them if they are missing)."""
    text = path.read_text() if path.is_file() else ""
    block = f"{TABLE_BEGIN}\n{table}\n{TABLE_END}"
    if TABLE_BEGIN in text and TABLE_END in text:
        head, rest = text.split(TABLE_BEGIN, 1)
        text = head + block + rest.split(TABLE_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--fuzz", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("LAMINA_DATA", str(ROOT.parent / "shared" / "datasets"))
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        kills = kill_and_resume(work, args.kills, args.seed)
        print(
            f"kill and resume: {kills['kills_landed']}/{kills['kills_planned']} kills landed, identical to the "
            f"uninterrupted run: {kills['identical_to_uninterrupted']}, "
            f"temporaries left: {kills['temporary_files_left']}"
        )
        scaled = resume_on_more_processes(work)
        print(
            f"1 process -> 2 processes resume: exit {scaled['returncode']}, {scaled['epochs']} epochs, "
            f"{scaled['processes']} processes, test {scaled['test']}"
        )
        faults = environment_faults(work)
        for fault in faults:
            print(f"{fault['fault']}: {'handled' if fault['handled'] else 'NOT HANDLED'}: {fault['outcome']}")
    tally = fuzz(args.fuzz, args.seed)
    print(f"fuzz: {tally}")
    with tempfile.TemporaryDirectory() as tmp:
        probes = security_probes(Path(tmp))
    print(f"security probes refused: {sum(p['refused'] for p in probes.values())}/{len(probes)}")
    fuzzed = fuzz_files(args.fuzz, args.seed)
    for name, result in fuzzed.items():
        print(
            f"fuzzed {name}: {result['tried']} tried, {result['accepted']} accepted, {result['lamina_errors']} "
            f"lamina errors, {result['other']} other {result['examples'][:2]}"
        )
    write_result(
        "reliability",
        {
            "kill_and_resume": kills,
            "resume_on_more_processes": scaled,
            "fuzz": tally,
            "fuzz_inputs": fuzzed,
            "environment_faults": faults,
            "security_probes": probes,
            "seconds": round(time.time() - start, 1),
        },
    )
    table = reliability_table(kills, scaled, fuzzed, faults, tally, probes)
    write_table(table)
    print(table)


if __name__ == "__main__":
    main()
