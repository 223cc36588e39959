"""Why deep nets were hard to train, in one figure: per-layer gradient norms of a 10-layer MLP on MNIST at
initialisation and after one epoch, for six variants:

    sigmoid          "standard" init U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (torch's default; Glorot & Bengio's baseline)
    tanh             the same init
    relu             He init (He et al., 2015)
    relu_batchnorm   He init, batch normalization before each ReLU (Ioffe & Szegedy, 2015)
    orthogonal       tanh with orthogonal weights (Saxe et al., 2014)
    rbm_pretrained   sigmoid, each hidden layer pretrained as an RBM (Hinton et al., 2006), through the registry

The measurements are lamina's (``lamina.diagnostics.gradient_flow``); the competitor is a hand-written PyTorch
backward whose per-layer ``p.grad`` norms must agree. Beside them the closed-form bound for the sigmoid net
(``||delta_l|| <= 1/4 ||W_{l+1}||_2 ||delta_{l+1}||``) and the published qualitative findings.

    flock /tmp/lamina-cpu.lock python -m benchmarks.vanishing_gradients              # reduced: 1 epoch, width 256
    python -m benchmarks.vanishing_gradients --width 1000 --epochs 1                  # wider, as in the seeds' nets

Writes benchmarks/results/vanishing_gradients.{json,png} and benchmarks/results/diagnostics.md.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

import lamina
from benchmarks.common import RESULTS, write_result
from lamina.diagnostics import gradient_flow


@dataclass
class Variant:
    """One network of the comparison."""

    name: str
    activation: str
    init: object = None
    batchnorm: bool = False
    pretrain: str | None = None
    expected: str = ""
    label: str = ""
    notes: list[str] = field(default_factory=list)


VARIANTS = [
    Variant(
        "sigmoid",
        "sigmoid",
        expected="vanishes towards the input (each layer: at most 1/4 ||W||_2)",
        label="sigmoid, standard init",
    ),
    Variant(
        "tanh",
        "tanh",
        expected="decreases towards the input (Glorot & Bengio 2010, Fig. 7)",
        label="tanh, standard init",
    ),
    Variant("relu", "relu", init="he", expected="about constant with depth (He et al. 2015)", label="ReLU, He init"),
    Variant(
        "relu_batchnorm",
        "relu",
        init="he",
        batchnorm=True,
        expected="about constant (Ioffe & Szegedy 2015)",
        label="ReLU + batchnorm",
    ),
    Variant(
        "orthogonal",
        "tanh",
        init={"type": "orthogonal", "gain": 1.0},
        expected="about constant (Saxe et al. 2014)",
        label="tanh, orthogonal init",
    ),
    Variant(
        "rbm_pretrained",
        "sigmoid",
        pretrain="rbm",
        expected="lower layers start with useful gradients (Hinton et al. 2006; Erhan et al. 2010)",
        label="sigmoid, RBM-pretrained",
    ),
]


def build(variant: Variant, depth: int, width: int, seed: int) -> nn.Module:
    """``depth`` dense layers: ``depth - 1`` hidden layers of ``width`` units and a 10-way output layer."""
    layers = []
    for i in range(1, depth):
        if variant.batchnorm:
            layers += [
                {"type": "dense", "units": width, "init": variant.init, "name": f"fc{i}"},
                {"type": "batchnorm"},
                {"type": variant.activation},
            ]
        else:
            layers.append(
                {
                    "type": "dense",
                    "units": width,
                    "activation": variant.activation,
                    "init": variant.init,
                    "name": f"fc{i}",
                }
            )
    layers.append({"type": "dense", "units": 10, "init": variant.init, "name": f"fc{depth}"})
    layers = [{k: v for k, v in layer.items() if v is not None} for layer in layers]
    torch.manual_seed(seed)
    return lamina.build_model(layers, (784,))


def pretrain(variant: Variant, model: nn.Module, train, epochs: int, seed: int) -> None:
    """Greedy RBM pretraining through the registry; a clear error while the method is not installed."""
    try:
        # weight cost 0.0002: the paper's, rbm's default before issue 25 made it a preset
        spec = lamina.resolve(
            "pretrain", {"method": variant.pretrain, "epochs": epochs, "weight_decay": 0.0002}, path="pretrain"
        )
    except lamina.ConfigError as err:
        raise RuntimeError(
            f"variant {variant.name!r} needs the pretraining method {variant.pretrain!r}, which is not "
            f"registered in this lamina ({err}); it arrives with lamina's RBM (issue 5)"
        ) from None
    with tempfile.TemporaryDirectory() as tmp:  # the method's per-layer checkpoints and figures: not kept
        (Path(tmp) / "checkpoints").mkdir()
        spec.pretrain(model, train, device="cpu", seed=seed, folder=Path(tmp) / "checkpoints")


def torch_weight_grad_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """The competitor: a plain PyTorch backward, then each nn.Linear's ``weight.grad`` norm."""
    model.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(model(x), y).backward()
    norms = [m.weight.grad.norm().item() for m in model.modules() if isinstance(m, nn.Linear)]
    model.zero_grad(set_to_none=True)
    return norms


