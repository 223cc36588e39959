"""Sunspots, Weigend et al. (1990) split: TDNN, Elman and NARX from lamina beside an AR(p) least-squares fit, a
polynomial NAR model from sysidentpy and the published figures, in one run.

Training targets 1700-1920 (12-year windows, so 1712-1920), test targets 1921-1955 and 1956-1979, one-step
predictions. The error is Weigend's average relative variance ``ARV = mean((x - xhat)^2) / sigma^2`` with the
normaliser of the published figures, sigma^2 = 1535 (the same for every period, so 1956-1979 with its giant cycle
scores worse); the period's own variance (NMSE = 1 - R^2) is printed beside it. Each lamina network is trained from
``--seeds`` initialisations; the table gives mean +- std over seeds and the ensemble (the mean prediction of all
seeds). The adaptive-lambda row (Weigend et al.'s rule) picks its desired error D and step Delta lambda on the training
years alone, before it is trained: fits on targets 1712-1900 scored on 1901-1920 (see ``select_adaptive``). The
cross-validated row picks its fixed lambda by blocked 5-fold cross-validation over all of 1712-1920, the 12 windows
beside each validation block left out (see ``select_strength_cv``).

    flock /tmp/lamina-cpu.lock python -m benchmarks.sunspots            # 10 seeds (about 14 minutes on 2 cores)
    python -m benchmarks.sunspots --seeds 2 --epochs 500                # a quick look
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import warnings

import numpy as np
import torch

import lamina
from benchmarks.common import RESULTS, write_result
from lamina.data import ArrayDataset
from lamina.timeseries import (
    NARX,
    TDNN,
    BlockedKFold,
    Elman,
    WeightElimination,
    WeightEliminationLoss,
    nmse,
    plot_forecast,
)

SIGMA2 = 1535.0  # normaliser of Weigend et al.'s published ARV figures
WEIGHT_ELIMINATION = 1e-4  # lambda (w0 = 1, data in [0, 1]), picked among 1e-5, 3e-5, 1e-4, 3e-4: see the results
PERIODS = ("1921-1955", "1956-1979")
ADAPTIVE = "adaptive"  # the regulariser entry of networks() for Weigend's adaptive lambda, set by select_adaptive
CROSS_VALIDATED = "cross-validated"  # the regulariser entry for a lambda chosen by select_strength_cv
CV_GRID = (0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)  # lambda candidates of the cross-validated row
CV_FOLDS, CV_SEEDS = 5, 3
BEST_OF = "adaptive, best of restarts"  # the same, keeping the lowest training error of RESTARTS networks per seed
RESTARTS = 5
VALIDATION_FROM = 1901  # choosing the adaptive row's settings: fit on targets up to 1900, score on 1901-1920
ADAPTIVE_GRID = [(d, step) for d in (0.06, 0.08, 0.10) for step in (1e-8, 3e-8, 1e-7, 3e-7)]  # (D as ARV, Delta lambda)
PUBLISHED = {  # ARV on training 1700-1920, test 1921-1955, test 1956-1979
    "Weigend et al. 1990, 12-8-1 net, weight elimination": (0.082, 0.086, 0.35),
    "Tong & Lim 1980, threshold AR (as quoted by Weigend et al.)": (0.097, 0.097, 0.28),
}


def networks(lags: int) -> dict:
    """The lamina models: name -> (constructor, [data] options, weight-elimination strength lambda, or ``ADAPTIVE``
    / ``BEST_OF``, epochs as a fraction of --epochs: the Elman network overfits by 3000 epochs, so it trains for a
    third of them). Without an exogenous input a NARX network is a nonlinear autoregression, the TDNN's function
    class: its row differs by reading 9 lags (the order of Tong & Lim's threshold AR)."""
    flat, sequence = {"lags": lags}, {"lags": lags, "layout": "sequence"}
    tdnn = lambda: TDNN(lags, hidden=(8,), activation="sigmoid")  # noqa: E731
    return {
        "TDNN 12-8-1 sigmoid, weight elimination": (tdnn, flat, WEIGHT_ELIMINATION, 1.0),
        f"TDNN 12-8-1 sigmoid, w. elim., lambda by blocked {CV_FOLDS}-fold CV": (tdnn, flat, CROSS_VALIDATED, 1.0),
        "TDNN 12-8-1 sigmoid, w. elim., adaptive lambda": (tdnn, flat, ADAPTIVE, 1.0),
        f"TDNN 12-8-1 sigmoid, adaptive lambda, best of {RESTARTS} by train ARV": (tdnn, flat, BEST_OF, 1.0),
        "TDNN 12-8-1 sigmoid, no regulariser": (tdnn, flat, 0.0, 1.0),
        "Elman SRN 8 tanh context units, BPTT 12, w. elim.": (
            lambda: Elman(1, 8, bptt=12, lags=lags),
            sequence,
            WEIGHT_ELIMINATION,
            1 / 3,
        ),
        "NARX (NAR) 9 output lags, 8 sigmoid, w. elim.": (
            lambda: NARX(9, hidden=(8,), activation="sigmoid"),
            {"lags": 9},
            WEIGHT_ELIMINATION,
            1.0,
        ),
    }


def train_network(
    make, data: ArrayDataset, *, seed: int, epochs: int, lr: float, strength: float, adaptive: dict | None = None
) -> torch.nn.Module:
    """Full-batch Adam with a cosine schedule through lamina's trainer (one step per epoch), the loss the mean
    squared error plus ``strength`` times Weigend's weight elimination (w0 = 1); with ``adaptive`` (options of
    :class:`WeightElimination`), lambda starts at 0 and follows Weigend et al.'s rule instead."""
    torch.manual_seed(seed)
    model = make()
    loss = WeightEliminationLoss(model, strength, scale=1.0) if strength and not adaptive else "mse"
    callbacks = [WeightElimination(0.0, 1.0, **adaptive)] if adaptive else []
    trainer = lamina.Trainer(
        model,
        loss=loss,
        optimizer={"type": "adam", "lr": lr},
        epochs=epochs,
        batch_size=len(data),
        seed=seed,
        schedule={"type": "cosine"},
        callbacks=callbacks,
    )
    trainer.fit(data)
    return model.eval()


def adaptive_options(desired_arv: float, step: float, prepared) -> dict:
    """:class:`WeightElimination` options for a desired training error given as an ARV (the rule compares it with
    the mean squared error of the [0, 1]-scaled series)."""
    return {"desired_error": desired_arv * SIGMA2 / float(prepared.scaler.scale_) ** 2, "strength_step": step}


def select_adaptive(make, prepared, *, seeds: int, epochs: int, lr: float) -> dict:
    """Weigend's adaptive lambda without looking at the test periods: for each (D, Delta lambda) of
    ``ADAPTIVE_GRID``, ``seeds`` networks (seeds 1000, 1001, ...: not the benchmark's) fit on targets 1712-1900 and
    are scored on 1901-1920; the setting with the lowest mean validation ARV is returned with the whole table.
    Each row also gives the validation ARV of the network with the lowest training (1712-1900) ARV of the
    ``seeds``: whether picking a restart by its training error helps, judged on the training years."""
    years = prepared.data.time[prepared.time]
    fit, val = prepared.train & (years < VALIDATION_FROM), prepared.train & (years >= VALIDATION_FROM)
    data = ArrayDataset(prepared.inputs[fit], prepared.targets[fit])
    actual = prepared.scaler.inverse_transform(prepared.targets[:, 0].double().numpy())
    table = []
    for desired, step in ADAPTIVE_GRID:
        options = adaptive_options(desired, step, prepared)
        arv, fit_arv = [], []
        for s in range(seeds):
            pred = one_step(
                train_network(make, data, seed=1000 + s, epochs=epochs, lr=lr, strength=0.0, adaptive=options), prepared
            )
            arv.append(nmse(pred[val], actual[val], variance=SIGMA2))
            fit_arv.append(nmse(pred[fit], actual[fit], variance=SIGMA2))
        picked = arv[int(np.argmin(fit_arv))]
        table.append(
            {
                "desired_arv": desired,
                "strength_step": step,
                "val_arv": float(np.mean(arv)),
                "val_arv_std": float(np.std(arv)),
                "val_arv_lowest_train": float(picked),
                "train_arv": float(np.mean(fit_arv)),
            }
        )
        print(
            f"  validation 1901-1920: D = ARV {desired}, step {step:g}: {np.mean(arv):.4f} +- {np.std(arv):.4f}"
            f" (lowest-train network {picked:.4f}; train 1712-1900 {np.mean(fit_arv):.4f})",
            flush=True,
        )
    best = min(table, key=lambda row: row["val_arv"])
    return {
        "desired_arv": best["desired_arv"],
        "strength_step": best["strength_step"],
        "seeds": seeds,
        "validation_years": f"{VALIDATION_FROM}-1920",
        "table": table,
    }


_CV_JOB: dict = {}  # what the forked cross-validation workers read: set by select_strength_cv before the pool starts


def _cv_fit(task: tuple[float, int, int]) -> tuple[float, int, np.ndarray]:
    """One cross-validation fit: lambda, fold and seed -> (lambda, seed, one-step predictions of the fold's
    validation windows in sunspot numbers)."""
    strength, fold, seed = task
    prepared, (fit, val) = _CV_JOB["prepared"], _CV_JOB["folds"][fold]
    model = train_network(
        _CV_JOB["make"],
        ArrayDataset(prepared.inputs[fit], prepared.targets[fit]),
        seed=seed,
        epochs=_CV_JOB["epochs"],
        lr=_CV_JOB["lr"],
        strength=strength,
    )
    return strength, seed, one_step(model, prepared)[val]


def select_strength_cv(make, prepared, *, seeds: int, epochs: int, lr: float, workers: int) -> dict:
    """A fixed weight-elimination lambda chosen without the test periods: for each lambda of ``CV_GRID``, blocked
    ``CV_FOLDS``-fold cross-validation over the training windows (targets 1712-1920; the ``lags`` windows on each
    side of a validation block are left out of its fit, so no fitted window shares a year with a validation
    window), ``seeds`` networks per fold (seeds 2000, 2001, ...: not the benchmark's). Each lambda's score is the
    ARV of all its validation predictions pooled; the lowest wins. Fits run in ``workers`` forked processes."""
    train = np.flatnonzero(prepared.train)
    folds = [(train[f], train[v]) for f, v in BlockedKFold(CV_FOLDS, gap=prepared.window.lags).split(train)]
    _CV_JOB.update(make=make, prepared=prepared, folds=folds, epochs=epochs, lr=lr)
    seed_list = range(2000, 2000 + seeds)
    tasks = [(strength, fold, seed) for strength in CV_GRID for fold in range(CV_FOLDS) for seed in seed_list]
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_cv_fit, tasks, chunksize=1)
    else:
        results = [_cv_fit(task) for task in tasks]
    actual = prepared.scaler.inverse_transform(prepared.targets[:, 0].double().numpy())
    validated = np.concatenate([val for _, val in folds])  # the order of each (lambda, seed)'s predictions
    table = []
    for strength in CV_GRID:
        per_seed = [
            np.concatenate([pred for lam, s, pred in results if lam == strength and s == seed]) for seed in seed_list
        ]
        table.append(
            {
                "strength": strength,
                "cv_arv": nmse(np.concatenate(per_seed), np.tile(actual[validated], seeds), variance=SIGMA2),
                "cv_arv_std_over_seeds": float(
                    np.std([nmse(pred, actual[validated], variance=SIGMA2) for pred in per_seed])
                ),
            }
        )
        print(
            f"  blocked {CV_FOLDS}-fold CV on 1712-1920: lambda {strength:g}: ARV {table[-1]['cv_arv']:.4f} "
            f"(+- {table[-1]['cv_arv_std_over_seeds']:.4f} over seeds)",
            flush=True,
        )
    best = min(table, key=lambda row: row["cv_arv"])
    years = prepared.data.time[prepared.time]
    return {
        "strength": best["strength"],
        "folds": CV_FOLDS,
        "gap": prepared.window.lags,
        "seeds": seeds,
        "fold_years": [[int(years[val[0]]), int(years[val[-1]])] for _, val in folds],
        "table": table,
    }


