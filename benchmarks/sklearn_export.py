"""lamina.sklearn.MLPClassifier beside scikit-learn's MLPClassifier, same data and hyper-parameters, in one process;
then the trained MNIST model exported to ONNX and run by onnxruntime.

Both classifiers get the same float32 pixels in [0, 1] and the same settings: one hidden layer of 100 ReLU units,
Adam (lr 1e-3, betas 0.9/0.999), batches of 200, alpha = 1e-4, tol = 1e-4 with n_iter_no_change = 10,
random_state = 0. Target (issue #12): equal accuracy and a fit at least 3x faster on MNIST.
Every solver (lbfgs, adam, sgd) on digits, make_regression and MNIST over several seeds, and the RBM: the
sibling benchmarks ``benchmarks.sklearn_solvers`` and ``benchmarks.sklearn_rbm`` (issue #23).

    flock /tmp/lamina-cpu.lock env PYTHONPATH=src LAMINA_DATA=../shared/datasets \\
        python -m benchmarks.sklearn_export                     # MNIST at 20 epochs (a few minutes on 2 cores)
    ... python -m benchmarks.sklearn_export --max-iter 200      # scikit-learn's default: up to 200 epochs
    ... python -m benchmarks.sklearn_export --threads 1 --tag _1thread   # both libraries on one thread
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.common import add_threads_option, limit_threads, write_result

HYPER = dict(
    hidden_layer_sizes=(100,),
    activation="relu",
    solver="adam",
    learning_rate_init=1e-3,
    batch_size=200,
    alpha=1e-4,
    tol=1e-4,
    n_iter_no_change=10,
    random_state=0,
)


def _fit(cls, X, y, X_test, y_test, **extra) -> dict:
    from sklearn.exceptions import ConvergenceWarning

    clf = cls(**HYPER, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        clf.fit(X, y)
        seconds = time.perf_counter() - start
    return {
        "fit_s": round(seconds, 3),
        "epochs": int(clf.n_iter_),
        "s_per_epoch": round(seconds / clf.n_iter_, 4),
        "test_accuracy": round(float(clf.score(X_test, y_test)), 4),
        "final_loss": round(float(clf.loss_), 5),
        "model": clf,
    }


def compare(name: str, X, y, X_test, y_test, *, max_iter: int, float64: bool) -> dict:
    """Both libraries on one data set; ``float64`` adds scikit-learn on float64 inputs (what ``X / 255.0`` gives
    it, its usual path; lamina computes in float32 whatever it is given)."""
    from sklearn.neural_network import MLPClassifier as SkMLP

    from lamina.sklearn import MLPClassifier

    # warm both up (imports, allocator, BLAS threads) on a small slice, untimed
    for cls in (MLPClassifier, SkMLP):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cls(**HYPER, max_iter=2).fit(X[:400], y[:400])
    rows = {
        "lamina": _fit(MLPClassifier, X, y, X_test, y_test, max_iter=max_iter),
        "sklearn": _fit(SkMLP, X, y, X_test, y_test, max_iter=max_iter),
    }
    if float64:
        rows["sklearn_float64"] = _fit(
            SkMLP, X.astype(np.float64), y, X_test.astype(np.float64), y_test, max_iter=max_iter
        )
    result = {k: {kk: vv for kk, vv in v.items() if kk != "model"} for k, v in rows.items()}
    lam, sk = rows["lamina"], rows["sklearn"]
    result["speedup_fit"] = round(sk["fit_s"] / lam["fit_s"], 2)
    result["speedup_per_epoch"] = round(sk["s_per_epoch"] / lam["s_per_epoch"], 2)
    result["accuracy_difference"] = round(lam["test_accuracy"] - sk["test_accuracy"], 4)
    print(f"\n{name} (max_iter={max_iter}, train {len(X)}, test {len(X_test)})")
    print(f"  {'':16s} {'fit s':>8s} {'epochs':>7s} {'s/epoch':>8s} {'test acc':>9s}")
    for key, row in result.items():
        if isinstance(row, dict):
            print(
                f"  {key:16s} {row['fit_s']:8.2f} {row['epochs']:7d} {row['s_per_epoch']:8.3f} "
                f"{row['test_accuracy']:9.4f}"
            )
    print(
        f"  lamina vs scikit-learn: fit {result['speedup_fit']}x faster ({result['speedup_per_epoch']}x per epoch); "
        f"accuracy {result['accuracy_difference']:+.4f}   target: >= 3x faster, equal accuracy"
    )
    result["_lamina_model"] = lam["model"]
    return result


def onnx_round_trip(clf, X_test) -> dict:
    """Export the fitted classifier to ONNX; compare onnxruntime with PyTorch on the whole test set."""
    import torch

    from lamina.export import export, load

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = export(clf, "onnx", Path(folder) / "mnist_mlp.onnx")
        export_s = time.perf_counter() - start
        session = load(result.path)
        x = torch.from_numpy(X_test)
        with torch.no_grad():
            start = time.perf_counter()
            want = clf.module_(x).numpy()
            torch_s = time.perf_counter() - start
        start = time.perf_counter()
        got = session(X_test)
        ort_s = time.perf_counter() - start
    diff = float(np.abs(got - want).max())
    same = float((got.argmax(1) == want.argmax(1)).mean())
    print(
        f"\nONNX: exported in {export_s:.1f}s (opset {result.details['opset']}); onnxruntime vs PyTorch on "
        f"{len(X_test)} images: max |diff| {diff:.2e}, same class {same:.4f}; inference {ort_s * 1e3:.1f} ms "
        f"(onnxruntime) vs {torch_s * 1e3:.1f} ms (PyTorch)"
    )
    return {
        "export_s": round(export_s, 2),
        "opset": result.details["opset"],
        "max_abs_diff": diff,
        "same_class_fraction": same,
        "onnxruntime_ms": round(ort_s * 1e3, 2),
        "torch_ms": round(torch_s * 1e3, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-iter", type=int, default=20, help="MNIST epochs (scikit-learn's default: 200)")
    parser.add_argument("--digits-max-iter", type=int, default=200, help="digits epochs")
    parser.add_argument("--skip-mnist", action="store_true")
    add_threads_option(parser)
    parser.add_argument("--tag", default="", help="suffix of the result file (results/sklearn_export<tag>.json)")
    args = parser.parse_args()
    limit_threads(args.threads)

    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_info

    import lamina

    payload = {
        "load_average_start": os.getloadavg(),
        "hyper_parameters": {k: list(v) if isinstance(v, tuple) else v for k, v in HYPER.items()},
        "torch_threads": torch.get_num_threads(),
        "blas": [{k: i.get(k) for k in ("internal_api", "num_threads")} for i in threadpool_info()],
    }
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X, X_test, y, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    digits = compare("digits", X, y, X_test, y_test, max_iter=args.digits_max_iter, float64=True)
    digits.pop("_lamina_model")
    payload["digits"] = digits
    if not args.skip_mnist:
        train, _, test = lamina.data.load("mnist", flatten=True)
        X, y = train.x.numpy(), train.y.numpy()
        X_test, y_test = test.x.numpy(), test.y.numpy()
        mnist = compare("MNIST", X, y, X_test, y_test, max_iter=args.max_iter, float64=True)
        payload["onnx"] = onnx_round_trip(mnist.pop("_lamina_model"), X_test)
        payload["mnist"] = mnist
    payload["target"] = "lamina fits MNIST >= 3x faster than scikit-learn at equal accuracy"
    payload["load_average_end"] = os.getloadavg()
    print(
        f"\nload average (1, 5, 15 min): at start {payload['load_average_start']}, at end {payload['load_average_end']}"
    )
    print(f"wrote {write_result('sklearn_export' + args.tag, payload)}")


if __name__ == "__main__":
    main()