def measure(model: nn.Module, x: torch.Tensor, y: torch.Tensor, depth: int) -> dict:
    names = [f"fc{i}" for i in range(1, depth + 1)]
    start = time.perf_counter()
    flow = gradient_flow(model, (x, y), layers=names)
    lamina_s = time.perf_counter() - start
    start = time.perf_counter()
    reference = torch_weight_grad_norms(model, x, y)
    torch_s = time.perf_counter() - start
    grads = [r.grad_norm for r in flow.layers]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return {
        "grad_norm": grads,
        "delta_norm": [r.delta_norm for r in flow.layers],
        "weight_norm": [r.weight_norm for r in flow.layers],
        "loss": flow.loss,
        "spectral_norm": [torch.linalg.matrix_norm(m.weight.detach(), ord=2).item() for m in linears],
        "max_rel_diff_vs_torch": max(abs(a - b) / b for a, b in zip(grads, reference)),
        "time_ratio_vs_torch": lamina_s / torch_s,
    }


def shrink(values: list[float]) -> float:
    """Geometric mean of ``v_l / v_{l+1}`` over layers: the per-layer factor from output to input."""
    return math.exp((math.log(values[0]) - math.log(values[-1])) / (len(values) - 1))


def run_variant(variant: Variant, splits, probe, args) -> dict:
    model = build(variant, args.depth, args.width, args.seed)
    start = time.perf_counter()
    if variant.pretrain:
        pretrain(variant, model, splits.train, args.pretrain_epochs, args.seed)
    model.train()
    at_init = measure(model, *probe, args.depth)
    trainer = lamina.Trainer(
        model,
        loss="cross_entropy",
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer={"type": "sgd", "lr": args.lr, "momentum": args.momentum},
        seed=args.seed,
        device="cpu",
    )
    trainer.fit(splits.train)
    model.train()
    after = measure(model, *probe, args.depth)
    accuracy = trainer.evaluate(splits.validation)["accuracy"]
    return {
        "status": "ok",
        "at_init": at_init,
        "after": after,
        "val_accuracy": accuracy,
        "seconds": time.perf_counter() - start,
    }


def plot(results: dict, variants: list[Variant], args, path: Path) -> Path:
    import matplotlib.pyplot as plt

    from lamina.report import save_figure

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    layers = list(range(1, args.depth + 1))
    for ax, key, when in (
        (axes[0], "at_init", "at initialisation"),
        (axes[1], "after", f"after {args.epochs} epoch" + ("s" if args.epochs > 1 else "")),
    ):
        for v in variants:
            r = results[v.name]
            if r["status"] == "ok":
                ax.semilogy(layers, r[key]["grad_norm"], "-o", markersize=4, label=v.label)
        ax.set_title(f"{when}")
        ax.set_xlabel(f"layer (1 = input side, {args.depth} = output layer)")
        ax.set_xticks(layers)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel(r"weight-gradient norm $\|\partial L/\partial W_l\|_F$ (1000 validation images)")
    missing = [v.label for v in variants if results[v.name]["status"] != "ok"]
    note = f" (not run: {', '.join(missing)})" if missing else ""
    axes[1].legend(fontsize=9, loc="best")
    fig.suptitle(
        f"Per-layer gradient norms of a {args.depth}-layer MLP ({args.width} units per hidden layer) on "
        f"MNIST, cross-entropy loss{note}",
        fontsize=11,
    )
    fig.tight_layout()
    return save_figure(fig, path)