def one_step(model: torch.nn.Module, prepared) -> np.ndarray:
    """One-step predictions of every window, in sunspot numbers."""
    with torch.no_grad():
        out = model(prepared.inputs)[:, 0].double().numpy()
    return prepared.scaler.inverse_transform(out)


def scores(pred: np.ndarray, actual: np.ndarray, masks: dict) -> dict:
    out = {}
    for name, mask in masks.items():
        out[f"arv_{name}"] = nmse(pred[mask], actual[mask], variance=SIGMA2)
        out[f"nmse_{name}"] = nmse(pred[mask], actual[mask])
    return out


def ar_least_squares(values: np.ndarray, years: np.ndarray, p: int) -> np.ndarray:
    """AR(p) with intercept fitted by ``numpy.linalg.lstsq`` on targets 1700+p .. 1920; one-step predictions of
    every year from 1700+p on (NaN before)."""
    rows = np.array([values[t - p : t] for t in range(p, len(values))])
    design = np.column_stack([rows, np.ones(len(rows))])
    fit = years[p:] <= 1920
    coef, *_ = np.linalg.lstsq(design[fit], values[p:][fit], rcond=None)
    return np.r_[np.full(p, np.nan), design @ coef]


def ar_statsmodels(values: np.ndarray, years: np.ndarray, p: int) -> np.ndarray | None:
    """The same AR(p) by ``statsmodels.tsa.ar_model.AutoReg`` (OLS), as a cross-check; ``None`` without statsmodels
    (``pip install -e ".[bench]"``)."""
    try:
        from statsmodels.tsa.ar_model import AutoReg
    except ImportError:
        return None

    train = values[years <= 1920]
    params = AutoReg(train, lags=p, trend="c").fit().params  # [const, lag 1, ..., lag p]
    out = np.full(len(values), np.nan)
    for t in range(p, len(values)):
        out[t] = params[0] + params[1:] @ values[t - p : t][::-1]
    return out


