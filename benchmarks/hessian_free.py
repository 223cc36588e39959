"""Hessian-free vs SGD with momentum vs Adam: a deep MNIST autoencoder from random initialisation, equal wall time.

Martens (2010) trained Hinton & Salakhutdinov's (2006) 784-1000-500-250-30 autoencoder from a sparse random
initialisation, without pretraining, to a training squared error of 1.64 per image (RAND+HF). This script gives each
method the same training time (evaluation excluded) and records the train and test squared reconstruction error
``sum_pixels (x - x_hat)^2`` per image, averaged over images, along the way.

    python -m benchmarks.hessian_free                       # CPU scale: 10k training images, 784-400-200-100-30
    python -m benchmarks.hessian_free --scale paper         # Martens' net on all 60k images (for a GPU; hours)
    python -m benchmarks.hessian_free --methods hf,hf_bf16,sgd,adam,adam_bf16    # with the bfloat16 variants

The network: logistic hidden units, a linear 30-unit code, logistic outputs trained with cross-entropy (the matching
loss for HF); every method starts from the same sparse initialisation (Martens, 2010, section 5: 15 incoming
N(0, 1) weights per unit, zero biases).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

import lamina
from benchmarks.common import RESULTS, write_result
from lamina.optim import HessianFree
from lamina.train import Closure

PUBLISHED_TRAIN = 1.64  # Martens (2010), Table 1, MNIST, RAND+HF
SCALES = {
    # the CPU scale keeps one HF step near a second on 2 cores: 2000-example gradient batches, curvature on 500 of
    # them, CG <= 30 (CG hits its cap on every step; 30 beat 20 and 50 at equal time: results/second_order.md).
    # Full-batch HF (--hf-batch 10000 --hf-curvature 0.1 --hf-cg-max-iter 100) is slower per unit time
    "cpu": dict(
        widths=[784, 400, 200, 100, 30], subset=10_000, seconds=300.0, hf_batch=2000, curvature=0.25, cg_max_iter=30
    ),
    "paper": dict(
        widths=[784, 1000, 500, 250, 30],
        subset=None,
        seconds=4 * 3600.0,
        hf_batch=60_000,
        curvature=0.1,
        cg_max_iter=250,
    ),
}


def sparse_init_(model: nn.Module, generator: torch.Generator, fan: int = 15) -> None:
    """Martens' sparse initialisation: each unit gets ``fan`` nonzero N(0, 1) incoming weights; biases are 0."""
    for layer in model.modules():
        if isinstance(layer, nn.Linear):
            with torch.no_grad():
                layer.weight.zero_()
                layer.bias.zero_()
                for row in layer.weight:
                    idx = torch.randperm(row.numel(), generator=generator)[:fan]
                    row[idx] = torch.randn(len(idx), generator=generator)


def autoencoder(widths: list[int]) -> nn.Sequential:
    """784-...-30 logistic encoder with a linear code, mirrored decoder; outputs logits."""
    layers: list[nn.Module] = []
    sizes = widths + widths[-2::-1]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i != len(widths) - 2 and i != len(sizes) - 2:  # linear code layer, logits at the end
            layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


@torch.no_grad()
def squared_error(model: nn.Module, x: torch.Tensor, batch: int = 5000) -> float:
    """Mean over images of sum over pixels of (x - sigmoid(logits))^2."""
    total = 0.0
    for start in range(0, len(x), batch):
        xb = x[start : start + batch]
        total += float((torch.sigmoid(model(xb)) - xb).pow(2).sum())
    return total / len(x)


