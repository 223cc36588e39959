"""Hogwild! on MNIST (Recht, Ré, Wright & Niu, 2011, "Hogwild!: a lock-free approach to parallelizing stochastic
gradient descent", NIPS): a 784-256-10 ReLU MLP trained by plain SGD with momentum in 1 worker and in 2 worker
processes writing the same shared parameters without locks (:class:`lamina.train.hogwild.HogwildTrainer`), for the
same number of epochs. Reports the test accuracy of each (target: 2 workers within 0.3 points of 1 worker) and the
training throughput in samples/s (each worker limited to ``--threads-per-worker`` torch threads).

    python -m benchmarks.hogwild_mnist                    # 1 and 2 workers, 5 epochs each, seeds 0 and 1
    python -m benchmarks.hogwild_mnist --smoke            # seconds: 2,000 training images, 1 epoch, forked workers

Writes ``<out-dir>/hogwild_mnist.json`` after every cell; the table is ``benchmarks/results/hogwild.md``. On a machine
whose cores are shared with other jobs the samples/s figures are contended: the JSON records the load average.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, spread, write_result


def load_mnist(smoke: bool) -> tuple[Any, Any]:
    """MNIST's 60,000 training and 10,000 test images, flattened and scaled to [0, 1] (2,000 / 1,000 with smoke)."""
    from lamina.data import ArrayDataset
    from lamina.registry import resolve

    splits = resolve("dataset", {"name": "mnist", "flatten": True, "scale": "unit"}).load()
    train, test = splits.train, splits.test
    if smoke:
        train = ArrayDataset(train.inputs[0][:2000].clone(), train.targets[:2000].clone())
        test = ArrayDataset(test.inputs[0][:1000], test.targets[:1000])
    return train, test


def run_cell(workers: int, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """Train one network with ``workers`` Hogwild workers; its test accuracy and samples/s."""
    import torch
    from torch import nn

    from lamina.data import ArrayDataset
    from lamina.train.hogwild import HogwildTrainer

    train, test = load_mnist(args.smoke)
    train = ArrayDataset(train.inputs[0].clone(), train.targets.clone())  # a fresh copy to put in shared memory
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 10))
    trainer = HogwildTrainer(
        model,
        hogwild={"workers": workers, "threads_per_worker": args.threads_per_worker, "start_method": args.start_method},
        optimizer={"type": "sgd", "lr": args.lr, "momentum": args.momentum},
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=seed,
        verbose=0,
    )
    start = time.perf_counter()
    history = trainer.fit(train)
    wall = time.perf_counter() - start
    times = [row["time"] for row in history]
    steady = times[1:] or times  # the first epoch includes starting the workers (spawn: importing torch)
    n = len(train)
    return {
        "workers": workers,
        "seed": seed,
        "epochs": len(history),
        "test_accuracy": 100.0 * trainer.evaluate(test)["accuracy"],
        "train_loss": history[-1]["loss"],
        "wall_s": wall,
        "epoch_s": times,
        "samples_per_s": n * len(steady) / sum(steady),
        "samples_per_s_with_start": n * len(times) / wall,
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--seeds", default="0,1", help="comma-separated seeds (weights and data order)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64, help="examples per step in each worker")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--threads-per-worker", type=int, default=1)
    parser.add_argument("--start-method", default="spawn", choices=("spawn", "fork", "forkserver"))
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    parser.add_argument(
        "--smoke", action="store_true", help="2,000 training images, 1 epoch, seed 0, forked workers: the plumbing"
    )
    args = parser.parse_args()
    if args.smoke:
        args.epochs, args.seeds, args.start_method = 1, "0", "fork"
    cells: list[dict[str, Any]] = []
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    for workers in [int(w) for w in args.workers.split(",")]:
        for seed in [int(s) for s in args.seeds.split(",")]:
            cells.append(run_cell(workers, seed, args))
            c = cells[-1]
            print(f"workers={workers} seed={seed}: test accuracy {c['test_accuracy']:.2f}%, "
                  f"{c['samples_per_s']:.0f} samples/s, {c['wall_s']:.1f} s")  # fmt: skip
            summary = {
                str(w): {
                    key: spread([c[key] for c in cells if c["workers"] == w])
                    for key in ("test_accuracy", "samples_per_s", "samples_per_s_with_start")
                }
                for w in sorted({c["workers"] for c in cells})
            }
            name = "hogwild_mnist_smoke" if args.smoke else "hogwild_mnist"
            path = write_result(name, {"settings": settings, "cells": cells, "summary": summary}, folder=args.out_dir)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
