"""lamina.sklearn.RBMTransformer beside sklearn.neural_network.BernoulliRBM, trained as scikit-learn trains
(issue #23): the pseudo-likelihood each reaches over 5 seeds, and the fit-time ratio.

Both get the same data and settings: scikit-learn's RBM example (``plot_rbm_logistic_classification``):
``n_components=100``, ``learning_rate=0.06``, ``batch_size=10``, ``n_iter=10``, persistent CD-1 (scikit-learn's
algorithm; lamina's ``persistent=True, k=1``), on the 8x8 digits scaled to [0, 1] (``X / 16``), binarized at 0.5
(``--data binary``, the default) or kept as grey levels (``--data grey``, as scikit-learn's ``test_rbm.py`` fits
them), split 80/20 (``random_state=0``). Seeds 0..4 are each library's ``random_state`` (the streams differ; the
comparison is of the two spreads), fitted in alternating order in this process.

The pseudo-likelihood is measured three ways, each applied to both models' weights so the estimator is identical:
``sklearn``: scikit-learn's own ``BernoulliRBM.score_samples`` (one randomly flipped unit per row, times
``n_features``), on a scorer ``BernoulliRBM`` holding the model's ``components_`` / ``intercept_hidden_`` /
``intercept_visible_`` with one fixed ``random_state``, so both models see the same flipped units; ``exact``: the
sum of all ``n_features`` terms (the expectation of scikit-learn's estimate, without its sampling noise); and
lamina's own ``RBMTransformer.score`` on the lamina model (which is ``exact``). Target: lamina's mean inside the
range of scikit-learn's five.

    nice -n 10 env PYTHONPATH=src python -m benchmarks.sklearn_rbm --threads 1
    ... python -m benchmarks.sklearn_rbm --threads 1 --data grey
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np

from benchmarks.common import add_threads_option, limit_threads, spread, write_result
from lamina.sklearn import RBMTransformer

# scikit-learn's RBM example (plot_rbm_logistic_classification.py); batch_size is BernoulliRBM's default
SETTINGS: dict[str, Any] = {"n_components": 100, "learning_rate": 0.06, "batch_size": 10, "n_iter": 10}
SCORER_SEED = 0  # the random_state of the scorer BernoulliRBM: the same flipped units for every model


def load_digits_01(kind: str = "binary") -> tuple[np.ndarray, np.ndarray]:
    """Digits scaled to [0, 1] (``X / 16``), binarized at 0.5 for ``kind="binary"``; train, test (80/20), float32."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if kind not in ("binary", "grey"):
        raise ValueError(f"--data must be 'binary' or 'grey', got {kind!r}")
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    if kind == "binary":
        X = (X > 0.5).astype(np.float64)
    X_train, X_test = train_test_split(X.astype(np.float32), test_size=0.2, random_state=0)
    return X_train, X_test


def sklearn_pseudo_likelihood(weights: dict[str, np.ndarray], X: np.ndarray, seed: int = SCORER_SEED) -> float:
    """Mean of scikit-learn's ``BernoulliRBM.score_samples`` over ``X`` for the RBM ``weights`` (``components_``,
    ``intercept_hidden_``, ``intercept_visible_``), computed by a scikit-learn scorer holding them."""
    from sklearn.neural_network import BernoulliRBM

    scorer = BernoulliRBM(n_components=len(weights["components_"]), random_state=seed)
    for name, value in weights.items():
        setattr(scorer, name, np.asarray(value, dtype=np.float64))
    scorer.n_features_in_ = X.shape[1]
    return float(scorer.score_samples(X.astype(np.float64)).mean())