class Method:
    """One optimizer's loop: ``work()`` does a slice of training; the driver times it.

    ``name`` is ``hf``, ``sgd`` or ``adam``, with ``_bf16`` for the bfloat16 variant: HF's Gauss-Newton products
    under bf16 autocast (``curvature_precision="bf16"``; gradient and line search in float32), SGD's and Adam's
    forward and backward passes under bf16 autocast (mixed-precision training; the weights stay float32).
    ``loss(outputs, x)`` is the reconstruction loss on the net's outputs: cross-entropy on logits (the default), or
    ``F.mse_loss`` for linear outputs."""

    def __init__(
        self,
        name: str,
        model: nn.Module,
        x: torch.Tensor,
        generator: torch.Generator,
        scale: dict,
        lr: float,
        loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.binary_cross_entropy_with_logits,
    ) -> None:
        self.name, self.model, self.x, self.generator, self.loss = name, model, x, generator, loss
        self.base, self.bf16 = name.removesuffix("_bf16"), name.endswith("_bf16")
        if self.base == "hf":
            self.opt = HessianFree(
                model.parameters(),
                damping=0.05,
                cg_max_iter=scale["cg_max_iter"],
                curvature_batch=scale["curvature"],
                preconditioner="empirical_fisher",
                curvature_precision="bf16" if self.bf16 else "fp32",
            )
            self.batch = min(scale["hf_batch"], len(x))
        else:
            self.opt = (
                torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
                if self.base == "sgd"
                else torch.optim.Adam(model.parameters(), lr=lr)
            )
            self.batch = 100
        self.order, self.position = torch.randperm(len(x), generator=generator), 0

    def _next(self, size: int) -> torch.Tensor:
        if self.position + size > len(self.x):
            self.order, self.position = torch.randperm(len(self.x), generator=self.generator), 0
        idx = self.order[self.position : self.position + size]
        self.position += size
        return self.x[idx]

    def optimizer_state(self) -> dict[str, float]:
        """HF's last step as it stands (``damping``, ``rho``, ``cg_iterations``, ``step_size``); empty for the
        first-order methods. Recorded beside each evaluation, it shows what the damping did when the error moved."""
        if self.base != "hf" or not self.opt.state:
            return {}
        state = next(iter(self.opt.state.values()))
        keys = ("damping", "rho", "cg_iterations", "step_size")
        return {k: float(state[k]) for k in keys if k in state and math.isfinite(float(state[k]))}

    def work(self) -> None:
        if self.base == "hf":
            xb = self._next(self.batch)
            self.opt.step(Closure(self.model, xb, xb, self.loss))
            return
        autocast = torch.autocast(self.x.device.type, dtype=torch.bfloat16, enabled=self.bf16)
        for _ in range(20):
            xb = self._next(self.batch)
            self.opt.zero_grad(set_to_none=True)
            with autocast:
                loss = self.loss(self.model(xb), xb)
            loss.backward()
            self.opt.step()


def run(method: Method, train: torch.Tensor, test: torch.Tensor, seconds: float, points: int) -> list[dict]:
    curve = [{"seconds": 0.0, "train": squared_error(method.model, train), "test": squared_error(method.model, test)}]
    elapsed, next_eval = 0.0, seconds / points
    while elapsed < seconds:
        start = time.perf_counter()
        method.work()
        elapsed += time.perf_counter() - start
        if elapsed >= next_eval or elapsed >= seconds:
            curve.append(
                {
                    "seconds": elapsed,
                    "train": squared_error(method.model, train),
                    "test": squared_error(method.model, test),
                }
            )
            print(
                f"  {method.name:5s} {elapsed:7.1f}s  train {curve[-1]['train']:.3f}  test {curve[-1]['test']:.3f}",
                flush=True,
            )
            while next_eval <= elapsed:
                next_eval += seconds / points
    return curve


def at(curve: list[dict], seconds: float) -> dict:
    """The last measurement at or before ``seconds`` (the final one for the whole budget, which the last slice of
    work may overrun by one HF step or 20 minibatches; its time is reported)."""
    return [c for c in curve if c["seconds"] <= seconds + 1e-9][-1]


def probe(name: str, rates: list[float], train: torch.Tensor, scale: dict, seconds: float, seed: int) -> float:
    """The learning rate of ``rates`` with the lowest training error after ``seconds`` of training."""
    errors = {}
    for lr in rates:
        model = autoencoder(scale["widths"])
        sparse_init_(model, torch.Generator().manual_seed(seed))
        model.to(train.device)
        method, elapsed = Method(name, model, train, torch.Generator().manual_seed(seed + 1), scale, lr), 0.0
        while elapsed < seconds:
            start = time.perf_counter()
            method.work()
            elapsed += time.perf_counter() - start
        errors[lr] = squared_error(model, train)
        errors[lr] = errors[lr] if math.isfinite(errors[lr]) else math.inf
    print(
        f"  {name} learning-rate probe ({seconds:.0f} s each): "
        + ", ".join(f"{lr:g}: {e:.2f}" for lr, e in errors.items()),
        flush=True,
    )
    return min(errors, key=errors.get)


