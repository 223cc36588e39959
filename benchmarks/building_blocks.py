"""Building blocks (issue #10): paper reproductions and the cost of lamina's blocks.

Subcommands (each writes ``benchmarks/results/building_blocks_<part>.json``; the table is
``benchmarks/results/building_blocks.md``):

- ``lenet5``: LeNet-5 on MNIST (``examples/lenet5.toml``), test error beside LeCun et al. (1998)'s 0.95%.
- ``resnet``: ResNet-8 on Fashion-MNIST (``examples/resnet_fashion_mnist.toml``), test error, target <= 8%.
- ``char_lstm``: the char-LSTM on Tiny Shakespeare (``examples/char_lstm.toml``), validation nats per character and
  a 500-character sample at temperature 0.8.
- ``throughput``: training samples/s of a ``residual`` stack and an ``inception`` stack built from TOML layer
  tables, beside the same networks written in plain PyTorch (same layers, same initial weights), in one process,
  interleaved; target ratio >= 0.97.

The training parts accept ``--set key=value`` overrides and ``--resume RUN`` (a run stopped by a time limit, e.g.
``timeout -s INT 1150 python -m benchmarks.building_blocks resnet``, continues from its last epoch).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

import lamina
from benchmarks.common import write_result

ROOT = Path(__file__).resolve().parents[1]

PAPERS = {
    "lenet5": (
        "examples/lenet5.toml",
        "LeNet-5, MNIST test error (%)",
        0.95,
        0.9,
        "LeCun, Bottou, Bengio & Haffner (1998), fig. 9: 0.95% without distortions",
    ),
    "resnet": (
        "examples/resnet_fashion_mnist.toml",
        "ResNet-8, Fashion-MNIST test error (%)",
        None,
        8.0,
        "issue #10 target (no published ResNet-8 figure; Xiao et al. 2017 list ~8-11% for small convnets)",
    ),
}


def _train(part: str, overrides: list[str], resume: str | None, out: str) -> lamina.Run:
    if resume:
        return lamina.train(resume=resume, overrides=overrides, progress="plain")
    return lamina.train(
        ROOT / PAPERS.get(part, ("examples/char_lstm.toml",))[0], out=out, overrides=overrides, progress="plain"
    )


def paper(part: str, args: argparse.Namespace) -> None:
    """LeNet-5 or ResNet: train (or resume), then the test error beside the published figure and the target."""
    _, what, published, target, source = PAPERS[part]
    run = _train(part, args.set, args.resume, args.out)
    error = 100 * (1 - run.summary["test"]["accuracy"])
    print(f"{what}: measured {error:.2f}%  published {published}%  target <= {target}%  ({source})")
    print(f"epochs {run.summary['epochs']}, wall time {run.summary['wall_time_s']:.0f} s, run {run.dir}")
    write_result(
        f"building_blocks_{part}",
        {
            "what": what,
            "measured_test_error_percent": round(error, 3),
            "published_percent": published,
            "target_percent": target,
            "source": source,
            "epochs": run.summary["epochs"],
            "wall_time_s": run.summary["wall_time_s"],
            "run": str(run.dir),
            "overrides": args.set,
            "final": run.summary.get("final"),
        },
    )


def char_lstm(args: argparse.Namespace) -> None:
    """Train the char-LSTM (or resume it), report validation nats/char and a sample."""
    from lamina.cli.sample import sample_text

    run = _train("char_lstm", args.set, args.resume, args.out)
    val = run.history[-1]["val_loss"]
    text = sample_text(run.dir, length=500, temperature=0.8, prime="\n", seed=0)
    print(f"char-LSTM validation loss: {val:.4f} nats/char ({val / 0.6931:.3f} bits/char); target <= 1.6")
    print(f"epochs {run.summary['epochs']}, wall time {run.summary['wall_time_s']:.0f} s, run {run.dir}")
    print("sample (temperature 0.8):\n" + text)
    write_result(
        "building_blocks_char_lstm",
        {
            "validation_nats_per_char": round(val, 4),
            "target": 1.6,
            "epochs": run.summary["epochs"],
            "wall_time_s": run.summary["wall_time_s"],
            "run": str(run.dir),
            "overrides": args.set,
            "history_val_loss": run.history["val_loss"],
            "sample_temperature_0.8": text,
        },
    )


# -- throughput: the same networks in plain PyTorch ------------------------------------------------------------------


class PlainBasicBlock(nn.Module):
    """He et al.'s basic block as torchvision writes it."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            if stride != 1 or cin != cout
            else None
        )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.down is None else self.down(x)))


class PlainInception(nn.Module):
    """GoogLeNet's inception module (v1) as usually written by hand."""

    def __init__(self, cin: int, c1: int, r3: int, c3: int, r5: int, c5: int, pp: int) -> None:
        super().__init__()
        self.b1 = nn.Conv2d(cin, c1, 1)
        self.b3a, self.b3b = nn.Conv2d(cin, r3, 1), nn.Conv2d(r3, c3, 3, padding=1)
        self.b5a, self.b5b = nn.Conv2d(cin, r5, 1), nn.Conv2d(r5, c5, 5, padding=2)
        self.bp = nn.Conv2d(cin, pp, 1)

    def forward(self, x):
        return torch.cat(
            [
                F.relu(self.b1(x)),
                F.relu(self.b3b(F.relu(self.b3a(x)))),
                F.relu(self.b5b(F.relu(self.b5a(x)))),
                F.relu(self.bp(F.max_pool2d(x, 3, 1, 1))),
            ],
            dim=1,
        )


