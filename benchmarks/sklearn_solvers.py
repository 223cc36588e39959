"""lamina.sklearn's MLPClassifier / MLPRegressor beside scikit-learn's, solver by solver (issue #23): ``"lbfgs"``,
``"adam"`` and ``"sgd"`` on digits, ``make_regression`` and MNIST, equal settings, several seeds.

Both libraries get the same float32 inputs and the same hyper-parameters (:data:`COMMON` plus each solver's
learning rate, :data:`LEARNING_RATE`; ``max_iter`` per data set); each seed is one ``random_state`` given to both
(their random streams differ, so seeds are not paired: the comparison is of the two distributions). Reported per
cell: test accuracy (classification) or R^2 (regression) as mean, standard deviation and range over the seeds, the
difference of the means in points (100 x), and the fit-time ratio lamina / scikit-learn (summed over the seeds),
both fits of a seed measured in this process, in alternating order. Target: |difference| <= 0.5 points.

``make_regression``: 2,000 examples (1,500 train, 500 test) of 20 features, 10 informative, noise 10; the target
divided by its training standard deviation (R^2 does not change). MNIST: the 60,000 training images for adam
and sgd at a fixed ``max_iter`` (``--mnist-max-iter``), a documented subset for lbfgs (``--mnist-lbfgs-train``);
the 10,000 test images.

    nice -n 10 env PYTHONPATH=src LAMINA_DATA=../shared/datasets python -m benchmarks.sklearn_solvers --threads 1
    ... python -m benchmarks.sklearn_solvers --datasets digits,regression --seeds 5   # no MNIST
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from typing import Any

import numpy as np

from benchmarks.common import add_threads_option, limit_threads, spread, write_result

SOLVERS = ("lbfgs", "adam", "sgd")
DATASETS = ("digits", "regression", "mnist")

# scikit-learn's defaults, spelled out so both libraries get them whatever either's defaults become
COMMON: dict[str, Any] = dict(
    hidden_layer_sizes=(100,),
    activation="relu",
    alpha=1e-4,
    batch_size=200,
    tol=1e-4,
    n_iter_no_change=10,
    momentum=0.9,
    nesterovs_momentum=True,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-8,
    max_fun=15000,
)
# scikit-learn's 1e-3 for adam; plain momentum SGD at 1e-3 has not converged in 200 epochs, so sgd runs at 1e-2
LEARNING_RATE = {"lbfgs": 1e-3, "adam": 1e-3, "sgd": 1e-2}


def settings(solver: str, max_iter: int) -> dict[str, Any]:
    """The hyper-parameters both libraries get for ``solver`` (all but ``random_state``)."""
    return {**COMMON, "solver": solver, "learning_rate_init": LEARNING_RATE[solver], "max_iter": max_iter}


def load(name: str, *, mnist_train: int | None = None) -> dict[str, Any]:
    """``{"X", "y", "X_test", "y_test", "task"}`` of one data set, float32 inputs; ``mnist_train`` keeps the first
    that many MNIST training images."""
    from sklearn.model_selection import train_test_split

    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X, X_test, y, y_test = train_test_split((X / 16.0).astype(np.float32), y, test_size=0.25, random_state=0)
        task = "classification"
    elif name == "regression":
        from sklearn.datasets import make_regression

        X, y = make_regression(n_samples=2000, n_features=20, n_informative=10, noise=10.0, random_state=0)
        X, X_test, y, y_test = train_test_split(X.astype(np.float32), y, test_size=0.25, random_state=0)
        scale = y.std()
        y, y_test = y / scale, y_test / scale
        task = "regression"
    elif name == "mnist":
        import lamina

        train, _, test = lamina.data.load("mnist", flatten=True)
        X, y = train.x.numpy(), train.y.numpy()
        if mnist_train is not None:
            X, y = X[:mnist_train], y[:mnist_train]
        X_test, y_test = test.x.numpy(), test.y.numpy()
        task = "classification"
    else:
        raise ValueError(f"unknown data set {name!r}; expected one of {', '.join(DATASETS)}")
    return {"X": X, "y": y, "X_test": X_test, "y_test": y_test, "task": task}


def _estimators(task: str) -> dict[str, type]:
    if task == "classification":
        from sklearn.neural_network import MLPClassifier as SkMLP

        from lamina.sklearn import MLPClassifier as LaminaMLP
    else:
        from sklearn.neural_network import MLPRegressor as SkMLP

        from lamina.sklearn import MLPRegressor as LaminaMLP
    return {"lamina": LaminaMLP, "sklearn": SkMLP}


def _fit_one(cls: type, data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    from sklearn.exceptions import ConvergenceWarning

    model = cls(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(data["X"], data["y"])
        seconds = time.perf_counter() - start
    return {
        "score": float(model.score(data["X_test"], data["y_test"])),
        "fit_s": seconds,
        "n_iter": int(model.n_iter_),
        "loss": float(model.loss_),
    }


def compare(
    data: dict[str, Any], solver: str, *, seeds: list[int], max_iter: int, target_points: float = 0.5
) -> dict[str, Any]:
    """Fit both libraries' MLP with ``solver`` once per seed on ``data`` (from :func:`load`), alternating which
    goes first; the per-seed runs and their summary (score in points, difference of means, fit-time ratio)."""
    classes = _estimators(data["task"])
    params = settings(solver, max_iter)
    runs: dict[str, list[dict[str, Any]]] = {"lamina": [], "sklearn": []}
    for i, seed in enumerate(seeds):
        order = ("lamina", "sklearn") if i % 2 == 0 else ("sklearn", "lamina")
        for library in order:
            runs[library].append(_fit_one(classes[library], data, {**params, "random_state": seed}))
    cell: dict[str, Any] = {"solver": solver, "max_iter": max_iter, "seeds": list(seeds), "runs": runs}
    for library, rows in runs.items():
        cell[library] = {
            "score_points": spread([100 * r["score"] for r in rows]),
            "n_iter": spread([r["n_iter"] for r in rows]),
            "fit_s": sum(r["fit_s"] for r in rows),
        }
    difference = cell["lamina"]["score_points"]["mean"] - cell["sklearn"]["score_points"]["mean"]
    cell["difference_points"] = difference
    cell["within_target"] = bool(abs(difference) <= target_points)
    cell["fit_time_ratio"] = cell["lamina"]["fit_s"] / cell["sklearn"]["fit_s"]
    iterations = {lib: sum(r["n_iter"] for r in runs[lib]) for lib in runs}
    cell["time_per_iteration_ratio"] = (cell["lamina"]["fit_s"] / iterations["lamina"]) / (
        cell["sklearn"]["fit_s"] / iterations["sklearn"]
    )
    return cell


def warm_up(data: dict[str, Any]) -> None:
    """One untimed short fit of each library (imports, allocator, thread pools)."""
    small = {**data, "X": data["X"][:400], "y": data["y"][:400]}
    for cls in _estimators(data["task"]).values():
        _fit_one(cls, small, {**settings("adam", 2), "random_state": 0})


def _print_cell(name: str, size: str, cell: dict[str, Any]) -> None:
    lam, sk = cell["lamina"], cell["sklearn"]

    def spread(s: dict[str, float]) -> str:
        return f"{s['mean']:6.2f} +- {s['sd']:4.2f} [{s['min']:.2f}, {s['max']:.2f}]"

    print(
        f"  {name:10s} {size:12s} {cell['solver']:6s} lamina {spread(lam['score_points'])}  scikit-learn "
        f"{spread(sk['score_points'])}  diff {cell['difference_points']:+5.2f} "
        f"{'ok ' if cell['within_target'] else 'MISS'}  iters {lam['n_iter']['mean']:5.1f}/{sk['n_iter']['mean']:5.1f}"
        f"  time ratio {cell['fit_time_ratio']:.2f} (per iteration {cell['time_per_iteration_ratio']:.2f})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated: digits,regression,mnist")
    parser.add_argument("--solvers", default=",".join(SOLVERS), help="comma-separated: lbfgs,adam,sgd")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..n-1 on digits and make_regression")
    parser.add_argument("--max-iter", type=int, default=200, help="max_iter on digits and make_regression")
    parser.add_argument("--mnist-seeds", type=int, default=2, help="seeds 0..n-1 on MNIST")
    parser.add_argument("--mnist-max-iter", type=int, default=10, help="max_iter (epochs) of adam and sgd on MNIST")
    parser.add_argument("--mnist-lbfgs-train", type=int, default=10000, help="MNIST training images for lbfgs")
    parser.add_argument("--mnist-lbfgs-max-iter", type=int, default=100, help="L-BFGS iterations on MNIST")
    add_threads_option(parser)
    parser.add_argument("--tag", default="", help="suffix of the result file (results/sklearn_solvers<tag>.json)")
    args = parser.parse_args()
    limit_threads(args.threads)
    import torch
    from threadpoolctl import threadpool_info

    datasets = [d for d in args.datasets.split(",") if d]
    solvers = [s for s in args.solvers.split(",") if s]
    payload: dict[str, Any] = {
        "load_average_start": os.getloadavg(),
        "settings": {
            s: {k: list(v) if isinstance(v, tuple) else v for k, v in settings(s, 0).items()} for s in solvers
        },
        "torch_threads": torch.get_num_threads(),
        "blas": [{k: i.get(k) for k in ("internal_api", "num_threads")} for i in threadpool_info()],
        "target": "mean test accuracy / R^2 within 0.5 points of scikit-learn's for every solver",
        "cells": [],
    }
    print("data       train/test   solver   score in points: mean +- sd [min, max] over seeds")
    for name in datasets:
        full = load(name)
        warm_up(full)
        for solver in solvers:
            data, seeds, max_iter = full, list(range(args.seeds)), args.max_iter
            if name == "mnist":
                seeds = list(range(args.mnist_seeds))
                max_iter = args.mnist_max_iter
                if solver == "lbfgs":
                    n = args.mnist_lbfgs_train
                    data, max_iter = {**full, "X": full["X"][:n], "y": full["y"][:n]}, args.mnist_lbfgs_max_iter
            cell = compare(data, solver, seeds=seeds, max_iter=max_iter)
            size = f"{len(data['X'])}/{len(data['X_test'])}"
            cell.update(dataset=name, train=len(data["X"]), test=len(data["X_test"]), task=data["task"])
            _print_cell(name, size, cell)
            payload["cells"].append(cell)
    payload["all_within_target"] = all(c["within_target"] for c in payload["cells"])
    payload["load_average_end"] = os.getloadavg()
    print(
        f"load average (1, 5, 15 min): at start {payload['load_average_start']}, at end {payload['load_average_end']}"
    )
    print(f"wrote {write_result('sklearn_solvers' + args.tag, payload)}")


if __name__ == "__main__":
    main()
