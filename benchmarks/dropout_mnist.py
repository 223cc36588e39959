"""Dropout on MNIST (Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov, 2014, "Dropout: a simple way to
prevent neural networks from overfitting", JMLR 15, table 2): a 784-1024-1024-1024-10 ReLU network with dropout
(0.2 on the input, 0.5 on each hidden layer), without and with the max-norm constraint on each hidden unit's
incoming weights. Published test error: 1.25% (dropout) and 1.06% (dropout + max-norm).

The recipe, as far as lamina's optimizers and schedules express it (the paper's differences on the results page):

- SGD in the paper's form ``v <- p v + (1 - p) g``, ``w <- w - lr v`` (torch's SGD with ``dampening = momentum``),
  momentum ``p = 0.95`` held constant (the paper raises it from 0.5 to 0.99 over its first epochs, which the
  ``momentum_ramp`` callback now expresses: ``--momentum-ramp EPOCHS``; the runs recorded here predate it), batch 100;
- the learning rate in this form chosen on validation by a 2-epoch probe on 10,000 training images (``--probe``;
  the results page has it): 0.3 for both cells (``--lr``, ``--lr-max-norm``), the best of 0.1 to 10 for each; the
  paper's larger rates (3, 10) stalled at chance in the probe, with the bound or without; multiplied by
  ``--lr-decay`` after every epoch;
- max-norm ``c = 3.5`` (``--max-norm``; the paper: 3 to 4) on the hidden layers (``max_norm`` on ``dense``);
- He-initialised weights, cross-entropy on a linear output, the epoch with the best validation error kept.

    python -m benchmarks.dropout_mnist --budget-minutes 15              # CPU: both cells in 15 minutes
    python -m benchmarks.dropout_mnist --device cuda --budget-minutes 7 --out-dir DIR
    python -m benchmarks.dropout_mnist --smoke                          # seconds: the plumbing only

Writes ``<out-dir>/dropout_mnist.json`` after every epoch and ``<out-dir>/dropout_mnist_curves.png`` at the end; the
table is ``benchmarks/results/dropout_mnist.md``.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.mnist_mlp import (
    add_mnist_options,
    chosen_cells,
    hidden_layers,
    mnist_experiment,
    plot_cells,
    prepare,
    run_recorded_cell,
    settings_of,
    write_json,
)

PUBLISHED = {"dropout": 1.25, "dropout_max_norm": 1.06}  # Srivastava et al. (2014), table 2, 3 x 1024 ReLU


def layers(hidden: list[int], max_norm: float | None) -> list[dict]:
    """Input dropout 0.2, then each hidden ReLU layer followed by dropout 0.5."""
    out: list[dict] = [{"type": "dropout", "p": 0.2}]
    extra = {"max_norm": max_norm} if max_norm is not None else {}
    for layer in hidden_layers(hidden, "relu", init="he", **extra):
        out += [layer, {"type": "dropout", "p": 0.5}]
    return out


def probe(args: argparse.Namespace, hidden: list[int]) -> None:
    """The learning-rate probe: for each rate of ``--probe-lrs`` and each cell, 2 epochs on the first 10,000
    training images, then the error on the validation set (the last 10,000 training images); the test set is not
    read; a rate whose loss diverges is recorded as such. Writes ``<out-dir>/dropout_mnist_probe.json``."""
    import lamina
    from lamina.errors import TrainingDivergedError
    from lamina.train.rng import seeded

    splits = lamina.data.load("mnist", flatten=True, scale="unit", validation=10000)
    train = splits.train.subset(slice(0, 1000 if args.smoke else 10000))
    rows = []
    for name in args.cells.split(","):
        for lr in (float(v) for v in args.probe_lrs.split(",")):
            with seeded(args.seed):
                model = lamina.build_model(
                    [
                        *layers(hidden, args.max_norm if name == "dropout_max_norm" else None),
                        {"type": "dense", "units": 10},
                    ],
                    (784,),
                )
            trainer = lamina.Trainer(
                model,
                optimizer={"type": "sgd", "lr": lr, "momentum": args.momentum, "dampening": args.momentum},
                epochs=1 if args.smoke else 2,
                batch_size=args.batch_size,
                device=args.device,
                seed=args.seed,
                verbose=0,
            )
            try:
                trainer.fit(train)
            except TrainingDivergedError as err:
                rows.append({"cell": name, "lr": lr, "validation_error_percent": None, "diverged": str(err)})
            else:
                val = trainer.evaluate(splits.validation)
                error = round(100 * (1 - val["accuracy"]), 2)
                rows.append({"cell": name, "lr": lr, "validation_error_percent": error})
            print(rows[-1])
    write_json(args.out_dir / "dropout_mnist_probe.json", {"benchmark": "dropout_mnist --probe", "rows": rows})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_mnist_options(parser)
    parser.add_argument(
        "--cells", default="dropout,dropout_max_norm", help="comma-separated: dropout, dropout_max_norm"
    )
    parser.add_argument("--epochs", type=int, default=500, help="at most this many epochs per cell")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.3, help="learning rate of the cell without max-norm")
    parser.add_argument("--lr-max-norm", type=float, default=0.3, help="learning rate with max-norm")
    parser.add_argument("--lr-decay", type=float, default=0.98, help="learning-rate factor per epoch")
    parser.add_argument("--momentum", type=float, default=0.95)
    parser.add_argument(
        "--momentum-ramp",
        type=float,
        default=0.0,
        help="raise the momentum from 0.5 to --momentum over this many epochs (the paper's ramp; 0: constant)",
    )
    parser.add_argument("--max-norm", type=float, default=3.5, help="c: each hidden unit's incoming weights' bound")
    parser.add_argument("--probe", action="store_true", help="only the learning-rate probe on validation data")
    parser.add_argument("--probe-lrs", default="0.1,0.3,1,3,10", help="the rates --probe tries")
    args = parser.parse_args()
    args.benchmark = "dropout_mnist"
    deadline = prepare(args)
    hidden = [64, 64, 64] if args.smoke else [1024, 1024, 1024]
    if args.probe:
        probe(args, hidden)
        return
    names = chosen_cells(parser, args.cells, PUBLISHED)
    path = args.out_dir / "dropout_mnist.json"
    done: list[dict] = []
    settings = settings_of(args)

    def write(current: dict | None = None) -> None:
        cells = done + ([current] if current else [])
        write_json(path, {"benchmark": "dropout_mnist", "settings": settings, "published": PUBLISHED, "cells": cells})

    ramp = {"type": "momentum_ramp", "start": 0.5, "end": args.momentum, "epochs": args.momentum_ramp, "dampened": True}
    start = time.perf_counter()
    for i, name in enumerate(names):
        share = (deadline - time.perf_counter()) / (len(names) - i)  # the rest of the budget, shared equally
        with_max_norm = name == "dropout_max_norm"
        exp = mnist_experiment(
            name,
            layers(hidden, args.max_norm if with_max_norm else None),
            optimizer={
                "type": "sgd",
                "lr": args.lr_max_norm if with_max_norm else args.lr,
                "momentum": args.momentum,
                "dampening": args.momentum,  # the paper's (1 - p) g
            },
            schedule={"type": "exponential", "gamma": args.lr_decay},
            epochs=args.epochs,
            batch_size=args.batch_size,
            args=args,
            callbacks=[ramp] if args.momentum_ramp else None,
        )
        run_recorded_cell(
            exp, args=args, seconds=share, done=done, write=write, published=PUBLISHED[name], paper="published"
        )
    figure = plot_cells(done, args.out_dir / "dropout_mnist_curves.png", "MNIST 784-1024x3-10 ReLU, dropout")
    print(f"{path} written ({time.perf_counter() - start:.0f} s); figure {figure}")


if __name__ == "__main__":
    main()