RESNET_TOML = [
    {"type": "conv2d", "filters": 16, "kernel_size": 3, "padding": 1, "bias": False},
    {"type": "batchnorm"},
    {"type": "relu"},
    {"type": "residual", "filters": 16},
    {"type": "residual", "filters": 32, "stride": 2},
    {"type": "residual", "filters": 64, "stride": 2},
    {"type": "global_avg_pool"},
    {"type": "dense", "units": 10},
]
INCEPTION_TOML = [
    {"type": "conv2d", "filters": 32, "kernel_size": 3, "padding": 1, "activation": "relu"},
    {"type": "max_pool2d", "kernel_size": 2},
    {"type": "inception", "conv1x1": 16, "reduce3x3": 24, "conv3x3": 32, "reduce5x5": 4, "conv5x5": 8, "pool_proj": 8},
    {
        "type": "inception",
        "conv1x1": 32,
        "reduce3x3": 32,
        "conv3x3": 48,
        "reduce5x5": 8,
        "conv5x5": 24,
        "pool_proj": 16,
    },
    {"type": "max_pool2d", "kernel_size": 2},
    {"type": "global_avg_pool"},
    {"type": "dense", "units": 10},
]


def plain_resnet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, 1, 1, bias=False),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        PlainBasicBlock(16, 16, 1),
        PlainBasicBlock(16, 32, 2),
        PlainBasicBlock(32, 64, 2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, 10),
    )


def plain_inception() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        PlainInception(32, 16, 24, 32, 4, 8, 8),
        PlainInception(64, 32, 32, 48, 8, 24, 16),
        nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(120, 10),
    )


def _copy_weights(src: nn.Module, dst: nn.Module) -> None:
    """Same initial weights: parameters and buffers matched in registration order (same shapes checked)."""
    pairs = list(zip(src.state_dict().values(), dst.state_dict().values()))
    if len(src.state_dict()) != len(dst.state_dict()) or any(a.shape != b.shape for a, b in pairs):
        raise RuntimeError("the plain network does not match the lamina one layer for layer")
    with torch.no_grad():
        for a, b in pairs:
            b.copy_(a)


def _step_fn(model: nn.Module, x: torch.Tensor, y: torch.Tensor):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def throughput(args: argparse.Namespace) -> None:
    """Samples/s of lamina-built stacks vs plain PyTorch, interleaved rounds, median of each."""
    torch.manual_seed(0)
    x, y = torch.randn(args.batch, 1, 28, 28), torch.randint(0, 10, (args.batch,))
    rows = {}
    for name, spec, plain in (("residual", RESNET_TOML, plain_resnet), ("inception", INCEPTION_TOML, plain_inception)):
        mine = lamina.build_model(spec, (1, 28, 28))
        ref = plain()
        _copy_weights(mine, ref)
        with torch.no_grad():
            mine.eval(), ref.eval()
            torch.testing.assert_close(mine(x), ref(x))  # the same function, so the timing compares like with like
        mine.train(), ref.train()
        steps = {"lamina": _step_fn(mine, x, y), "plain": _step_fn(ref, x, y)}
        rates = {"lamina": [], "plain": []}
        for step in steps.values():  # warm-up
            for _ in range(3):
                step()
        for _ in range(args.rounds):
            for who, step in steps.items():
                start, n = time.perf_counter(), 0
                while time.perf_counter() - start < args.seconds:
                    step()
                    n += 1
                rates[who].append(n * args.batch / (time.perf_counter() - start))
        med = {who: statistics.median(r) for who, r in rates.items()}
        ratio = med["lamina"] / med["plain"]
        rows[name] = {
            "lamina_samples_per_s": round(med["lamina"], 1),
            "plain_samples_per_s": round(med["plain"], 1),
            "ratio": round(ratio, 4),
            "rounds": rates,
            "parameters": lamina.nn.count_parameters(mine),
        }
        print(
            f"{name:9s} lamina {med['lamina']:8.1f} samples/s   plain PyTorch {med['plain']:8.1f} samples/s   "
            f"ratio {ratio:.3f} (target >= 0.97)"
        )
    write_result(
        "building_blocks_throughput",
        {
            "batch": args.batch,
            "rounds": args.rounds,
            "seconds_per_round": args.seconds,
            "threads": torch.get_num_threads(),
            **rows,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["lenet5", "resnet", "char_lstm", "throughput"])
    parser.add_argument("--set", action="append", default=[], help="experiment override, e.g. train.epochs=5")
    parser.add_argument("--resume", default=None, help="a run folder to continue")
    parser.add_argument("--out", default="runs/benchmarks", help="where run folders go")
    parser.add_argument("--batch", type=int, default=128, help="throughput: batch size")
    parser.add_argument("--rounds", type=int, default=7, help="throughput: interleaved timing rounds")
    parser.add_argument("--seconds", type=float, default=3.0, help="throughput: seconds per round and network")
    args = parser.parse_args()
    if args.part == "throughput":
        throughput(args)
    elif args.part == "char_lstm":
        char_lstm(args)
    else:
        paper(args.part, args)


if __name__ == "__main__":
    main()
