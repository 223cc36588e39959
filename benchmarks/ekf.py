"""EKF training (global and decoupled) vs Adam on Mackey-Glass one-step prediction, and the filters' cost.

The series (tau = 17) is sampled every 6 time units; a 4-lag window ``x(t-18), x(t-12), x(t-6), x(t)`` predicts the
next sample ``x(t+6)`` (the Lapedes & Farber / Jang setting, one step of the sampled series). A 4-H-1 tanh network is
trained on 1000 windows and tested on the next 500: GEKF and node-decoupled EKF (one block per neuron) update after
every example; Adam gets a small grid of learning rates and batch sizes, and its best setting is reported. The
figure of merit is the test NRMSE (RMSE / standard deviation of the targets) after each pass over the data, and the
number of passes Adam needs to reach the NRMSE the filters reach in one.

Cost: microseconds per training sample at two network sizes. GEKF's covariance has ``n^2`` entries for ``n`` weights;
DEKF's has ``sum_b s_b^2`` (blocks of ``s_b`` weights), and its time per sample should follow that sum.

    python benchmarks/ekf.py

Windowing and NRMSE are a few lines of numpy here; once ``lamina.timeseries`` (``make_windows``, ``nrmse``) is merged
this script should use it.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, write_result  # noqa: E402

from lamina.data.series import mackey_glass  # noqa: E402
from lamina.optim import EKF  # noqa: E402
from lamina.optim.ekf_blocks import decoupled_blocks  # noqa: E402

LAGS, TRAIN, TEST = 4, 1000, 500
EKF_OPTIONS = dict(initial_covariance=100.0, measurement_noise=0.1, process_noise=1e-5)  # Haykin's P(0) = 100 I
ADAM_GRID = [(1, 1e-3), (1, 3e-3), (1, 1e-2), (16, 3e-3), (16, 1e-2), (16, 3e-2)]  # (batch size, learning rate)


def windows(series: np.ndarray, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``series[i : i + lags]`` and targets ``series[i + lags]``."""
    x = np.stack([series[i: i + lags] for i in range(len(series) - lags)])
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


def train_ekf(decoupling: str, hidden: int, passes: int, seed: int, splits) -> dict:
    xtr, ytr, xte, yte = splits
    model = network(hidden, seed)
    opt = EKF(model.parameters(), decoupling=decoupling, **EKF_OPTIONS)
    curve, seconds = [], 0.0
    for _ in range(passes):
        start = time.perf_counter()
        for i in range(len(xtr)):  # the classic filter: one update per example, in time order
            opt.step(lambda: ytr[i: i + 1] - model(xtr[i: i + 1]))
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
            idx = order[k: k + batch]
            opt.zero_grad(set_to_none=True)
            (model(xtr[idx]) - ytr[idx]).pow(2).mean().backward()
            opt.step()
        seconds += time.perf_counter() - start
        curve.append(nrmse(model, xte, yte))
    return {"test_nrmse": curve, "us_per_sample": 1e6 * seconds / (passes * len(xtr)), "batch": batch, "lr": lr}


def cost(hidden: int, samples: int, splits) -> dict:
    """Microseconds per sample of each filter on a 4-hidden-1 net, beside n^2 and sum(s_b^2)."""
    xtr, ytr, _, _ = splits
    out = {}
    for decoupling in ("global", "neuron"):
        model = network(hidden, 0)
        params = list(model.parameters())
        blocks = decoupled_blocks(params, decoupling)
        opt = EKF(params, decoupling=decoupling, **EKF_OPTIONS)
        for i in range(10):  # warm-up
            opt.step(lambda: ytr[i: i + 1] - model(xtr[i: i + 1]))
        start = time.perf_counter()
        for i in range(samples):
            opt.step(lambda: ytr[i: i + 1] - model(xtr[i: i + 1]))
        out[decoupling] = {"us_per_sample": 1e6 * (time.perf_counter() - start) / samples,
                           "covariance_entries": int(sum(b.shape[0] * b.shape[1] ** 2 for b in blocks)),
                           "weights": sum(p.numel() for p in params)}
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
    parser.add_argument("--cost-samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    splits = data()
    print(f"Mackey-Glass: {TRAIN} training / {TEST} test windows of {LAGS} lags; 4-{args.hidden}-1 tanh network; "
          f"torch threads {torch.get_num_threads()}", flush=True)
    ekf = {d: train_ekf(d, args.hidden, args.ekf_passes, args.seed, splits) for d in ("global", "neuron")}
    for d, r in ekf.items():
        print(f"  EKF {d:6s}: test NRMSE per pass {[round(v, 4) for v in r['test_nrmse']]}, "
              f"{r['us_per_sample']:.0f} us/sample", flush=True)
    adam = [train_adam(b, lr, args.hidden, args.adam_passes, args.seed, splits) for b, lr in ADAM_GRID]
    for r in adam:
        print(f"  Adam batch {r['batch']:2d} lr {r['lr']:g}: best test NRMSE {min(r['test_nrmse']):.4f}, after 1 pass "
              f"{r['test_nrmse'][0]:.4f}, {r['us_per_sample']:.0f} us/sample", flush=True)
    one_pass = max(r["test_nrmse"][0] for r in ekf.values())  # the worse of the two filters after one pass

    def passes_to(curve: list[float]) -> int | None:
        return next((i + 1 for i, v in enumerate(curve) if v <= one_pass), None)

    best = min(adam, key=lambda r: passes_to(r["test_nrmse"]) or args.adam_passes + 1)
    needed = passes_to(best["test_nrmse"])
    print(f"\nboth filters after one pass: NRMSE <= {one_pass:.4f}; the best Adam (batch {best['batch']}, lr "
          f"{best['lr']:g}) needs {needed if needed else f'more than {args.adam_passes}'} passes for it "
          f"(target: >= 10)")
    costs = {int(h): cost(int(h), args.cost_samples, splits) for h in args.cost_sizes.split(",")}
    print("\ncost per training sample (filter update and Jacobian):")
    for h, c in costs.items():
        for d, r in c.items():
            print(f"  4-{h}-1 ({r['weights']} weights) {d:6s}: {r['us_per_sample']:8.0f} us/sample, covariance "
                  f"{r['covariance_entries']:,} entries")
    small, large = (costs[int(h)] for h in args.cost_sizes.split(",")[:2])
    for d in ("global", "neuron"):
        print(f"  {d}: time x{large[d]['us_per_sample'] / small[d]['us_per_sample']:.1f} from the small to the large "
              f"net; covariance entries x{large[d]['covariance_entries'] / small[d]['covariance_entries']:.1f}")
    figure = RESULTS / "ekf_mackey_glass.png"
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot({"GEKF (global)": ekf["global"]["test_nrmse"], "DEKF (per neuron)": ekf["neuron"]["test_nrmse"],
          f"Adam (batch {best['batch']}, lr {best['lr']:g})": best["test_nrmse"]}, figure)
    path = write_result("ekf", {
        "task": "Mackey-Glass tau=17, sampled every 6, 4 lags -> next sample", "hidden": args.hidden,
        "ekf_options": EKF_OPTIONS, "ekf": ekf, "adam_grid": adam, "ekf_one_pass_nrmse": one_pass,
        "adam_best": {"batch": best["batch"], "lr": best["lr"]}, "adam_passes_to_ekf_one_pass": needed,
        "target_met": needed is None or needed >= 10, "cost": costs, "figure": figure.name})
    print(f"wrote {path} and {figure}")


if __name__ == "__main__":
    main()
