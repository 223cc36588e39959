"""Does unsupervised pretraining help? (Larochelle, Erhan, Courville, Bergstra & Bengio, 2007; Erhan, Bengio,
Courville, Manzagol, Vincent & Bengio, 2010.)

A network with 3 hidden layers of logistic units, trained on a 10,000-image subset of MNIST from a random
initialisation, or after greedy layer-wise pretraining of its hidden layers; then fine-tuned supervised by SGD,
keeping the epoch with the best validation error. Test error, mean +- std over seeds (each seed changes the
initialisation, the pretraining and the order of the examples; the data are fixed).

Published (depth 3, Larochelle, Bengio, Louradour & Lamblin 2009, MNIST-small): random init 4.24%, autoassociator-
(plain autoencoder-) pretrained 3.37%, RBM-pretrained 2.71%; denoising-autoencoder-pretrained (SdA-3, Vincent et al.
2008, on the same 10,000-image MNIST-small): 2.80%. Target: pretraining beats random init. (Before issue 26 this
script paired 3.37% with the RBM and 2.71% with the denoising autoencoder; the JSON files written then carry that
pairing.) ``benchmarks/depth_pretraining.py`` runs the whole table (depth 1-4, two sets, grid chosen on validation).

    --pretrain none,denoising_autoencoder,rbm   the methods compared (any registered [pretrain] method)
    --paper                                     1000 units per layer, 30 pretraining and 100 fine-tuning epochs

Data: the first 10,000 MNIST training images train, the next 2,000 validate, the 10,000 test images test.
Results: results/pretraining_effect_<method>.json, one per method. A call with the same settings adds the seeds it
has not run yet to that file, so ``--budget-minutes`` (no new seed is started after it) splits a long comparison
over several calls.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import lamina
from benchmarks.common import RESULTS, write_result
from benchmarks.factors_common import LAROCHELLE_2009, VINCENT_2008, Scale, fit_network

PUBLISHED = {
    **{method: by_depth[3] for method, by_depth in LAROCHELLE_2009["mnist_basic"].items()},
    "denoising_autoencoder": VINCENT_2008["mnist_basic"]["denoising_autoencoder"],
}


def run_once(method: str, seed: int, splits, args) -> dict:
    """One seed of one method, trained by the factors tables' cell code (:func:`benchmarks.factors_common.fit_network`)
    with this script's fixed settings: no grid, the given learning rate."""
    scale = Scale(
        "pretraining_effect",
        args.hidden,
        args.pretrain_epochs,
        args.finetune_epochs,
        args.patience,
        args.batch_size,
        args.pretrain_batch_size,
        None,
        None,
        None,
        (args.lr,),
        (args.lr,),
        (0.25,),  # the denoising autoencoder's default masking fraction
        (),
        (),
        momentum=args.momentum,
    )
    data = (splits.train, splits.validation, splits.test)
    fit = fit_network(data, method, 3, {"lr": args.lr, "noise": 0.25}, scale, device=args.device, seed=seed)
    test = fit["trainer"].evaluate(splits.test)
    return {
        "seed": seed,
        "test_error": 100 * (1 - test["accuracy"]),
        "validation_error": fit["validation_error"],
        "best_epoch": fit["best_epoch"],
        "epochs_run": fit["epochs_run"],
        "seconds": fit["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--pretrain",
        default="none,rbm,denoising_autoencoder",
        help="comma-separated registered [pretrain] methods; 'none' is random init",
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--hidden", type=int, default=500, help="units in each of the 3 hidden layers")
    parser.add_argument("--train-size", type=int, default=10000)
    parser.add_argument("--validation", type=int, default=2000)
    parser.add_argument("--pretrain-epochs", type=int, default=10)
    parser.add_argument("--pretrain-batch-size", type=int, default=64)
    parser.add_argument("--finetune-epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=10, help="epochs without a better validation error")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--paper", action="store_true", help="1000 units, 30 pretraining and 100 fine-tuning epochs")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--budget-minutes", type=float, default=math.inf, help="start no new seed after this")
    args = parser.parse_args()
    if args.paper:
        args.hidden, args.pretrain_epochs, args.finetune_epochs, args.patience = 1000, 30, 100, 20

    methods = args.pretrain.split(",")
    for method in methods:  # an unknown name fails now, not after the first hour
        if method != "none":
            lamina.resolve("pretrain", method, path="--pretrain")
    splits = lamina.data.load(
        "mnist", flatten=True, scale="unit", train_subset=args.train_size + args.validation, validation=args.validation
    )
    print(
        f"MNIST: {len(splits.train)} training, {len(splits.validation)} validation, {len(splits.test)} test; "
        f"784-{args.hidden}-{args.hidden}-{args.hidden}-10 logistic; seeds {args.first_seed}.."
        f"{args.first_seed + args.seeds - 1}"
    )
    deadline = time.time() + 60 * args.budget_minutes
    rows, complete = [], True
    for method in methods:
        settings = {
            "method": method,
            "hidden": args.hidden,
            "train_size": len(splits.train),
            "validation_size": len(splits.validation),
            "pretrain_epochs": 0 if method == "none" else args.pretrain_epochs,
            "pretrain_batch_size": 0 if method == "none" else args.pretrain_batch_size,
            "finetune_epochs": args.finetune_epochs,
            "patience": args.patience,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "momentum": args.momentum,
        }
        runs = {r["seed"]: r for r in _earlier_runs(method, settings)}
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            if seed in runs:
                continue
            if time.time() > deadline:
                complete = False
                break
            runs[seed] = result = run_once(method, seed, splits, args)
            print(
                f"  {method:24s} seed {seed}: test error {result['test_error']:.2f}%  (validation "
                f"{result['validation_error']:.2f}%, best epoch {result['best_epoch']}, "
                f"{result['seconds']:.0f} s)",
                flush=True,
            )
            _save(method, settings, list(runs.values()))
        errors = [r["test_error"] for r in runs.values()]
        if errors:
            rows.append(
                (method, statistics.mean(errors), statistics.stdev(errors) if len(errors) > 1 else 0.0, len(errors))
            )
    if not complete:
        print("time budget spent; the same command continues with the seeds not run yet")
    print("\nmethod                    test error (%), mean +- std (seeds)    published (depth 3)")
    for method, mean, std, n in rows:
        published = f"{PUBLISHED[method]:.2f}" if method in PUBLISHED else "-"
        print(f"{method:24s}  {mean:6.2f} +- {std:4.2f} ({n})                    {published}")
    base = next((mean for m, mean, _, _ in rows if m == "none"), None)
    if base is not None:
        for method, mean, _, _ in rows:
            if method != "none":
                print(
                    f"{method} vs random init: {base - mean:+.2f} points ({'better' if mean < base else 'not better'})"
                )


def _earlier_runs(method: str, settings: dict) -> list[dict]:
    """The runs of an earlier call with exactly these settings (none if the settings differ)."""
    path = RESULTS / f"pretraining_effect_{method}.json"
    if not path.is_file():
        return []
    earlier = json.loads(path.read_text())
    return earlier.get("runs", []) if all(earlier.get(k) == v for k, v in settings.items()) else []


def _save(method: str, settings: dict, runs: list[dict]) -> None:
    errors = [r["test_error"] for r in sorted(runs, key=lambda r: r["seed"])]
    write_result(
        f"pretraining_effect_{method}",
        {
            **settings,
            "test_error_mean": statistics.mean(errors),
            "test_error_std": statistics.stdev(errors) if len(errors) > 1 else 0.0,
            "published_test_error": PUBLISHED.get(method),
            "runs": sorted(runs, key=lambda r: r["seed"]),
        },
    )


if __name__ == "__main__":
    main()