def markdown(results: dict, variants: list[Variant], args, command: str, len_train: int) -> str:
    rows = []
    for v in variants:
        r = results[v.name]
        if r["status"] != "ok":
            rows.append(f"| {v.label} | not run: {r['short']} | | | | | {v.expected} |")
            continue
        a, b = r["at_init"], r["after"]
        rows.append(
            f"| {v.label} | {a['grad_norm'][0] / a['grad_norm'][-1]:.3g} | {shrink(a['delta_norm']):.3g} | "
            f"{b['grad_norm'][0] / b['grad_norm'][-1]:.3g} | {shrink(b['delta_norm']):.3g} | "
            f"{100 * r['val_accuracy']:.2f}% | {v.expected} |"
        )
    lines = [
        "## Vanishing gradients: per-layer gradient norms (`benchmarks/vanishing_gradients.py`)",
        "",
        f"{args.depth}-layer MLP, {args.width} units per hidden layer, MNIST ({len_train:,} training images, "
        f"pixels in [0, 1]), SGD lr {args.lr} momentum {args.momentum}, batch {args.batch_size}, "
        f"{args.epochs} epoch(s), seed {args.seed}. "
        "Norms on 1000 validation images in training mode. `layer 1 / layer 10` is the ratio of the first to the last "
        "layer's weight-gradient norm (below 1: the gradient vanishes towards the input); `shrink` is the geometric "
        "mean, over layers, of the back-propagated delta's norm ratio ||delta_l|| / ||delta_l+1||.",
        "",
        "| variant | layer 1 / layer 10, init | shrink per layer, init | layer 1 / layer 10, trained | "
        "shrink per layer, trained | val. accuracy | expected (literature) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    sig = results.get("sigmoid", {})
    if sig.get("status") == "ok":
        a = sig["at_init"]
        bounds = [0.25 * s for s in a["spectral_norm"][1:]]
        ratios = [lo / hi for lo, hi in zip(a["delta_norm"], a["delta_norm"][1:])]
        lines += [
            f"Sigmoid net at initialisation, closed-form bound vs measured: the per-layer shrink "
            f"||delta_l|| / ||delta_l+1|| is {min(ratios):.3g} to {max(ratios):.3g} (measured), bounded by "
            f"1/4 ||W_l+1||_2 = {min(bounds):.3g} to {max(bounds):.3g} (every layer within its bound: "
            f"{all(r <= b * (1 + 1e-9) for r, b in zip(ratios, bounds))}).",
            "",
        ]
    ok = [results[v.name] for v in variants if results[v.name]["status"] == "ok"]
    if ok:
        diff = max(max(r["at_init"]["max_rel_diff_vs_torch"], r["after"]["max_rel_diff_vs_torch"]) for r in ok)
        ratio = sum(r["at_init"]["time_ratio_vs_torch"] for r in ok) / len(ok)
        lines += [
            f"Competitor (a hand-written PyTorch backward, `p.grad` norms): largest relative difference "
            f"{diff:.1e}; lamina's `gradient_flow` (deltas too) takes {ratio:.2f}x its time.",
            "",
        ]
    lines += ["![vanishing gradients](vanishing_gradients.png)", "", f"Command (machine: 2-core CPU): `{command}`", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=10, help="dense layers, the output layer included")
    parser.add_argument("--width", type=int, default=256, help="units per hidden layer")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--pretrain-epochs", type=int, default=1, help="RBM epochs per layer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-subset", type=int, default=None, help="train on this many images (default: 50,000)")
    parser.add_argument("--variants", nargs="*", default=[v.name for v in VARIANTS], choices=[v.name for v in VARIANTS])
    args = parser.parse_args()

    subset = {"train_subset": args.train_subset + 10000} if args.train_subset else {}
    splits = lamina.data.load("mnist", validation=10000, scale="unit", flatten=True, **subset)
    probe = (splits.validation.x[:1000], splits.validation.targets[:1000])
    variants = [v for v in VARIANTS if v.name in args.variants]
    results = {}
    for v in variants:
        print(f"== {v.label}", flush=True)
        try:
            results[v.name] = run_variant(v, splits, probe, args)
        except RuntimeError as err:
            if "needs the pretraining method" not in str(err):
                raise
            print(f"   {err}", file=sys.stderr, flush=True)
            results[v.name] = {
                "status": "unavailable",
                "message": str(err),
                "short": f"pretrain method {v.pretrain!r} not registered yet (lamina's RBM, issue 5)",
            }
            continue
        r = results[v.name]
        for key in ("at_init", "after"):
            norms = " ".join(f"{g:.2e}" for g in r[key]["grad_norm"])
            print(f"   {key:8s} ||dL/dW_l||: {norms}   (torch agrees to {r[key]['max_rel_diff_vs_torch']:.1e})")
        print(f"   validation accuracy {100 * r['val_accuracy']:.2f}% ({r['seconds']:.0f} s)", flush=True)

    command = "flock /tmp/lamina-cpu.lock python " + " ".join(sys.argv)
    figure = plot(results, variants, args, RESULTS / "vanishing_gradients.png")
    write_result("vanishing_gradients", {"settings": vars(args), "results": results, "figure": figure.name})
    (RESULTS / "diagnostics.md").write_text(markdown(results, variants, args, command, len(splits.train)) + "\n")
    print(f"wrote {figure}, {RESULTS / 'vanishing_gradients.json'} and {RESULTS / 'diagnostics.md'}")


if __name__ == "__main__":
    main()