def exact_pseudo_likelihood(weights: dict[str, np.ndarray], X: np.ndarray) -> float:
    """Mean over ``X`` of ``sum_i log p(v_i | v_-i)``, every unit's term (NumPy, float64), with scikit-learn's
    free energy ``F(v) = -v.b - sum_j log(1 + exp(v.W_j + c_j))`` and its flip ``v_i -> 1 - v_i``."""
    W = np.asarray(weights["components_"], np.float64)
    c = np.asarray(weights["intercept_hidden_"], np.float64)
    b = np.asarray(weights["intercept_visible_"], np.float64)
    v = X.astype(np.float64)
    logits = v @ W.T + c
    base = np.logaddexp(0, logits).sum(1)
    total = np.zeros(len(v))
    for i in range(v.shape[1]):
        d = 1 - 2 * v[:, i]  # the change of v_i when flipped to 1 - v_i
        gap = -b[i] * d - (np.logaddexp(0, logits + np.outer(d, W[:, i])).sum(1) - base)  # F(flipped) - F(v)
        total += -np.logaddexp(0, -gap)  # log sigmoid(gap)
    return float(total.mean())


def _weights(model: Any) -> dict[str, np.ndarray]:
    return {name: getattr(model, name) for name in ("components_", "intercept_hidden_", "intercept_visible_")}


class SampledStatisticsRBM(RBMTransformer):
    """lamina's RBMTransformer with scikit-learn's negative statistics: the persistent chain's visible *sample*
    (``BernoulliRBM(reconstruction="samples")``) where lamina's default uses its mean ``E[v | h]`` (Hinton, 2010,
    sec. 3.2); a diagnosis of the difference, not a public option."""

    def _module_spec(self, n_features: int, n_outputs: int | None) -> dict[str, Any]:
        return {**super()._module_spec(n_features, n_outputs), "reconstruction": "samples"}