def plot(curves: dict[str, list[dict]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    labels = {"hf": "Hessian-free", "sgd": "SGD + momentum", "adam": "Adam"}
    labels.update({f"{k}_bf16": f"{v}, bf16" for k, v in labels.items()})
    for (name, curve), color in zip(curves.items(), ("C0", "C1", "C2", "C3", "C4", "C5")):
        t = [c["seconds"] for c in curve]
        ax.plot(t, [c["train"] for c in curve], color=color, label=f"{labels[name]} (train)")
        ax.plot(t, [c["test"] for c in curve], color=color, linestyle="--", label=f"{labels[name]} (test)")
    ax.set_yscale("log")
    ax.set_xlabel("training time (s, evaluation excluded)")
    ax.set_ylabel("squared reconstruction error per image")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="cpu")
    parser.add_argument("--seconds", type=float, help="training time per method (default: the scale's)")
    parser.add_argument(
        "--methods",
        default="hf,sgd,adam",
        help="comma-separated among hf, sgd, adam and their bfloat16 variants hf_bf16, sgd_bf16, adam_bf16",
    )
    parser.add_argument("--train-subset", type=int, help="training images (default: the scale's)")
    parser.add_argument(
        "--sgd-lr", type=float, nargs="+", default=[0.3, 1.0, 3.0, 10.0], help="learning rates to probe (one: no probe)"
    )
    parser.add_argument("--adam-lr", type=float, nargs="+", default=[3e-4, 1e-3, 3e-3, 1e-2])
    parser.add_argument("--probe-seconds", type=float, default=15.0)
    parser.add_argument("--hf-batch", type=int, help="examples per HF step (gradient batch; default: the scale's)")
    parser.add_argument("--hf-curvature", type=float, help="fraction of the HF batch for curvature products")
    parser.add_argument("--hf-cg-max-iter", type=int)
    parser.add_argument("--points", type=int, default=16, help="evaluations along each curve")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    scale = dict(SCALES[args.scale])
    chosen = {"hf_batch": args.hf_batch, "curvature": args.hf_curvature, "cg_max_iter": args.hf_cg_max_iter}
    for key, value in chosen.items():
        if value is not None:
            scale[key] = value
    seconds = args.seconds or scale["seconds"]
    device = torch.device(args.device)
    subset = args.train_subset or scale["subset"]
    splits = lamina.data.load("mnist", flatten=True, scale="unit", validation=0, train_subset=subset)
    train, test = splits.train.x.to(device), splits.test.x.to(device)
    print(
        f"MNIST {len(train)} train / {len(test)} test images, net {scale['widths']} (mirrored), {seconds:.0f} s "
        f"per method, torch threads {torch.get_num_threads()}",
        flush=True,
    )
    methods = args.methods.split(",")
    lrs = {"hf": 1.0, "hf_bf16": 1.0}
    for name in methods:
        rates = {"sgd": args.sgd_lr, "adam": args.adam_lr}.get(name.removesuffix("_bf16"))
        if rates is not None:
            lrs[name] = rates[0] if len(rates) == 1 else probe(name, rates, train, scale, args.probe_seconds, args.seed)
    curves = {}
    for name in methods:
        model = autoencoder(scale["widths"])
        sparse_init_(model, torch.Generator().manual_seed(args.seed))
        model.to(device)
        method = Method(name, model, train, torch.Generator().manual_seed(args.seed + 1), scale, lrs[name])
        print(f"{name}:", flush=True)
        curves[name] = run(method, train, test, seconds, args.points)
    rows = {
        name: {f"{frac:g}T": at(c, frac * seconds if frac < 1 else math.inf) for frac in (0.25, 0.5, 1.0)}
        for name, c in curves.items()
    }
    final = {name: rows[name]["1T"]["train"] for name in rows}
    best = min(final, key=final.get)
    print(f"\nsquared error per image after {seconds:.0f} s (train / test):")
    for name, r in rows.items():
        print(
            f"  {name:5s} (lr {lrs[name]:g}) "
            + "   ".join(f"{k} ({v['seconds']:.0f} s): {v['train']:.3f} / {v['test']:.3f}" for k, v in r.items())
        )
    if "hf" in final:
        for other in (n for n in final if n != "hf"):
            print(f"  {other} / hf train error ratio at {seconds:.0f} s: {final[other] / final['hf']:.2f}")
    print(f"  lowest train error at equal time: {best}; published (paper scale, RAND+HF): train {PUBLISHED_TRAIN}")
    tag = f"hessian_free_{args.scale}" + (f"_{args.tag}" if args.tag else "")
    figure = RESULTS / f"{tag}.png"
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(
        curves,
        figure,
        f"Deep MNIST autoencoder {'-'.join(map(str, scale['widths']))}, {len(train) // 1000}k images, equal time",
    )
    path = write_result(
        tag,
        {
            "scale": args.scale,
            "hf_settings": {k: scale[k] for k in ("hf_batch", "curvature", "cg_max_iter")},
            "widths": scale["widths"],
            "train_images": len(train),
            "seconds_per_method": seconds,
            "learning_rates": {k: v for k, v in lrs.items() if k in curves},
            "table": rows,
            "lowest_train_error_at_equal_time": best,
            "published_train_error_rand_hf": PUBLISHED_TRAIN,
            "target_met": best.startswith("hf")
            if args.scale == "cpu"
            else min(final.get("hf", math.inf), final.get("hf_bf16", math.inf)) <= 1.7,
            "curves": curves,
            "figure": str(figure.name),
        },
    )
    print(f"wrote {path} and {figure}")


if __name__ == "__main__":
    main()
