"""EKF training (global and decoupled) vs Adam on Mackey-Glass one-step prediction, and the filters' cost.

The series (tau = 17) is sampled every 6 time units; a 4-lag window ``x(t-18), x(t-12), x(t-6), x(t)`` predicts the
next sample ``x(t+6)`` (the Lapedes & Farber / Jang setting, one step of the sampled series). A 4-H-1 tanh network is
trained on 1000 windows and tested on the next 500: GEKF and node-decoupled EKF (one block per neuron) update after
every example, with P(0), R (optionally annealed over the first pass) and Q chosen per filter on a validation split
(``--tune`` reruns that search: training on the first 800 windows, scoring on the last 200); Adam gets a grid of
learning rates and batch sizes, and its best setting for each comparison is reported. The figure of merit is the test
NRMSE (RMSE / standard deviation of the targets) after each pass over the data, and the number of passes Adam needs
to reach the NRMSE each filter reaches in one.

Cost: microseconds per training sample at two network sizes. GEKF's covariance has ``n^2`` entries for ``n`` weights;
DEKF's has ``sum_b s_b^2`` (blocks of ``s_b`` weights), and its time per sample should follow that sum.

    python -m benchmarks.ekf              # about 5 minutes on 2 cores
    python -m benchmarks.ekf --tune       # the filters' validation search first (about 4 more minutes)

Windowing and NRMSE are a few lines of numpy here; once ``lamina.timeseries`` (``make_windows``, ``nrmse``) is merged
this script should use it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from benchmarks.common import RESULTS, write_result
from lamina.data.series import mackey_glass
from lamina.optim import EKF
from lamina.optim.ekf_blocks import decoupled_blocks

LAGS, TRAIN, TEST = 4, 1000, 500
# what --tune chose on the validation split (benchmarks/results/ekf.json records the run that chose them)
# (re-run 2026-12-04 on the fourth-order Mackey-Glass integrator; the first run's series came from the Euler one)
EKF_OPTIONS = {
    "global": dict(
        initial_covariance=10.0,
        measurement_noise=1.0,
        measurement_noise_final=0.01,
        anneal_steps=800,
        process_noise=1e-5,
    ),
    "neuron": dict(initial_covariance=100.0, measurement_noise=0.1, process_noise=1e-4),
}
ADAM_GRID = [(1, 1e-3), (1, 3e-3), (1, 1e-2), (16, 3e-3), (16, 1e-2), (16, 3e-2)]  # (batch size, learning rate)


def windows(series: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``series[i : i + lags]`` and targets ``series[i + lags]``."""
    x = np.stack([series[i : i + lags] for i in range(len(series) - lags)])
    return x, series[lags:]


def nrmse(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Root mean squared error over the targets' standard deviation."""
    with torch.no_grad():
        return float((model(x) - y).pow(2).mean().sqrt() / y.std())


def network(hidden: int, seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(LAGS, hidden), nn.Tanh(), nn.Linear(hidden, 1))


def data() -> tuple[torch.Tensor, ...]:
    series = mackey_glass(TRAIN + TEST + LAGS, tau=17.0, sample_every=6.0)
    mean, std = series[: TRAIN + LAGS].mean(), series[: TRAIN + LAGS].std()  # training statistics only
    x, y = windows((series - mean) / std, LAGS)
    x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32).unsqueeze(1)
    return x[:TRAIN], y[:TRAIN], x[TRAIN:], y[TRAIN:]


def train_ekf(decoupling: str, hidden: int, passes: int, seed: int, splits, options: dict | None = None) -> dict:
    xtr, ytr, xte, yte = splits
    model = network(hidden, seed)
    opt = EKF(model.parameters(), decoupling=decoupling, **(options or EKF_OPTIONS[decoupling]))
    curve, seconds = [], 0.0
    for _ in range(passes):
        start = time.perf_counter()
        for i in range(len(xtr)):  # the classic filter: one update per example, in time order
            opt.step(lambda: ytr[i : i + 1] - model(xtr[i : i + 1]))
        seconds += time.perf_counter() - start
        curve.append(nrmse(model, xte, yte))
    return {"test_nrmse": curve, "us_per_sample": 1e6 * seconds / (passes * len(xtr))}


