"""The CUDA path, measured: lamina's Trainer against a hand-written loop on the GPU, the MNIST MLP and the char-LSTM
trained end to end in fp32, bf16 autocast and bf16 + ``torch.compile``, and CD-1 RBM training against the
matrix-product bound on the GPU.

    python -m benchmarks.gpu_path [--parts syncs,overhead,rbm,mnist_mlp,char_lstm] [--mlp-epochs 30] [--lstm-epochs 8]

Every part runs in this one process and writes ``results/gpu_path.json`` as it finishes (so a run cut short keeps
what it measured). Needs a CUDA device; ratios are taken within the run, interleaved where they compare two loops.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import torch

import lamina
from benchmarks.common import write_result
from benchmarks.trainer_overhead import BATCH, LR, hand_loop, lamina_trainer, mlp
from lamina.data import ArrayDataset
from lamina.generative import BernoulliRBM

RESULT: dict[str, Any] = {}


def _sync() -> None:
    torch.cuda.synchronize()


def overhead(args: argparse.Namespace) -> None:
    """Trainer vs hand loop on the GPU (samples/s, median of interleaved rounds), both given the data already on
    the GPU, so each times its loop and its fixed costs per ``fit`` (set-up, end-of-epoch checks), not the copy."""
    train = lamina.data.load("mnist", flatten=True).train
    x_gpu, y_gpu = train.x.cuda(), train.y.cuda()
    contenders = {
        "hand-written loop (data on GPU)": lambda: hand_loop(x_gpu, y_gpu, args.steps),
        "lamina Trainer": lambda: lamina_trainer(x_gpu, y_gpu, args.steps, None),
        "lamina Trainer (no metrics)": lambda: lamina_trainer(x_gpu, y_gpu, args.steps, []),
    }
    for fn in contenders.values():
        fn()
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, fn in contenders.items():
            rates[name].append(fn())
    medians = {name: statistics.median(v) for name, v in rates.items()}
    base = medians["hand-written loop (data on GPU)"]
    RESULT["overhead"] = {
        "steps": args.steps,
        "rounds": args.rounds,
        "batch": BATCH,
        "samples_per_s": {k: round(v, 1) for k, v in medians.items()},
        "ratio_to_hand_loop": {k: round(v / base, 4) for k, v in medians.items()},
    }
    print("overhead:", RESULT["overhead"]["ratio_to_hand_loop"], flush=True)


def rbm(args: argparse.Namespace) -> None:
    """CD-1 of a 784x500 Bernoulli RBM on the GPU against its five matrix products timed alone, at two batch sizes."""
    x = lamina.data.load("mnist", scale="binarize", flatten=True).train.x.contiguous().cuda()  # as the bound's
    rows = {}
    for batch in (128, 1024):
        w = torch.randn(500, 784, device="cuda") * 0.01
        v = torch.rand(batch, 784, device="cuda")
        h = torch.rand(batch, 500, device="cuda")

        def products() -> None:
            torch.matmul(v, w.t()), torch.matmul(h, w), torch.matmul(v, w.t())
            torch.matmul(h.t(), v), torch.matmul(h.t(), v)

        for _ in range(20):
            products()
        _sync()
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < 2.0:
            products()
            calls += 1
        _sync()
        bound = calls * batch / (time.perf_counter() - start)
        best = 0.0
        for _ in range(args.repeats):
            model = BernoulliRBM(784, 500, k=1)
            trainer = lamina.Trainer(
                model, optimizer={"type": "sgd", "lr": 0.05}, epochs=1, batch_size=batch, device="cuda", seed=0
            )
            _sync()
            start = time.perf_counter()
            trainer.fit(ArrayDataset(x))
            _sync()
            best = max(best, len(x) / (time.perf_counter() - start))
        rows[str(batch)] = {
            "lamina_samples_per_s": round(best, 1),
            "bound_samples_per_s": round(bound, 1),
            "fraction_of_bound": round(best / bound, 4),
        }
        print(f"rbm batch {batch}: {rows[str(batch)]}", flush=True)
    RESULT["rbm_cd1"] = rows


def syncs(args: argparse.Namespace) -> None:
    """Where the host waits for the GPU during training: ``torch.cuda.set_sync_debug_mode("warn")`` over one epoch of
    40 batches, each synchronizing call site counted (MLP with loss only, and the CD-1 RBM)."""
    import warnings

    x = lamina.data.load("mnist", scale="binarize", flatten=True).train.x[: 40 * BATCH].contiguous()
    y = torch.zeros(len(x), dtype=torch.long)
    cases = {
        "mlp": lambda: lamina.Trainer(
            mlp(),
            loss="cross_entropy",
            optimizer={"type": "sgd", "lr": LR},
            epochs=1,
            batch_size=BATCH,
            device="cuda",
            seed=0,
            metrics=[],
        ),
        "rbm": lambda: lamina.Trainer(
            BernoulliRBM(784, 500, k=1),
            optimizer={"type": "sgd", "lr": 0.05},
            epochs=1,
            batch_size=BATCH,
            device="cuda",
            seed=0,
        ),
    }
    rows = {}
    for name, make in cases.items():
        trainer = make()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            try:
                trainer.fit(ArrayDataset(x, y) if name == "mlp" else ArrayDataset(x))
            finally:
                torch.cuda.set_sync_debug_mode("default")
        sites: dict[str, int] = {}
        for w in caught:
            if "synchroniz" in str(w.message):
                site = f"{w.filename.split('site-packages/')[-1].split('src/')[-1]}:{w.lineno}"
                sites[site] = sites.get(site, 0) + 1
        rows[name] = {"batches": 40, "syncs": sum(sites.values()), "sites": sites}
        print(f"syncs {name}: {rows[name]}", flush=True)
    RESULT["syncs"] = rows


def _experiment(path: str, epochs: int, precision: str, compile_: bool, out: str) -> dict[str, Any]:
    overrides = [
        "train.device=cuda",
        f"train.epochs={epochs}",
        f"train.precision={precision}",
        f"train.compile={'true' if compile_ else 'false'}",
    ]
    start = time.perf_counter()
    run = lamina.train(path, out=out, overrides=overrides, progress="none")
    wall = time.perf_counter() - start
    summary = run.summary
    return {
        "precision": precision,
        "compile": compile_,
        "epochs": epochs,
        "wall_s": round(wall, 2),
        "s_per_epoch": round(wall / epochs, 3),
        "status": summary.get("status"),
        "test": summary.get("test"),
        "final": summary.get("final"),
    }


def experiments(name: str, path: str, epochs: int, out: str) -> None:
    """One experiment file trained in fp32, bf16 autocast and bf16 + torch.compile on the GPU."""
    rows = []
    for precision, compile_ in (("fp32", False), ("bf16", False), ("bf16", True)):
        row = _experiment(path, epochs, precision, compile_, out)
        rows.append(row)
        RESULT[name] = rows
        write_result("gpu_path", RESULT)
        print(f"{name}: {row}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="syncs,overhead,rbm,mnist_mlp,char_lstm")
    parser.add_argument("--steps", type=int, default=468, help="overhead: batches per timed epoch (468: all of MNIST)")
    parser.add_argument("--rounds", type=int, default=5, help="overhead: interleaved rounds")
    parser.add_argument("--repeats", type=int, default=3, help="rbm: epochs timed, best kept")
    parser.add_argument("--mlp-epochs", type=int, default=30)
    parser.add_argument("--lstm-epochs", type=int, default=8)
    parser.add_argument("--out", default="runs/gpu_path", help="where the run folders go")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        parser.error("needs a CUDA device")
    RESULT["device"] = torch.cuda.get_device_name(0)
    runners = {
        "overhead": lambda: overhead(args),
        "rbm": lambda: rbm(args),
        "syncs": lambda: syncs(args),
        "mnist_mlp": lambda: experiments("mnist_mlp", "examples/mnist_mlp.toml", args.mlp_epochs, args.out),
        "char_lstm": lambda: experiments("char_lstm", "examples/char_lstm.toml", args.lstm_epochs, args.out),
    }
    for part in args.parts.split(","):  # in the order given, each written as it finishes
        if part not in runners:
            parser.error(f"unknown part {part!r}; choose from {', '.join(runners)}")
        runners[part]()
        write_result("gpu_path", RESULT)


if __name__ == "__main__":
    main()