def sysidentpy_nar(values: np.ndarray, years: np.ndarray, p: int) -> np.ndarray | None:
    """sysidentpy's FROLS polynomial NAR model (degree 2, ``p`` lags, terms chosen by AIC), one-step predictions."""
    try:
        from sysidentpy.basis_function import Polynomial
        from sysidentpy.model_structure_selection import FROLS
        from sysidentpy.parameter_estimation import LeastSquares
    except ImportError:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = FROLS(
            ylag=p,
            model_type="NAR",
            basis_function=Polynomial(degree=2),
            estimator=LeastSquares(),
            order_selection=True,
            info_criteria="aic",
            n_info_values=20,
        )
        model.fit(y=values[years <= 1920].reshape(-1, 1))
        pred = model.predict(y=values.reshape(-1, 1), steps_ahead=1, forecast_horizon=len(values)).ravel()
    pred[:p] = np.nan  # sysidentpy copies the initial lags
    return pred


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=3000)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--selection-seeds", type=int, default=5, help="networks per setting in select_adaptive")
    parser.add_argument("--cv-seeds", type=int, default=CV_SEEDS, help="networks per fold and lambda in the CV")
    parser.add_argument("--workers", type=int, default=2, help="processes for the cross-validation fits")
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny networks: threads only add overhead

    specs = {period: lamina.data.spec("sunspots", test_period=period) for period in PERIODS}
    prepared = {period: spec.prepare() for period, spec in specs.items()}
    first = prepared[PERIODS[0]]
    years, values = first.data.time, first.data.values
    target_years = years[first.time]
    actual = values[first.time]
    masks = {"train": first.train, **{p: prepared[p].test for p in PERIODS}}

    rows: dict[str, dict] = {}
    predictions: dict[str, np.ndarray] = {}
    selection = cv_selection = None
    for name, (make, data_options, strength, fraction) in networks(first.window.lags).items():
        epochs = max(1, round(args.epochs * fraction))
        p = lamina.data.spec("sunspots", **data_options).prepare()
        train = ArrayDataset(p.inputs[p.train], p.targets[p.train])
        adaptive, restarts = None, 1
        if strength == CROSS_VALIDATED:
            start = time.perf_counter()
            cv_selection = select_strength_cv(
                make, p, seeds=args.cv_seeds, epochs=epochs, lr=args.lr, workers=args.workers
            )
            cv_selection["seconds"] = time.perf_counter() - start
            strength = cv_selection["strength"]
            print(
                f"{name}: chose lambda = {strength:g} by cross-validation ({cv_selection['seconds']:.0f} s)", flush=True
            )
        if strength in (ADAPTIVE, BEST_OF):
            if selection is None:
                start = time.perf_counter()
                selection = select_adaptive(make, p, seeds=args.selection_seeds, epochs=epochs, lr=args.lr)
                selection["seconds"] = time.perf_counter() - start
                print(
                    f"{name}: chose D = ARV {selection['desired_arv']}, step {selection['strength_step']:g} on "
                    f"1901-1920 ({selection['seconds']:.0f} s)",
                    flush=True,
                )
            adaptive = adaptive_options(selection["desired_arv"], selection["strength_step"], p)
            restarts = RESTARTS if strength == BEST_OF else 1
            strength = 0.0
        per_seed, preds = [], []
        start = time.perf_counter()
        for seed in range(args.seeds):
            candidates = []
            for k in range(restarts):  # restart k of seed s is seed s + k * seeds: restart 0 is the plain row's net
                model = train_network(
                    make,
                    train,
                    seed=seed + k * args.seeds,
                    epochs=epochs,
                    lr=args.lr,
                    strength=strength,
                    adaptive=adaptive,
                )
                pred = one_step(model, p)[np.isin(p.time, first.time)]  # the same target years for every model
                candidates.append((scores(pred, actual, masks), pred))
            best_score, best_pred = min(candidates, key=lambda c: c[0]["arv_train"])
            preds.append(best_pred)
            per_seed.append(best_score)
        seconds = time.perf_counter() - start
        keys = per_seed[0]
        rows[name] = {
            "mean": {k: float(np.mean([s[k] for s in per_seed])) for k in keys},
            "std": {k: float(np.std([s[k] for s in per_seed])) for k in keys},
            "median": {k: float(np.median([s[k] for s in per_seed])) for k in keys},
            "per_seed": per_seed,
            "seconds": seconds,
            "seeds": args.seeds,
            "epochs": epochs,
            "restarts": restarts,
            "weight_elimination": adaptive or strength,
        }
        ensemble = np.mean(preds, axis=0)
        rows[f"{name}, ensemble of {args.seeds}"] = {"mean": scores(ensemble, actual, masks)}
        predictions[name] = ensemble
        print(f"{name}: {seconds:.1f} s for {args.seeds} seeds", flush=True)

    baselines = {}
    for p in (9, 12):
        full = ar_least_squares(values, years, p)
        cross = ar_statsmodels(values, years, p)
        agree = None if cross is None else float(np.nanmax(np.abs(full - cross)))
        baselines[f"AR({p}) least squares (numpy.linalg.lstsq)"] = (full, {"statsmodels_max_abs_diff": agree})
    nar = sysidentpy_nar(values, years, 12)
    if nar is not None:
        baselines["sysidentpy FROLS polynomial NAR (degree 2, 12 lags, AIC)"] = (nar, {})
    for name, (pred_by_year, extra) in baselines.items():
        pred = pred_by_year[first.time]
        rows[name] = {"mean": scores(pred, actual, masks), **extra}
        predictions[name] = pred

    header = f"{'model':<62} {'train':>13} {'1921-1955':>15} {'1956-1979':>15}   NMSE(own var) 21-55 / 56-79"
    print("\nARV, sigma^2 = 1535 (mean +- std over seeds)\n" + header)
    for name, row in rows.items():
        m, s = row["mean"], row.get("std")
        cells = [f"{m[f'arv_{k}']:.3f}" + (f"+-{s[f'arv_{k}']:.3f}" if s else "") for k in ("train", *PERIODS)]
        print(
            f"{name:<62} {cells[0]:>13} {cells[1]:>15} {cells[2]:>15}   "
            f"{m['nmse_1921-1955']:.3f} / {m['nmse_1956-1979']:.3f}"
        )
        if "median" in row:
            print(
                f"{'':<62} {'median':>13} {row['median']['arv_1921-1955']:>15.3f} "
                f"{row['median']['arv_1956-1979']:>15.3f}"
            )
    for name, (train_arv, a, b) in PUBLISHED.items():
        print(f"{name + ' (published)':<62} {train_arv:>13.3f} {a:>15.3f} {b:>15.3f}")
    ours = [n for n in rows if "AR(" not in n and "sysidentpy" not in n]
    best = min(ours, key=lambda n: rows[n]["mean"]["arv_1921-1955"])
    best_arv = rows[best]["mean"]["arv_1921-1955"]
    print(
        f"\nbest lamina model on 1921-1955: {best}: ARV {best_arv:.3f} (target <= 0.086; "
        f"ratio to Weigend et al. {best_arv / 0.086:.2f})"
    )

    stop = int(np.searchsorted(years, 1979, side="right"))
    shown = [n for n in predictions if "TDNN" in n] + [n for n in predictions if n.startswith("AR(9)")]
    until = target_years <= 1979
    plot_forecast(
        years[:stop],
        values[:stop],
        {n: (target_years[until], predictions[n][until]) for n in shown},
        boundaries={"train | test 1": 1920.5, "test 1 | test 2": 1955.5},
        title="Sunspots: one-step predictions (TDNN: mean of the seeds' predictions)",
        xlabel="year",
        ylabel="yearly sunspot number",
        path=RESULTS / "sunspots_forecast.png",
    )
    path = write_result(
        "sunspots",
        {
            "sigma2": SIGMA2,
            "epochs": args.epochs,
            "lr": args.lr,
            "weight_elimination": WEIGHT_ELIMINATION,
            "adaptive_selection": selection,
            "cv_selection": cv_selection,
            "rows": rows,
            "published": PUBLISHED,
            "best": best,
            "best_arv_1921_1955": best_arv,
            "target": 0.086,
        },
    )
    print(f"wrote {path} and {RESULTS / 'sunspots_forecast.png'}")


if __name__ == "__main__":
    main()