def train_adam(batch: int, lr: float, hidden: int, passes: int, seed: int, splits) -> dict:
    xtr, ytr, xte, yte = splits
    model = network(hidden, seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    curve, seconds = [], 0.0
    for _ in range(passes):
        start = time.perf_counter()
        order = torch.randperm(len(xtr), generator=g)
        for k in range(0, len(xtr), batch):
            idx = order[k : k + batch]
            opt.zero_grad(set_to_none=True)
            (model(xtr[idx]) - ytr[idx]).pow(2).mean().backward()
            opt.step()
        seconds += time.perf_counter() - start
        curve.append(nrmse(model, xte, yte))
    return {"test_nrmse": curve, "us_per_sample": 1e6 * seconds / (passes * len(xtr)), "batch": batch, "lr": lr}


def tune(splits, hidden: int, seed: int) -> dict[str, dict]:
    """Each filter's best (P(0), R, R annealed or not, Q) by one pass on 800 windows, scored on the next 200."""
    xtr, ytr, _, _ = splits
    fit, held_out = (xtr[:800], ytr[:800]), (xtr[800:], ytr[800:])
    best = {}
    for decoupling in ("global", "neuron"):
        scores = []
        for p0 in (1.0, 10.0, 100.0):
            for r in (1.0, 0.1, 0.01):
                for final in (None, r / 100):
                    for q in (1e-4, 1e-5, 1e-6):
                        options = dict(
                            initial_covariance=p0,
                            measurement_noise=r,
                            measurement_noise_final=final,
                            anneal_steps=800,
                            process_noise=q,
                        )
                        score = train_ekf(decoupling, hidden, 1, seed, (*fit, *held_out), options)["test_nrmse"][0]
                        scores.append((score, options))
        score, best[decoupling] = min(scores, key=lambda t: t[0])
        print(f"  tuned {decoupling}: validation NRMSE {score:.4f} with {best[decoupling]}", flush=True)
    return best


def cost(hidden: int, samples: int, splits, repeats: int = 3) -> dict:
    """Microseconds per sample of each filter on a 4-hidden-1 net (one thread, the fastest of ``repeats`` timings),
    beside the covariance's entries: n^2 for GEKF, sum(s_b^2) for DEKF."""
    xtr, ytr, _, _ = splits
    out, threads = {}, torch.get_num_threads()
    torch.set_num_threads(1)  # per-sample updates are small: threads add contention noise, not speed
    try:
        for decoupling in ("global", "neuron"):
            model = network(hidden, 0)
            params = list(model.parameters())
            blocks = decoupled_blocks(params, decoupling)
            opt = EKF(params, decoupling=decoupling, **EKF_OPTIONS[decoupling])
            for i in range(10):  # warm-up
                opt.step(lambda: ytr[i : i + 1] - model(xtr[i : i + 1]))
            timings = []
            for _ in range(repeats):
                start = time.perf_counter()
                for i in range(samples):
                    opt.step(lambda: ytr[i : i + 1] - model(xtr[i : i + 1]))
                timings.append(1e6 * (time.perf_counter() - start) / samples)
            out[decoupling] = {
                "us_per_sample": min(timings),
                "timings": timings,
                "covariance_entries": int(sum(b.shape[0] * b.shape[1] ** 2 for b in blocks)),
                "weights": sum(p.numel() for p in params),
            }
    finally:
        torch.set_num_threads(threads)
    return out


def plot(curves: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, curve in curves.items():
        ax.plot(range(1, len(curve) + 1), curve, marker="o" if len(curve) < 15 else None, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("passes over the 1000 training windows")
    ax.set_ylabel("test NRMSE (RMSE / std of targets)")
    ax.set_title("Mackey-Glass (tau = 17) one-step prediction, 4-10-1 tanh network")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=10)
    parser.add_argument("--ekf-passes", type=int, default=5)
    parser.add_argument("--adam-passes", type=int, default=100)
    parser.add_argument("--cost-sizes", default="10,400", help="hidden sizes for the cost comparison")
    parser.add_argument("--cost-samples", type=int, default=200)
    parser.add_argument("--tune", action="store_true", help="search the filters' P(0), R, Q on a validation split")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    splits = data()
    print(
        f"Mackey-Glass: {TRAIN} training / {TEST} test windows of {LAGS} lags; 4-{args.hidden}-1 tanh network; "
        f"torch threads {torch.get_num_threads()}",
        flush=True,
    )
    if args.tune:
        EKF_OPTIONS.update(tune(splits, args.hidden, args.seed))
    ekf = {d: train_ekf(d, args.hidden, args.ekf_passes, args.seed, splits) for d in ("global", "neuron")}
    for d, r in ekf.items():
        print(
            f"  EKF {d:6s}: test NRMSE per pass {[round(v, 4) for v in r['test_nrmse']]}, "
            f"{r['us_per_sample']:.0f} us/sample",
            flush=True,
        )
    adam = [train_adam(b, lr, args.hidden, args.adam_passes, args.seed, splits) for b, lr in ADAM_GRID]
    for r in adam:
        print(
            f"  Adam batch {r['batch']:2d} lr {r['lr']:g}: best test NRMSE {min(r['test_nrmse']):.4f}, after 1 pass "
            f"{r['test_nrmse'][0]:.4f}, {r['us_per_sample']:.0f} us/sample",
            flush=True,
        )
    comparisons = {}
    for d, r in ekf.items():
        one_pass = r["test_nrmse"][0]

        def passes_to(curve: list[float], level: float = one_pass) -> int | None:
            return next((i + 1 for i, v in enumerate(curve) if v <= level), None)

        best = min(adam, key=lambda a: passes_to(a["test_nrmse"]) or args.adam_passes + 1)
        needed = passes_to(best["test_nrmse"])
        comparisons[d] = {
            "ekf_one_pass_nrmse": one_pass,
            "adam_batch": best["batch"],
            "adam_lr": best["lr"],
            "adam_passes": needed,
            "adam_curve": best["test_nrmse"],
            "target_met": needed is None or needed >= 10,
        }
        print(
            f"\nEKF {d} after one pass: NRMSE {one_pass:.4f}; the quickest Adam to it (batch {best['batch']}, lr "
            f"{best['lr']:g}) needs {needed if needed else f'more than {args.adam_passes}'} passes (target: >= 10)"
        )
    costs = {int(h): cost(int(h), args.cost_samples, splits) for h in args.cost_sizes.split(",")}
    print("\ncost per training sample (filter update and Jacobian):")
    for h, c in costs.items():
        for d, r in c.items():
            print(
                f"  4-{h}-1 ({r['weights']} weights) {d:6s}: {r['us_per_sample']:8.0f} us/sample, covariance "
                f"{r['covariance_entries']:,} entries"
            )
    small, large = (costs[int(h)] for h in args.cost_sizes.split(",")[:2])
    for d in ("global", "neuron"):
        print(
            f"  {d}: time x{large[d]['us_per_sample'] / small[d]['us_per_sample']:.1f} from the small to the large "
            f"net; covariance entries x{large[d]['covariance_entries'] / small[d]['covariance_entries']:.1f}"
        )
    figure = RESULTS / "ekf_mackey_glass.png"
    RESULTS.mkdir(parents=True, exist_ok=True)
    quickest = comparisons["global"]
    plot(
        {
            "GEKF (global)": ekf["global"]["test_nrmse"],
            "DEKF (per neuron)": ekf["neuron"]["test_nrmse"],
            f"Adam (batch {quickest['adam_batch']}, lr {quickest['adam_lr']:g})": quickest["adam_curve"],
        },
        figure,
    )
    path = write_result(
        "ekf",
        {
            "task": "Mackey-Glass tau=17, sampled every 6, 4 lags -> next sample",
            "hidden": args.hidden,
            "ekf_options": EKF_OPTIONS,
            "ekf": ekf,
            "adam_grid": adam,
            "comparisons": comparisons,
            "target_met": all(c["target_met"] for c in comparisons.values()),
            "cost": costs,
            "figure": figure.name,
        },
    )
    print(f"wrote {path} and {figure}")


if __name__ == "__main__":
    main()
