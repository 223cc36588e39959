"""Trainer overhead: the same MLP (784-500-500-10, ReLU, batch 128, SGD with momentum, MNIST) trained for the same
number of steps by lamina's Trainer, by a hand-written PyTorch loop, and by Lightning and Keras 3 (torch backend)
when installed, all in this one process, interleaved over several rounds.

Reports samples/s (median over rounds) and each one's ratio to the hand-written loop. Target: lamina within 5% of the
hand-written loop, and faster than Lightning and Keras.

    python -m benchmarks.trainer_overhead [--steps 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "torch")  # must precede any keras import

import torch
from torch import nn
from torch.nn import functional as F

import lamina
from benchmarks.common import write_result

BATCH, LR, MOMENTUM = 128, 0.05, 0.9


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 500), nn.ReLU(), nn.Linear(500, 10))


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU), so that a timer reads finished work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def hand_loop(x: torch.Tensor, y: torch.Tensor, steps: int) -> float:
    """The loop a PyTorch user writes: tensors in memory (on the device they are on), a shuffled index per epoch,
    slices as batches."""
    model = mlp().to(x.device)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    g = torch.Generator().manual_seed(0)
    synchronize(x.device)
    start = time.perf_counter()
    perm = torch.randperm(len(x), generator=g).to(x.device)
    for i in range(steps):
        idx = perm[i * BATCH : (i + 1) * BATCH]
        xb, yb = x.index_select(0, idx), y.index_select(0, idx)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
    synchronize(x.device)
    return steps * BATCH / (time.perf_counter() - start)


def lamina_trainer(x: torch.Tensor, y: torch.Tensor, steps: int, metrics: list | None) -> float:
    """lamina's Trainer on an in-memory dataset of exactly ``steps`` batches (on the device ``x`` is on): one epoch;
    the loss is tracked on the device every step, plus the metrics asked for (default: accuracy)."""
    data = lamina.data.ArrayDataset(x[: steps * BATCH], y[: steps * BATCH])
    trainer = lamina.Trainer(
        mlp(),
        loss="cross_entropy",
        optimizer={"type": "sgd", "lr": LR, "momentum": MOMENTUM},
        epochs=1,
        batch_size=BATCH,
        device=x.device,
        seed=0,
        metrics=metrics,
    )
    synchronize(x.device)
    start = time.perf_counter()
    trainer.fit(data)
    synchronize(x.device)
    return steps * BATCH / (time.perf_counter() - start)


def lightning_trainer(x: torch.Tensor, y: torch.Tensor, steps: int) -> float | None:
    try:
        import lightning as L
    except ImportError:
        return None

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = mlp()

        def training_step(self, batch, batch_idx):
            xb, yb = batch
            return F.cross_entropy(self.net(xb), yb)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=LR, momentum=MOMENTUM)

    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x[: steps * BATCH], y[: steps * BATCH]), batch_size=BATCH, shuffle=True
    )
    trainer = L.Trainer(
        max_steps=steps,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    module = Module()
    start = time.perf_counter()
    trainer.fit(module, loader)
    return steps * BATCH / (time.perf_counter() - start)


def keras_trainer(x: torch.Tensor, y: torch.Tensor, steps: int) -> float | None:
    try:
        import keras
    except ImportError:
        return None
    if keras.backend.backend() != "torch":
        return None
    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(500, activation="relu"),
            keras.layers.Dense(500, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=LR, momentum=MOMENTUM),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    xs, ys = x[: steps * BATCH].numpy(), y[: steps * BATCH].numpy()
    start = time.perf_counter()
    model.fit(xs, ys, batch_size=BATCH, epochs=1, shuffle=True, verbose=0)
    return steps * BATCH / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    train, _, _ = lamina.data.load("mnist", flatten=True)
    x, y = train.x, train.y
    contenders = {
        "hand-written loop": lambda: hand_loop(x, y, args.steps),
        "lamina Trainer": lambda: lamina_trainer(x, y, args.steps, None),
        "lamina Trainer (no metrics)": lambda: lamina_trainer(x, y, args.steps, []),
        "Lightning": lambda: lightning_trainer(x, y, args.steps),
        "Keras 3 (torch)": lambda: keras_trainer(x, y, args.steps),
    }
    for fn in contenders.values():  # warm-up: imports, allocator, first-call costs
        fn()
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(args.rounds):
        for name, fn in contenders.items():
            rate = fn()
            if rate is not None:
                rates[name].append(rate)
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{n} {v[-1]:,.0f}" for n, v in rates.items() if v))
    medians = {name: statistics.median(v) for name, v in rates.items() if v}
    base = medians["hand-written loop"]
    print(f"\n{'trainer':32s} {'samples/s':>10s} {'ratio to hand loop':>20s}")
    for name, rate in medians.items():
        print(f"{name:32s} {rate:10,.0f} {rate / base:20.3f}")
    write_result(
        "trainer_overhead",
        {
            "steps": args.steps,
            "rounds": args.rounds,
            "batch": BATCH,
            "model": "784-500-500-10 ReLU, SGD momentum",
            "samples_per_s": medians,
            "all_rounds": rates,
            "ratio_to_hand_loop": {n: r / base for n, r in medians.items()},
            "target": "lamina within 5% of the hand-written loop; faster than Lightning and Keras",
        },
    )


if __name__ == "__main__":
    main()
