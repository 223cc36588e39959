"""How `examples/dbn_mnist.toml`'s fine-tuning setting is chosen: on a validation split, never on the test set.

The 784-500-500-2000 stack is pretrained once (greedy RBMs, the example file's `[pretrain]` table) on the first
50,000 training images; each candidate fine-tuning setting then trains a copy of it on those 50,000 images and is
scored on the last 10,000 training images (MNIST's usual validation set). The test set is not loaded into any
decision: the setting with the lowest validation error is the one to run on all 60,000 images with
`lamina train examples/dbn_mnist.toml --set ...`, scored once on the test set.

    flock /tmp/lamina-cpu.lock env PYTHONPATH=src LAMINA_DATA=../shared/datasets python -m benchmarks.dbn_finetune
    ... --candidates sgd0.1 sgd0.01 --epochs 50        # a subset of the candidates

The pretrained stack is kept in ``runs/dbn_finetune/`` and earlier candidates' results are kept in the result
file, so candidates can be added later.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import torch

from benchmarks.common import RESULTS, write_result
from lamina.config.loader import load_experiment
from lamina.nn.builder import build_model
from lamina.train.checkpoint import load_checkpoint, save_checkpoint
from lamina.train.experiment import build_trainer
from lamina.train.rng import seeded

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "dbn_mnist.toml"
OUT = Path("runs/dbn_finetune")
CANDIDATES = {  # name -> overrides of the example file's [train] table
    "sgd0.1": ["train.optimizer.lr=0.1"],  # the file as it was: SGD 0.1, momentum 0.9, cosine
    "sgd0.03": ["train.optimizer.lr=0.03"],
    "sgd0.01": ["train.optimizer.lr=0.01"],
    "sgd0.3": ["train.optimizer.lr=0.3"],  # added after the first three: the error fell as the rate rose
    "sgd0.1_l2": ["train.optimizer.lr=0.1", "train.l2=0.0001"],
}


def pretrained_model(exp, splits) -> torch.nn.Module:
    """The example's network, greedily pretrained on the 50,000 training images (cached between calls)."""
    with seeded(exp.train.seed):
        model = build_model(exp.model, splits.train.input_shape)
    path = OUT / f"pretrained_50k_{exp.pretrain.epochs}epochs.pt"
    if path.is_file():
        model.load_state_dict(load_checkpoint(path)["state"]["model"])
        return model
    start = time.perf_counter()
    exp.pretrain.pretrain(model, splits.train, device=torch.device("cpu"), seed=exp.train.seed, folder=OUT)
    print(f"pretraining: {(time.perf_counter() - start) / 60:.1f} min")
    save_checkpoint({"model": model.state_dict()}, path)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    parser.add_argument("--epochs", type=int, default=None, help="fine-tuning epochs (default: the example file's)")
    parser.add_argument("--pretrain-epochs", type=int, default=None, help="per RBM (default: the example file's)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    base = (
        ["data.validation=10000"]
        + ([f"train.epochs={args.epochs}"] if args.epochs else [])
        + ([f"pretrain.epochs={args.pretrain_epochs}"] if args.pretrain_epochs else [])
    )
    exp = load_experiment(EXAMPLE, overrides=base)
    splits = exp.data.load()
    print(f"train {len(splits.train)}, validation {len(splits.validation)} (the test set is not used)")
    model = pretrained_model(exp, splits)
    earlier = RESULTS / "dbn_finetune.json"
    results = json.loads(earlier.read_text())["candidates"] if earlier.is_file() else {}
    for name in args.candidates:
        candidate = load_experiment(EXAMPLE, overrides=base + CANDIDATES[name])
        trainer = build_trainer(candidate, copy.deepcopy(model))
        start = time.perf_counter()
        trainer.fit(splits.train, splits.validation)
        errors = [1 - row["val_accuracy"] for row in trainer.history]
        results[name] = {
            "overrides": CANDIDATES[name],
            "epochs": candidate.train.epochs,
            "val_error_final": errors[-1],
            "val_error_min": min(errors),
            "epoch_of_min": 1 + errors.index(min(errors)),
            "val_error_by_epoch": errors,
            "minutes": (time.perf_counter() - start) / 60,
        }
        print(
            f"[{name}] validation error: final {100 * errors[-1]:.2f}%, lowest {100 * min(errors):.2f}% "
            f"(epoch {results[name]['epoch_of_min']}), {results[name]['minutes']:.1f} min"
        )
    best = min(results, key=lambda n: results[n]["val_error_final"])
    print(f"lowest final validation error: {best} {CANDIDATES[best]}")
    if args.pretrain_epochs:
        print("(shortened pretraining: no result file written)")
        return
    write_result("dbn_finetune", {"candidates": results, "chosen": best, "epochs": exp.train.epochs})


if __name__ == "__main__":
    main()
