"""Where the time of ``lamina train examples/digits_mlp.toml`` goes: imports, data, model, training, test
evaluation, plots and report, measured in one process by timing the functions ``lamina.train`` calls.

    PYTHONPATH=src MPLBACKEND=Agg python -m benchmarks.cli_overhead [experiment.toml]

Prints one line per phase, wall-clock and CPU seconds of this process (the CPU figure is the steadier one on a
shared machine), and the time outside training (the process's total less ``Trainer.fit``; the validation passes
and per-epoch checkpoints are part of ``fit``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.common import write_result

_T0 = time.perf_counter(), time.process_time()
PHASES: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])  # wall and CPU seconds


def _timed(owner: object, attribute: str, phase: str) -> None:
    inner = getattr(owner, attribute)

    def wrapper(*args, **kwargs):
        start = time.perf_counter(), time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            _add(phase, start)

    setattr(owner, attribute, wrapper)


def _add(phase: str, start: tuple[float, float]) -> None:
    PHASES[phase][0] += time.perf_counter() - start[0]
    PHASES[phase][1] += time.process_time() - start[1]


def main(argv: list[str]) -> None:
    """Run the CLI's ``train`` on the experiment file and print the phases."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cli_overhead", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "config",
        nargs="?",
        default=str(Path(__file__).resolve().parent.parent / "examples" / "digits_mlp.toml"),
        help="the experiment file to train (default: examples/digits_mlp.toml)",
    )
    config = parser.parse_args(argv).config
    # what any PyTorch training script pays first, timed apart so that lamina's own share can be read off
    start = time.perf_counter(), time.process_time()
    import torch

    _add("import torch", start)
    start = time.perf_counter(), time.process_time()
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # the first optimizer imports torch._dynamo
    _add("first torch optimizer", start)
    start = time.perf_counter(), time.process_time()
    import typer

    from lamina.cli import app as cli_app
    from lamina.cli import train as cli_train  # noqa: F401  registers the command

    _add("import (lamina.cli)", start)
    import lamina.report

    experiment = importlib.import_module("lamina.train.experiment")
    from lamina.data.dataset import DatasetSpec
    from lamina.train.callbacks import Callback
    from lamina.train.trainer import Trainer

    _timed(experiment, "load_experiment", "config")
    _timed(experiment, "build_model", "build model")
    _timed(experiment, "check_model_memory", "memory check (meta-device build)")
    _timed(Trainer, "fit", "training (fit)")
    _timed(Trainer, "_train_epoch", "  of which optimizer steps")
    _timed(Trainer, "evaluate", "evaluate (validation + test)")
    for callback in _subclasses(Callback):
        if "on_epoch_end" in vars(callback):
            _timed(callback, "on_epoch_end", "  of which epoch-end callbacks")
    _timed(importlib.import_module("lamina.train.run_outputs"), "write_run_outputs", "plots + report")
    _timed(lamina.report, "plot_learning_curves", "  of which learning curves")
    _timed(lamina.report, "plot_step_loss", "  of which step-loss plot")
    _timed(lamina.report, "write_report", "  of which report.html")
    for cls in _subclasses(DatasetSpec):
        if "load" in vars(cls):
            _timed(cls, "load", "data")
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter(), time.process_time()
        try:
            typer.main.get_command(cli_app)(["train", config, "--out", out, "--quiet"], standalone_mode=False)
        finally:
            _add("train command (total)", start)
    _add("process (total)", _T0)
    PHASES["beyond training (total - fit)"] = [
        a - b for a, b in zip(PHASES["process (total)"], PHASES["training (fit)"])
    ]
    PHASES["lamina's own beyond training"] = [
        a - b - c
        for a, b, c in zip(
            PHASES["beyond training (total - fit)"], PHASES["import torch"], PHASES["first torch optimizer"]
        )
    ]
    print(f"{'phase':32s} {'wall':>7s}   {'CPU':>7s}")
    for name, (wall, cpu) in PHASES.items():
        print(f"{name:32s} {wall:7.2f} s {cpu:7.2f} s")
    write_result(
        "cli_overhead", {"config": config, "phases": {k: {"wall_s": w, "cpu_s": c} for k, (w, c) in PHASES.items()}}
    )


def _subclasses(cls: type) -> set[type]:
    found = {cls}
    for sub in cls.__subclasses__():
        found |= _subclasses(sub)
    return found


if __name__ == "__main__":
    main(sys.argv[1:])
