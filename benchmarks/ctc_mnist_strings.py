"""Sequence transcription with CTC on strings of 5 MNIST digits read column by column (issue 27): a deep
bidirectional LSTMP (Sak et al., 2014) trained with the CTC loss (Graves et al., 2006), the stand-in for Graves,
Mohamed & Hinton's (2013) TIMIT table. Target: sequence error <= 2% on the test strings; the character (label) error
is reported beside it, for best-path and prefix-beam-search decoding.

Data: ``mnist_strings`` (``lamina.data.mnist_strings``): the validation and test strings are exactly the dataset's
(seed 0), made from MNIST images no training string uses. Training strings are drawn afresh every epoch from the same
training digits as the dataset's training split (``--fixed-train`` uses the dataset's ``--train-size`` strings
instead), each digit with a small random affine distortion (``--no-augment`` turns it off).

Model: optionally a small convolutional front end over the 28 x 140 picture (``--frontend conv``: three 3x3
convolutions with pooling, so each of the 70 steps sees 2 columns; Shi, Bai & Yao's CRNN, 2015), then
``--layers`` bidirectional LSTMP layers (``--units`` cells, ``--projection`` outputs per direction), then a
per-step linear map to 11 classes (10 digits and the blank, the last class).

    python -m benchmarks.ctc_mnist_strings --smoke                          # seconds, CPU: checks the pipeline
    nice -n 10 python -m benchmarks.ctc_mnist_strings --budget-minutes 14 --threads 2
    python -m benchmarks.ctc_mnist_strings --device cuda --budget-minutes 6 --out-dir DIR

The JSON result (``<out-dir>/ctc_mnist_strings[_<tag>].json``) is rewritten after every epoch, so a run stopped by
its budget or killed keeps what it reached. ``benchmarks/results/ctc_mnist_strings.md`` reads it.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, add_threads_option, command, limit_threads, machine


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (the data stay on it)")
    parser.add_argument("--budget-minutes", type=float, default=math.inf, help="stop training after this wall time")
    parser.add_argument("--epochs", type=int, default=1000, help="at most this many epochs")
    parser.add_argument("--out-dir", type=Path, default=RESULTS, help="where the JSON result goes")
    parser.add_argument("--tag", default="", help="suffix of the JSON file's name")
    parser.add_argument("--seed", type=int, default=0, help="model and training seed (the dataset's is fixed: 0)")
    parser.add_argument("--train-size", type=int, default=50_000, help="training strings per epoch")
    parser.add_argument("--validation-size", type=int, default=5_000)
    parser.add_argument("--test-size", type=int, default=10_000)
    parser.add_argument("--fixed-train", action="store_true", help="train on the dataset's fixed training strings")
    parser.add_argument("--no-augment", action="store_true", help="no random affine distortion of training digits")
    parser.add_argument("--frontend", choices=("conv", "none"), default="conv")
    parser.add_argument("--layers", type=int, default=2, help="bidirectional LSTMP layers")
    parser.add_argument("--units", type=int, default=256, help="LSTM cells per layer and direction")
    parser.add_argument("--projection", type=int, default=128, help="LSTMP projection per direction")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam's peak learning rate (cosine decay by time)")
    parser.add_argument("--beam-width", type=int, default=8)
    parser.add_argument("--beam-examples", type=int, default=2_000, help="test strings decoded by beam search")
    parser.add_argument("--smoke", action="store_true", help="a tiny run that checks the pipeline in seconds")
    add_threads_option(parser)
    args = parser.parse_args()
    if args.smoke:
        args.train_size, args.validation_size, args.test_size, args.batch_size = 64, 32, 32, 32
        args.units, args.projection, args.epochs, args.beam_examples = 16, 8, 2, 8
        args.tag = args.tag or "smoke"
    return args


class Transcriber:
    """Conv front end (optional) + deep bidirectional LSTMP + per-step linear map to the classes."""

    def __new__(cls, args: argparse.Namespace, classes: int) -> Any:
        import torch
        from torch import nn

        from lamina.nn import LSTMP

        class Model(nn.Module):
            """``(N, W, 28)`` column sequences -> ``(N, T, classes)`` logits (T = W, or W / 2 with the conv front)."""

            def __init__(self) -> None:
                super().__init__()
                if args.frontend == "conv":
                    self.front = nn.Sequential(
                        nn.Conv2d(1, 32, 3, padding=1),
                        nn.BatchNorm2d(32),
                        nn.ReLU(),
                        nn.MaxPool2d(2),  # 28 x W -> 14 x W/2
                        nn.Conv2d(32, 64, 3, padding=1),
                        nn.BatchNorm2d(64),
                        nn.ReLU(),
                        nn.MaxPool2d((2, 1)),  # -> 7 x W/2
                        nn.Conv2d(64, 128, 3, padding=1),
                        nn.BatchNorm2d(128),
                        nn.ReLU(),
                    )
                    features = 128 * 7
                else:
                    self.front = None
                    features = 28
                self.rnn = LSTMP(
                    features,
                    args.units,
                    args.projection,
                    num_layers=args.layers,
                    bidirectional=True,
                    dropout=0.1 if args.layers > 1 else 0.0,
                )
                self.out = nn.Linear(2 * args.projection, classes)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                if self.front is not None:
                    picture = self.front(x.transpose(1, 2).unsqueeze(1))  # (N, 128, 7, W/2)
                    x = picture.flatten(1, 2).transpose(1, 2)  # (N, W/2, 896)
                return self.out(self.rnn(x))

        return Model()


def distort(digits, generator):  # noqa: ANN001, ANN201  (torch types; torch is imported late)
    """Each ``(K, 28, 28)`` digit rotated by up to 8 degrees, scaled by 0.9..1.1 and shifted by up to 2 pixels."""
    import torch
    import torch.nn.functional as F

    k = len(digits)
    u = torch.rand(k, 4, device=digits.device, generator=generator) * 2 - 1
    angle, scale = u[:, 0] * math.radians(8), 1 + 0.1 * u[:, 1]
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, u[:, 2] * 2 / 14], 1), torch.stack([sin, cos, u[:, 3] * 2 / 14], 1)], 1
    )
    grid = F.affine_grid(theta, (k, 1, 28, 28), align_corners=False)
    return F.grid_sample(digits.unsqueeze(1), grid, align_corners=False).squeeze(1)


def strings_from(pool_x, pool_y, n: int, length: int, generator, augment: bool):  # noqa: ANN001, ANN201
    """``n`` fresh strings of ``length`` digits from a pool on the device: ``(n, 28 * length, 28)`` columns and
    ``(n, length)`` labels."""
    import torch

    index = torch.randint(len(pool_x), (n, length), device=pool_x.device, generator=generator)
    digits = pool_x[index.flatten()]
    if augment:
        digits = distort(digits, generator)
    pictures = digits.view(n, length, 28, 28).permute(0, 2, 1, 3).reshape(n, 28, 28 * length)
    return pictures.transpose(1, 2).contiguous(), pool_y[index]


def evaluate(model, x, y, batch_size: int, beam: tuple[int, int] | None = None) -> dict[str, float]:  # noqa: ANN001
    """Best-path sequence and character errors on ``(x, y)``; with ``beam = (width, examples)`` also those of
    prefix beam search on the first ``examples``."""
    import torch

    from lamina.metrics.ctc_decoding import ctc_beam_search, ctc_greedy_decode
    from lamina.metrics.transcription import CTCCharacterError, CTCSequenceError

    model.eval()
    seq, char = CTCSequenceError(), CTCCharacterError()
    outputs = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            out = model(x[start : start + batch_size]).float()
            seq.update(out, y[start : start + batch_size])
            char.update(out, y[start : start + batch_size])
            if beam is not None and start < beam[1]:
                outputs.append(out[: beam[1] - start].cpu())
    result = {"sequence_error": seq.compute(), "character_error": char.compute()}
    if beam is not None:
        scores = torch.cat(outputs)
        targets = y[: len(scores)].cpu().tolist()
        t0 = time.perf_counter()
        decoded = ctc_beam_search(scores, beam_width=beam[0])
        seconds = time.perf_counter() - t0
        greedy = ctc_greedy_decode(scores)
        result.update(
            {
                "beam_width": beam[0],
                "beam_examples": len(scores),
                "beam_sequence_error": sum(d != t for d, t in zip(decoded, targets)) / len(scores),
                "greedy_sequence_error_same_examples": sum(d != t for d, t in zip(greedy, targets)) / len(scores),
                "beam_seconds": seconds,
            }
        )
    model.train()
    return result


def main() -> None:
    """Train under the budget, evaluating on the validation strings each epoch, then test."""
    args = _arguments()
    limit_threads(args.threads)
    import numpy as np
    import torch

    from lamina import jsonio
    from lamina.data.mnist_strings import MNISTStrings, digit_pools
    from lamina.losses.ctc import CTCLoss

    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels once
        torch.set_float32_matmul_precision("high")  # TF32 matrix products
    torch.manual_seed(args.seed)
    generator = torch.Generator(device=device).manual_seed(args.seed)
    data = MNISTStrings(
        train_strings=args.train_size, validation_strings=args.validation_size, test_strings=args.test_size
    )
    splits = data.load()
    val_x, val_y = splits.validation.x.to(device), splits.validation.y.to(device)
    test_x, test_y = splits.test.x.to(device), splits.test.y.to(device)
    if args.fixed_train:
        train_x, train_y = splits.train.x.to(device), splits.train.y.to(device)
    else:
        pool_images, pool_labels = digit_pools(data.validation_digits)["train"]
        pool_x = torch.from_numpy(np.asarray(pool_images)).to(device).float() / 255.0
        pool_y = torch.from_numpy(np.asarray(pool_labels)).to(device)

    model = Transcriber(args, classes=11).to(device)
    parameters = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = CTCLoss()  # blank = the last class (10)
    budget = 60 * args.budget_minutes
    args.out_dir.mkdir(parents=True, exist_ok=True)
    path = args.out_dir / f"ctc_mnist_strings{'_' + args.tag if args.tag else ''}.json"
    record: dict[str, Any] = {
        "benchmark": "ctc_mnist_strings",
        "command": command(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "parameters": parameters,
        "target_sequence_error": 0.02,
        "epochs": [],
        "status": "running",
    }

    def save() -> None:
        path.write_text(jsonio.dumps(record, indent=2) + "\n")

    start = time.perf_counter()
    steps_done, stopped = 0, False
    for epoch in range(1, args.epochs + 1):
        if args.fixed_train:
            order = torch.randperm(len(train_x), device=device, generator=generator)
            xs, ys = train_x[order], train_y[order]
        else:
            xs, ys = strings_from(pool_x, pool_y, args.train_size, 5, generator, not args.no_augment)
        total, batches = torch.zeros((), device=device), 0
        for i in range(0, len(xs), args.batch_size):
            elapsed = time.perf_counter() - start
            if elapsed >= budget:
                stopped = True
                break
            fraction = min(elapsed / budget, 1.0) if math.isfinite(budget) else (epoch - 1) / args.epochs
            for group in optimizer.param_groups:  # cosine decay over the budget (or the epochs), 2% warm-up
                group["lr"] = args.lr * min(1.0, (steps_done + 1) / 200) * 0.5 * (1 + math.cos(math.pi * fraction))
            loss = loss_fn(model(xs[i : i + args.batch_size]), ys[i : i + args.batch_size])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            total += loss.detach()
            batches += 1
            steps_done += 1
        if batches:
            validation = evaluate(model, val_x, val_y, 1000)
            row = {
                "epoch": epoch,
                "seconds": round(time.perf_counter() - start, 1),
                "train_loss": float(total) / batches,
                "batches": batches,
                **{f"validation_{k}": v for k, v in validation.items()},
            }
            record["epochs"].append(row)
            print(
                f"epoch {epoch}: loss {row['train_loss']:.4f}, validation sequence error "
                f"{validation['sequence_error']:.4f}, character error {validation['character_error']:.4f} "
                f"({row['seconds']:.0f} s)",
                flush=True,
            )
            save()
        if stopped:
            break
    record["training_seconds"] = round(time.perf_counter() - start, 1)
    record["stop_reason"] = "budget" if stopped else "epochs"
    test = evaluate(model, test_x, test_y, 1000, beam=(args.beam_width, args.beam_examples))
    record["test"] = test
    record["target_met"] = test["sequence_error"] <= 0.02
    record["status"] = "completed"
    save()
    print(
        f"test: sequence error {test['sequence_error']:.4f}, character error {test['character_error']:.4f}; "
        f"beam {args.beam_width} on {test['beam_examples']}: sequence error {test['beam_sequence_error']:.4f} "
        f"(greedy {test['greedy_sequence_error_same_examples']:.4f}); written {path}"
    )


if __name__ == "__main__":
    main()
