"""Mackey-Glass (tau = 17, sampled every time unit): one-step and closed-loop 84-step NRMSE of lamina's TDNN and
NARX, each trained with the optimizers in ``OPTIMIZERS`` (the EKF joins automatically once ``ekf`` is registered).

Data: ``[data] name = "mackey_glass"``: 1000 training and 500 test samples after a 500-sample transient. TDNN: the
Lapedes & Farber (1987) taps x(t), x(t-6), x(t-12), x(t-18); NARX: 18 consecutive output lags (no exogenous input,
so a nonlinear autoregression), trained open-loop, run closed-loop. Closed-loop forecasts start at every 5th test
sample that leaves 84 steps: ``nrmse84`` is the error at the 84th step over those origins (Jaeger & Haas, 2004,
report this), ``nrmse_1_84`` over all 84 steps of all origins; one-step NRMSE is over the 500 test samples. NRMSE is
normalised by the standard deviation of the values compared.

    flock /tmp/lamina-cpu.lock python -m benchmarks.mackey_glass          # 3 seeds (about 10 minutes on 2 cores)
    python -m benchmarks.mackey_glass --seeds 1 --scale 0.1               # a quick look
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import lamina
from benchmarks.common import RESULTS, write_result
from lamina.data import ArrayDataset
from lamina.registry import registry
from lamina.timeseries import NARX, TDNN, forecast, nrmse, plot_forecast

HORIZON = 84
ORIGIN_EVERY = 5

# name -> (lamina optimizer table, batch size, epochs at scale 1). An optimizer that needs a closure (L-BFGS,
# Hessian-free, EKF) gets one from the trainer. The EKF (issue 7) row is added below when "ekf" is registered.
OPTIMIZERS: dict[str, tuple[dict, int, int]] = {
    "adam": ({"type": "adam", "lr": 3e-3}, 32, 600),
    "sgd+momentum": ({"type": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True}, 32, 600),
    "lbfgs (full batch)": (
        {"type": "lbfgs", "max_iter": 50, "history_size": 50, "line_search_fn": "strong_wolfe"},
        4096,
        60,
    ),
}
if "ekf" in registry("optimizer"):
    OPTIMIZERS["ekf"] = ({"type": "ekf"}, 1, 10)  # per-sample Kalman updates; options: see lamina.optim.EKF

MODELS = {  # name -> (constructor, [data] options)
    "TDNN 4 taps x6, 20 tanh": (lambda: TDNN(4, hidden=(20,), spacing=6), {"lags": 4, "spacing": 6}),
    "NARX 18 lags, 20 tanh": (lambda: NARX(18, hidden=(20,)), {"lags": 18, "spacing": 1}),
}


def train(make, data: ArrayDataset, optimizer: dict, batch_size: int, epochs: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = make()
    schedule = None if optimizer["type"] in ("lbfgs", "ekf") else {"type": "cosine"}
    lamina.Trainer(
        model,
        loss="mse",
        optimizer=optimizer,
        schedule=schedule,
        epochs=epochs,
        batch_size=min(batch_size, len(data)),
        seed=seed,
    ).fit(data)
    return model.eval()


def evaluate(model: torch.nn.Module, prepared) -> dict:
    p, values = prepared, prepared.data.values
    with torch.no_grad():
        one = p.scaler.inverse_transform(model(p.inputs[p.test])[:, 0].double().numpy())
    start, stop = p.data.test
    origins = np.arange(start, stop - HORIZON + 1, ORIGIN_EVERY)
    histories = np.stack([values[o - 100 : o] for o in origins])  # 100 past values suffice for every delay line
    closed = forecast(model, histories, HORIZON, window=model.window, scaler=p.scaler)  # (origins, 84)
    truth = np.stack([values[o : o + HORIZON] for o in origins])
    by_step = [nrmse(closed[:, k], truth[:, k]) for k in range(HORIZON)]
    return {
        "nrmse_one_step": nrmse(one, values[p.time[p.test]]),
        "nrmse84": by_step[-1],
        "nrmse_1_84": nrmse(closed, truth),
        "nrmse_by_step": by_step,
        "origins": len(origins),
        "example": (origins[0], closed[0].tolist()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every optimizer's epochs")
    parser.add_argument("--optimizers", nargs="*", default=list(OPTIMIZERS), choices=list(OPTIMIZERS))
    args = parser.parse_args()
    torch.set_num_threads(1)

    rows, curves, example = {}, {}, None
    for model_name, (make, data_options) in MODELS.items():
        spec = lamina.data.spec("mackey_glass", **data_options)
        p = spec.prepare()
        data = ArrayDataset(p.inputs[p.train], p.targets[p.train])
        for opt_name in args.optimizers:
            optimizer, batch_size, epochs = OPTIMIZERS[opt_name]
            epochs = max(1, round(epochs * args.scale))
            results, start = [], time.perf_counter()
            for seed in range(args.seeds):
                model = train(make, data, optimizer, batch_size, epochs, seed)
                results.append(evaluate(model, p))
            seconds = (time.perf_counter() - start) / args.seeds
            name = f"{model_name} / {opt_name}"
            keys = ("nrmse_one_step", "nrmse84", "nrmse_1_84")
            rows[name] = {
                **{k: float(np.mean([r[k] for r in results])) for k in keys},
                **{f"{k}_std": float(np.std([r[k] for r in results])) for k in keys},
                "seconds_per_seed": seconds,
                "epochs": epochs,
                "batch_size": batch_size,
                "optimizer": optimizer,
                "seeds": args.seeds,
                "origins": results[0]["origins"],
            }
            curves[name] = np.mean([r["nrmse_by_step"] for r in results], axis=0)
            best_seed = min(results, key=lambda r: r["nrmse_one_step"])
            if example is None or rows[name]["nrmse_one_step"] < example[0]:
                example = (rows[name]["nrmse_one_step"], name, best_seed["example"], p)
            r = rows[name]
            print(
                f"{name:<45} one-step {r['nrmse_one_step']:.5f}+-{r['nrmse_one_step_std']:.5f}  "
                f"84-step {r['nrmse84']:.4f}+-{r['nrmse84_std']:.4f}  steps 1-84 {r['nrmse_1_84']:.4f}  "
                f"{seconds:.1f} s/seed",
                flush=True,
            )

    best = min(rows, key=lambda n: rows[n]["nrmse_one_step"])
    print(
        f"\nbest one-step NRMSE: {best}: {rows[best]['nrmse_one_step']:.5f} (target < 0.01; "
        f"ratio {rows[best]['nrmse_one_step'] / 0.01:.2f}); "
        f"its 84-step closed-loop NRMSE {rows[best]['nrmse84']:.4f}"
    )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lamina.report import save_figure

    fig, ax = plt.subplots(figsize=(8, 4))
    for name, curve in curves.items():
        ax.semilogy(np.arange(1, HORIZON + 1), curve, label=name)
    ax.set_xlabel("steps ahead (time units), closed loop")
    ax.set_ylabel("NRMSE over forecast origins (log scale)")
    ax.set_title(f"Mackey-Glass tau = 17: closed-loop error growth (mean of {args.seeds} seed(s))")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    save_figure(fig, RESULTS / "mackey_glass_nrmse_by_step.png")
    _, name, (origin, values), p = example
    series = p.data.values
    lo = origin - 150
    plot_forecast(
        np.arange(lo, origin + HORIZON),
        series[lo : origin + HORIZON],
        {f"{name}, closed loop": (np.arange(origin, origin + HORIZON), values)},
        boundaries={"forecast origin": origin - 0.5},
        title="Mackey-Glass: 84-step closed-loop forecast",
        xlabel="time (units; test period starts at 1000)",
        ylabel="x(t)",
        path=RESULTS / "mackey_glass_forecast.png",
    )
    path = write_result(
        "mackey_glass",
        {
            "rows": rows,
            "best": best,
            "target_one_step_nrmse": 0.01,
            "horizon": HORIZON,
            "origin_every": ORIGIN_EVERY,
            "published": {"Jaeger & Haas 2004, ESN (1000 units, 3000 training samples), NRMSE84": 10**-4.2},
        },
    )
    print(f"wrote {path}, {RESULTS / 'mackey_glass_nrmse_by_step.png'} and {RESULTS / 'mackey_glass_forecast.png'}")


if __name__ == "__main__":
    main()