def _sklearn_shuffled(settings: dict[str, Any], seed: int, X: np.ndarray) -> Any:
    """scikit-learn's BernoulliRBM trained as ``fit`` trains it (the same even batch slices, one ``_fit`` step per
    batch through ``partial_fit``) but over a fresh permutation of the rows each epoch, as lamina's Trainer does."""
    from sklearn.neural_network import BernoulliRBM
    from sklearn.utils import gen_even_slices

    model = BernoulliRBM(**settings, random_state=seed)
    order = np.random.default_rng(seed)
    n, batch = len(X), settings["batch_size"]
    n_batches = -(-n // batch)
    model.h_samples_ = np.zeros((batch, settings["n_components"]), dtype=X.dtype)  # fit's chain start
    for _ in range(settings["n_iter"]):
        shuffled = X[order.permutation(n)]
        for part in gen_even_slices(n_batches * batch, n_batches, n_samples=n):
            model.partial_fit(shuffled[part])
    return model


VARIANTS = ("lamina", "lamina_sampled", "sklearn", "sklearn_shuffled")


def compare(
    X_train: np.ndarray,
    X_test: np.ndarray,
    *,
    seeds: list[int],
    settings: dict[str, Any] | None = None,
    variants: tuple[str, ...] = VARIANTS,
) -> dict[str, Any]:
    """Fit each of ``variants`` once per seed (lamina's RBMTransformer; the same with scikit-learn's sampled negative
    statistics; scikit-learn's BernoulliRBM; the same over shuffled rows), in an order that turns round from seed to
    seed; each model's pseudo-likelihoods on the training and test rows, their summaries over the seeds, the
    fit-time ratio lamina / scikit-learn, and whether lamina's means lie within scikit-learn's range."""
    from sklearn.neural_network import BernoulliRBM

    settings = {**SETTINGS, **(settings or {})}
    makers = {
        "lamina": lambda seed: RBMTransformer(**settings, k=1, persistent=True, random_state=seed).fit(X_train),
        "lamina_sampled": lambda seed: SampledStatisticsRBM(**settings, random_state=seed).fit(X_train),
        "sklearn": lambda seed: BernoulliRBM(**settings, random_state=seed).fit(X_train),
        "sklearn_shuffled": lambda seed: _sklearn_shuffled(settings, seed, X_train),
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for i, seed in enumerate(seeds):
        turn = i % len(variants)
        for name in variants[turn:] + variants[:turn]:
            start = time.perf_counter()
            model = makers[name](seed)
            seconds = time.perf_counter() - start
            weights = _weights(model)
            row = {"seed": seed, "fit_s": seconds}
            for split, X in (("train", X_train), ("test", X_test)):
                row[f"sklearn_{split}"] = sklearn_pseudo_likelihood(weights, X)
                row[f"exact_{split}"] = exact_pseudo_likelihood(weights, X)
                if isinstance(model, RBMTransformer):
                    row[f"lamina_score_{split}"] = float(model.score(X))
            runs[name].append(row)
    result: dict[str, Any] = {"settings": settings, "seeds": list(seeds), "runs": runs}
    for name, rows in runs.items():
        keys = [k for k in rows[0] if k not in ("seed", "fit_s")]
        result[name] = {k: spread([r[k] for r in rows]) for k in keys}
        result[name]["fit_s"] = sum(r["fit_s"] for r in rows)
    if "lamina" in runs and "sklearn" in runs:
        result["fit_time_ratio"] = result["lamina"]["fit_s"] / result["sklearn"]["fit_s"]
        result["within_spread"] = {
            f"{name}/{key}": bool(
                result["sklearn"][key]["min"] <= result[name][key]["mean"] <= result["sklearn"][key]["max"]
            )
            for name in ("lamina", "lamina_sampled")
            if name in runs
            for key in ("sklearn_train", "sklearn_test", "exact_train", "exact_test")
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="binary", choices=("binary", "grey"), help="digits binarized or grey levels")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..n-1, each library")
    parser.add_argument(
        "--train-size",
        type=int,
        default=None,
        help="keep the first n training rows (default: all 1,437); a multiple of the batch size leaves no short batch",
    )
    add_threads_option(parser)
    parser.add_argument("--tag", default="", help="suffix of the result file (results/sklearn_rbm_<data><tag>.json)")
    args = parser.parse_args()
    limit_threads(args.threads)
    import torch

    X_train, X_test = load_digits_01(args.data)
    X_train = X_train[: args.train_size]
    compare(X_train[:200], X_test[:50], seeds=[0], settings={"n_iter": 1})  # warm-up, untimed
    load_start = os.getloadavg()
    result = compare(X_train, X_test, seeds=list(range(args.seeds)))
    payload = {
        "load_average_start": load_start,
        "data": f"digits / 16, {'binarized at 0.5' if args.data == 'binary' else 'grey levels'}",
        "train": len(X_train),
        "test": len(X_test),
        "torch_threads": torch.get_num_threads(),
        "target": "lamina's mean pseudo-likelihood within the range of scikit-learn's over 5 seeds",
        **result,
    }
    print(f"digits ({args.data}) {len(X_train)}/{len(X_test)}, {result['settings']}, seeds {result['seeds']}")
    print(f"  {'model':17s} {'fit s':>6s}  pseudo-likelihood, mean +- sd [min, max] over the seeds")
    for key in (
        "sklearn_train",
        "sklearn_test",
        "exact_train",
        "exact_test",
        "lamina_score_train",
        "lamina_score_test",
    ):
        print(f"  {key}")
        for name in VARIANTS:
            s = result[name].get(key)
            if s is None:
                continue
            inside = result["within_spread"].get(f"{name}/{key}")
            flag = (
                ""
                if inside is None
                else (" inside scikit-learn's range" if inside else " OUTSIDE scikit-learn's range")
            )
            print(
                f"    {name:17s} {result[name]['fit_s']:6.2f}  {s['mean']:8.3f} +- {s['sd']:5.3f} "
                f"[{s['min']:.3f}, {s['max']:.3f}]{flag}"
            )
    print(f"  fit-time ratio lamina / scikit-learn: {result['fit_time_ratio']:.2f}")
    payload["load_average_end"] = os.getloadavg()
    print(f"wrote {write_result(f'sklearn_rbm_{args.data}' + args.tag, payload)}")


if __name__ == "__main__":
    main()
