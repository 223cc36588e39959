"""Shared by the CURVES and FACES autoencoder tables (``curves_autoencoder``, ``faces_autoencoder``,
``martens_hf_curves``): the data on the device with a validation split from the training data, PCA, the squared
reconstruction error, RBM pretraining and budgeted fine-tuning of a :class:`~lamina.generative.DeepAutoencoder`,
the incremental JSON result, and the figures.

The error every table reports is Hinton & Salakhutdinov's (2006) "average squared reconstruction error per image":
``sum_pixels (x - x_hat)^2``, averaged over the images.

Honest selection, for every script: each choice (a learning rate, the epoch whose weights are kept) is made on the
validation images, held out of the training images; the test images are scored once, at the end.
"""

from __future__ import annotations

import argparse
import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

import lamina
from benchmarks.common import RESULTS, add_threads_option, limit_threads, write_result
from lamina.data import ArrayDataset
from lamina.generative import DeepAutoencoder
from lamina.pretrain import pretrain_layerwise
from lamina.train import Callback
from lamina.train.rng import seeded

__all__ = [
    "PCA",
    "Deadline",
    "Images",
    "ResultFile",
    "add_common_options",
    "finetune",
    "finetune_hf",
    "load_images",
    "plot_curves",
    "plot_samples",
    "pretrain_stack",
    "squared_error",
    "start",
]


def add_common_options(parser: argparse.ArgumentParser, *, budget: float) -> None:
    """``--device``, ``--budget-minutes``, ``--out-dir``, ``--seed``, ``--smoke`` and ``--threads``."""
    parser.add_argument("--device", default="auto", help="cpu, cuda, or auto (cuda when there is one)")
    parser.add_argument(
        "--budget-minutes", type=float, default=budget, help="wall-clock budget; training stops cleanly at it"
    )
    parser.add_argument("--out-dir", type=Path, default=RESULTS, help="where the JSON result and the figures go")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a tiny run that finishes in seconds (checks the path)")
    add_threads_option(parser)


def start(args: argparse.Namespace) -> torch.device:
    """Apply ``--threads``, seed torch, and resolve ``--device``."""
    limit_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(args.device)


class Deadline:
    """A wall-clock deadline ``minutes`` from now (``inf``: none)."""

    def __init__(self, minutes: float) -> None:
        self.start = time.time()
        self.end = self.start + 60 * minutes

    def left(self) -> float:
        """Seconds left (negative once it has passed)."""
        return self.end - time.time()

    def passed(self) -> bool:
        """Whether the budget is spent."""
        return time.time() >= self.end

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.time() - self.start


class Images:
    """Flattened training, validation and test images, ``(N, D)`` float32 on one device, and their image shape."""

    def __init__(self, train: torch.Tensor, val: torch.Tensor, test: torch.Tensor, shape: tuple[int, int]) -> None:
        self.train, self.val, self.test, self.shape = train, val, test, shape

    def sizes(self) -> dict[str, int]:
        """The number of images of each split."""
        return {"train": len(self.train), "validation": len(self.val), "test": len(self.test)}

    def standardised(self) -> tuple[Images, torch.Tensor, torch.Tensor]:
        """The images as Gaussian visible units need them: each pixel's training mean subtracted, then divided by
        the training pixels' standard deviation (one number). Returns the images, that mean and that deviation."""
        shift, spread = self.train.mean(0, keepdim=True), self.train.std()
        train, val, test = ((x - shift) / spread for x in (self.train, self.val, self.test))
        return Images(train, val, test, self.shape), shift, spread


def load_images(
    name: str, device: torch.device, *, validation: int = 0, train_subset: int | None = None, **options: Any
) -> Images:
    """A registered image dataset, flattened and scaled to [0, 1], moved to ``device`` once.

    ``validation`` training images are held out for selection (a dataset that splits by person, FACES, brings its own
    validation set; pass 0). ``train_subset`` keeps that many training images, evenly spaced (the validation ones
    are held out of the full training set first).
    """
    extra = {"validation": validation} if validation else {}
    splits = lamina.data.load(name, flatten=True, scale="unit", **extra, **options)
    if splits.validation is None:
        raise ValueError(f"{name}: no validation set; pass validation=N to hold N training images out")
    train = splits.train.x
    if train_subset is not None and train_subset < len(train):  # evenly spaced: FACES is stored person by person
        train = train[torch.linspace(0, len(train) - 1, train_subset).long()]
    side = int(math.isqrt(train.shape[1]))
    return Images(
        train.to(device),
        splits.validation.x.to(device),
        splits.test.x.to(device),
        (side, side),
    )


@torch.no_grad()
def squared_error(reconstruct: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch: int = 5000) -> float:
    """Mean over the images of ``sum_pixels (x - reconstruct(x))^2`` (Hinton & Salakhutdinov, 2006)."""
    total = 0.0
    for i in range(0, len(x), batch):
        xb = x[i : i + batch]
        total += float((reconstruct(xb) - xb).pow(2).sum())
    return total / len(x)


class PCA:
    """Principal components of ``(N, D)`` data (float64 eigendecomposition of the covariance, on the data's device).

    ``reconstruct(x)`` projects on the ``k`` leading components and back: ``mean + (x - mean) U U^T``.
    """

    def __init__(self, x: torch.Tensor, k: int) -> None:
        x64 = x.double()
        self.mean = x64.mean(0, keepdim=True)
        centred = x64 - self.mean
        _, vectors = torch.linalg.eigh(centred.T @ centred / len(x))
        self.components = vectors[:, -k:]  # (D, k), the k largest eigenvalues
        self.k = k

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The rank-``k`` reconstruction of ``(N, D)`` images."""
        centred = x.double() - self.mean
        return (self.mean + centred @ self.components @ self.components.T).to(x.dtype)


class ResultFile:
    """A JSON result (``common.write_result``'s record) rewritten after each step of a run, so a run stopped early
    still leaves what it reached."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name, self.folder, self.payload = name, Path(folder), {}

    def update(self, **fields: Any) -> Path:
        """Add ``fields`` and rewrite the file."""
        self.payload.update(fields)
        return write_result(self.name, self.payload, folder=self.folder)


class LayerBudget(Callback):
    """Stops each greedy layer's training after the epoch that passes ``seconds`` from that layer's start (so a
    time-boxed run pretrains every layer, each for its share)."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.began = seconds, time.time()

    def on_train_begin(self, trainer):
        self.began = time.time()

    def on_epoch_end(self, trainer, epoch, logs):
        if time.time() - self.began > self.seconds:
            trainer.stop_training, trainer.stop_reason = True, "the layer's share of the time budget is spent"


def pretrain_stack(
    model: DeepAutoencoder,
    train: torch.Tensor,
    *,
    bottom: str,
    epochs: int,
    batch_size: int,
    device: torch.device,
    seed: int,
    seconds: float = math.inf,
) -> list[dict]:
    """Hinton & Salakhutdinov's greedy RBM pretraining of every encoder layer, then unrolling: ``bottom`` (``rbm``
    or ``gaussian_rbm``) under the first hidden layer, Bernoulli RBMs above it, an RBM with linear hidden units for
    the linear code; their code's settings (``preset = "hinton_salakhutdinov_2006"``: CD-1, SGD 0.1 with momentum
    0.5 then 0.9, weight cost 0.0002). Each layer trains ``epochs`` epochs or its equal share of ``seconds``,
    whichever ends first. Returns each layer's summary."""
    common = {"epochs": epochs, "batch_size": batch_size, "preset": "hinton_salakhutdinov_2006"}
    depth = len(model.sizes) - 1
    methods = [{"method": bottom, "plots": False, **common}]
    methods += [{"method": "rbm", "plots": False, **common} for _ in range(depth - 2)]
    methods += [{"method": "linear_rbm", "epochs": epochs, "batch_size": batch_size, "preset": common["preset"]}]
    budget = [LayerBudget(seconds / depth)] if math.isfinite(seconds) else []
    records = pretrain_layerwise(
        model.encoder, train, methods, device=device, seed=seed, include_last=True, callbacks=budget
    )
    model.load_pretrained([r.module for r in records])
    return [r.summary() for r in records]


class _Fit(Callback):
    """Keeps the weights of the epoch with the lowest validation squared error, reports each epoch, and stops at
    the deadline or after ``patience`` epochs without a better validation error."""

    def __init__(self, deadline: Deadline, report: Callable[[dict], None], patience: int) -> None:
        self.deadline, self.report, self.patience = deadline, report, patience
        self.best, self.best_epoch, self.best_state = math.inf, 0, None

    def on_epoch_end(self, trainer, epoch, logs):
        value = logs.get("val_squared_error", math.inf)
        if value < self.best:
            self.best, self.best_epoch = value, epoch + 1
            self.best_state = copy.deepcopy(trainer.model.state_dict())
        self.report(
            {"epoch": epoch + 1, "train_loss": logs["loss"], "val_squared_error": value, "seconds": logs["time"]}
        )
        if self.deadline.passed():
            trainer.stop_training, trainer.stop_reason = True, "time budget spent"
        elif epoch + 1 - self.best_epoch >= self.patience:
            trainer.stop_training, trainer.stop_reason = True, f"no better validation error in {self.patience} epochs"


def finetune(
    model: DeepAutoencoder,
    data: Images,
    *,
    lr: float,
    batch_size: int,
    epochs: int,
    deadline: Deadline,
    device: torch.device,
    seed: int,
    report: Callable[[dict], None] = lambda e: None,
    patience: int = 10**9,
) -> dict[str, Any]:
    """Fine-tune on the training images with Adam (cosine schedule over ``epochs``) until ``epochs``, the deadline
    or ``patience``; load the weights of the epoch with the lowest validation error. Returns ``best_epoch``,
    ``best_val_squared_error``, ``epochs_run`` and ``stop_reason``."""
    fit = _Fit(deadline, report, patience)
    trainer = lamina.Trainer(
        model,
        optimizer={"type": "adam", "lr": lr},
        schedule={"type": "cosine"},
        epochs=epochs,
        batch_size=batch_size,
        device=device,
        seed=seed,
        callbacks=[fit],
        eval_batch_size=5000,
    )
    history = trainer.fit(ArrayDataset(data.train), ArrayDataset(data.val))
    if fit.best_state is not None:
        model.load_state_dict(fit.best_state)
    return {
        "best_epoch": fit.best_epoch,
        "best_val_squared_error": fit.best,
        "epochs_run": len(history),
        "stop_reason": getattr(trainer, "stop_reason", None) or "epochs done",
    }


class _Outputs(nn.Module):
    """A :class:`DeepAutoencoder`'s output before the output nonlinearity (logits for a cross-entropy model, the
    reconstruction for a squared-error one): what Hessian-free's Gauss-Newton products need."""

    def __init__(self, model: DeepAutoencoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.decoder(self.model.encoder(x))


def finetune_hf(
    model: DeepAutoencoder,
    data: Images,
    *,
    batch: int,
    curvature: float,
    cg_max_iter: int,
    deadline: Deadline,
    seed: int,
    report: Callable[[dict], None] = lambda e: None,
    eval_seconds: float = 2.0,
    max_steps: int = 10**9,
) -> dict[str, Any]:
    """Fine-tune with Hessian-free (Martens, 2010: PT+HF) until the deadline: each step's gradient on ``batch``
    training images (all of them if ``batch`` is at least their number), Gauss-Newton products on ``curvature`` of
    them, CG <= ``cg_max_iter``, the empirical-Fisher preconditioner and the initial damping of
    ``benchmarks.hessian_free``; the validation error is measured every ``eval_seconds`` of training and the weights
    of the lowest are kept; at most ``max_steps`` steps. Returns what :func:`finetune` returns, with steps in place
    of epochs."""
    from lamina.optim import HessianFree
    from lamina.train import Closure

    net = _Outputs(model)
    loss_fn = F.binary_cross_entropy_with_logits if model.loss == "cross_entropy" else F.mse_loss
    opt = HessianFree(
        model.parameters(),
        damping=0.05,
        cg_max_iter=cg_max_iter,
        curvature_batch=curvature,
        preconditioner="empirical_fisher",
    )
    generator = torch.Generator().manual_seed(seed)
    size = min(batch, len(data.train))
    best, best_step, best_state, step, trained, last_eval = math.inf, 0, None, 0, 0.0, -math.inf
    while not deadline.passed() and step < max_steps:
        began = time.perf_counter()
        xb = data.train[torch.randperm(len(data.train), generator=generator)[:size].to(data.train.device)]
        loss = opt.step(Closure(net, xb, xb, loss_fn))
        if data.train.is_cuda:
            torch.cuda.synchronize()
        trained, step = trained + time.perf_counter() - began, step + 1
        if trained - last_eval >= eval_seconds or deadline.passed() or step == max_steps:
            last_eval = trained
            value = squared_error(model.reconstruct, data.val)
            if value < best:
                best, best_step, best_state = value, step, copy.deepcopy(model.state_dict())
            report({"epoch": step, "train_loss": float(loss), "val_squared_error": value, "seconds": trained})
    if best_state is not None:
        model.load_state_dict(best_state)
    reason = "deadline" if deadline.passed() else f"{max_steps} steps done"
    return {"best_epoch": best_step, "best_val_squared_error": best, "epochs_run": step, "stop_reason": reason}


def choose_lr(
    make: Callable[[], DeepAutoencoder],
    data: Images,
    rates: Sequence[float],
    *,
    seconds: float,
    batch_size: int,
    device: torch.device,
    seed: int,
) -> tuple[float, dict[float, float], float]:
    """The Adam step size of ``rates`` whose model (``make()``, the same start each time) reaches the lowest
    validation squared error in ``seconds`` of fine-tuning; also every rate's error, and the seconds an epoch took
    (validation included), to fit the real run's schedule to its budget."""
    errors, spent, epochs = {}, 0.0, 0
    for lr in rates:
        model = make()
        began = time.perf_counter()
        result = finetune(
            model,
            data,
            lr=lr,
            batch_size=batch_size,
            epochs=10**6,
            deadline=Deadline(seconds / 60),
            device=device,
            seed=seed,
        )
        errors[lr] = result["best_val_squared_error"]
        spent, epochs = spent + time.perf_counter() - began, epochs + result["epochs_run"]
    return min(errors, key=errors.get), errors, spent / max(epochs, 1)


def plot_curves(
    curves: dict[str, list[tuple[float, float]]], path: Path, *, xlabel: str, ylabel: str, title: str, log: bool = True
) -> Path:
    """Named ``(x, y)`` curves on one axis (log y by default), saved as a PNG."""
    from lamina.report.plots import new_figure, save_figure

    fig, ax = new_figure((7, 4.5))
    for name, points in curves.items():
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, "-o", markersize=2, label=name)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, Path(path))


def plot_samples(x: torch.Tensor, shape: tuple[int, int], path: Path, *, title: str, columns: int = 10) -> Path:
    """A grid of ``(N, H*W)`` images (grey levels in [0, 1], scaled per image when outside), saved as a PNG."""
    from lamina.report.plots import new_figure, save_figure

    n = len(x)
    rows = math.ceil(n / columns)
    fig, axes = new_figure((1.0 * columns, 1.0 * rows + 0.6))
    fig.clf()
    for i in range(n):
        ax = fig.add_subplot(rows, columns, i + 1)
        ax.imshow(x[i].detach().float().cpu().reshape(shape).numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    return save_figure(fig, Path(path))


def seeded_model(sizes: Sequence[int], seed: int, device: torch.device, **options: Any) -> DeepAutoencoder:
    """A :class:`DeepAutoencoder` built under ``seed`` on ``device``."""
    with seeded(seed):
        return DeepAutoencoder(list(sizes), device=device, **options)


@dataclass
class Table:
    """One "deep autoencoder vs PCA" table of Hinton & Salakhutdinov (2006).

    Attributes:
        name: the result's name (``curves_autoencoder``).
        dataset: the registered dataset.
        sizes: the encoder's widths, input to code.
        bottom: the first layer's pretraining method (``rbm``; ``gaussian_rbm`` for real-valued pixels).
        loss: ``cross_entropy`` (logistic outputs) or ``mse`` (linear outputs).
        standardise: subtract each pixel's training mean and divide by the training images' standard deviation (one
            number), so the pixels have zero mean and unit variance on average (Gaussian visible units).
        pca_ks: the PCA sizes measured beside the code's size.
        published, source: the paper's figures and where they are printed.
        target: ``target(autoencoder_error, {k: pca_error})`` -> (met, what the target is).
        validation: training images held out for selection (0: the dataset's own validation split).
    """

    name: str
    dataset: str
    sizes: str
    bottom: str
    loss: str
    standardise: bool
    pca_ks: tuple[int, ...]
    published: dict[str, float]
    source: str
    target: Callable[[float, dict[int, float]], tuple[bool, str]]
    validation: int = 0
    dataset_options: dict[str, Any] = field(default_factory=dict)


def table_parser(table: Table, doc: str, *, budget: float, pretrain_epochs: int) -> argparse.ArgumentParser:
    """The options every autoencoder-vs-PCA script takes."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_options(parser, budget=budget)
    parser.add_argument("--sizes", default=table.sizes, help="the encoder's widths, input to code")
    parser.add_argument("--pretrain", choices=("rbm", "none"), default="rbm", help="RBM pretraining, or none")
    parser.add_argument("--pretrain-epochs", type=int, default=pretrain_epochs, help="RBM epochs per layer")
    parser.add_argument(
        "--pretrain-fraction", type=float, default=0.3, help="of the budget, at most, for pretraining (all layers)"
    )
    parser.add_argument(
        "--finetune",
        choices=("adam", "hf"),
        default="adam",
        help="fine-tuning: Adam (step size chosen on validation) or Hessian-free (Martens 2010's PT+HF)",
    )
    parser.add_argument(
        "--hf-batch", type=int, default=None, help="HF gradient batch (default: all on a GPU, else 2000)"
    )
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--rates", type=float, nargs="+", default=[1e-3, 3e-4], help="Adam step sizes to probe")
    parser.add_argument("--probe-fraction", type=float, default=0.08, help="of the budget left, per probed rate")
    parser.add_argument(
        "--max-epochs",
        type=int,
        default=2000,
        help="fine-tuning epochs at most; the cosine schedule spans those the budget holds (timed in the probe)",
    )
    parser.add_argument("--train-subset", type=int, default=None, help="training images kept (default: all)")
    parser.add_argument("--tag", default="", help="suffix of the result's name")
    return parser


def run_table(table: Table, args: argparse.Namespace) -> dict[str, Any]:
    """Measure the deep autoencoder and PCA on the same split: pretrain, choose Adam's step size on validation,
    fine-tune until the budget keeping the best validation epoch, score the test images once; write the JSON after
    every epoch and the figures at the end. Returns the result's fields."""
    device = start(args)
    deadline = Deadline(args.budget_minutes)
    sizes = [int(s) for s in args.sizes.split(",")]
    name = table.name + ("_hf" if args.finetune == "hf" else "")
    name += (f"_{args.tag}" if args.tag else "") + ("_smoke" if args.smoke else "")
    out = ResultFile(name, args.out_dir)
    figures = args.out_dir / "autoencoders"
    data = load_images(
        table.dataset, device, validation=table.validation, train_subset=args.train_subset, **table.dataset_options
    )
    print(f"{table.dataset} {data.sizes()} on {device}; sizes {sizes}; budget {args.budget_minutes:g} min", flush=True)
    plot_samples(
        data.train[:: max(1, len(data.train) // 40)][:40].cpu(),
        data.shape,
        figures / f"{table.dataset}_samples.png",
        title=f"{table.dataset} training images (generated)",
    )
    shift, spread = torch.zeros(1, device=device), torch.ones((), device=device)
    if table.standardise:
        data, shift, spread = data.standardised()
    k = sizes[-1]
    pcas = {c: PCA(data.train, c) for c in sorted({k, *table.pca_ks})}
    val_pca = {c: squared_error(p.reconstruct, data.val) for c, p in pcas.items()}
    mean_error = squared_error(lambda x: pcas[k].mean.to(x.dtype).expand_as(x), data.val)
    print(f"validation: PCA {val_pca}; the mean image {mean_error:.3f}", flush=True)
    out.update(
        sizes=sizes,
        data=data.sizes(),
        device=str(device),
        budget_minutes=args.budget_minutes,
        standardised=table.standardise,
        pixel_std=float(spread),
        published=table.published,
        published_source=table.source,
        val_pca_squared_error={str(c): v for c, v in val_pca.items()},
        val_mean_image_squared_error=mean_error,
        status="pretraining",
    )
    options = {"activation": "sigmoid", "code_activation": "identity", "loss": table.loss}
    if table.loss == "mse":
        options["output_activation"] = "identity"
    model = seeded_model(sizes, args.seed, device, **options)
    t0 = time.perf_counter()
    summary: list[dict] = []
    if args.pretrain == "rbm":
        summary = pretrain_stack(
            model,
            data.train,
            bottom=table.bottom,
            epochs=args.pretrain_epochs,
            batch_size=args.batch_size,
            device=device,
            seed=args.seed,
            seconds=args.pretrain_fraction * 60 * args.budget_minutes,
        )
    pretrain_s = time.perf_counter() - t0
    unrolled = squared_error(model.reconstruct, data.val)
    print(f"pretrained in {pretrain_s:.0f} s; validation error of the unrolled net {unrolled:.3f}", flush=True)
    start_state = copy.deepcopy(model.state_dict())
    out.update(
        pretrain_seconds=pretrain_s,
        pretrain=summary,
        val_unrolled_squared_error=unrolled,
        finetune_method=args.finetune,
        status="probing",
    )

    def fresh() -> DeepAutoencoder:
        clone = seeded_model(sizes, args.seed, device, **options)
        clone.load_state_dict(start_state)
        return clone

    if args.finetune == "hf":
        lr, probe, epochs = None, {}, None
    elif len(args.rates) > 1:
        probe_s = args.probe_fraction * max(deadline.left(), 0.0)
        lr, probe, epoch_s = choose_lr(
            fresh, data, args.rates, seconds=probe_s, batch_size=args.batch_size, device=device, seed=args.seed
        )
        # the cosine schedule ends at the deadline: as many epochs as the time left holds at the probe's pace
        epochs = max(1, min(args.max_epochs, int(0.97 * deadline.left() / epoch_s)))
        print(
            f"Adam step size {lr:g} (validation error after {probe_s:.0f} s each: {probe}); "
            f"{epoch_s:.2f} s an epoch: {epochs} epochs",
            flush=True,
        )
    else:
        lr, probe, epochs = args.rates[0], {}, args.max_epochs
    out.update(lr=lr, lr_probe={str(r): e for r, e in probe.items()}, finetune_epochs=epochs, status="fine-tuning")

    curve: list[dict] = []

    def report(epoch: dict) -> None:
        curve.append(epoch)
        if epoch["epoch"] % 10 == 0 or epoch["epoch"] < 10:
            print(f"  epoch {epoch['epoch']:4d}  loss {epoch['train_loss']:.3f}  val {epoch['val_squared_error']:.3f}")
        out.update(curve=curve)

    model = fresh()
    t0 = time.perf_counter()
    if args.finetune == "hf":
        hf = {
            "batch": args.hf_batch or (10**9 if device.type == "cuda" else 2000),
            "curvature": 0.1,
            "cg_max_iter": 250,
        }
        if device.type != "cuda":
            hf.update(curvature=0.25, cg_max_iter=30)  # benchmarks.hessian_free's CPU settings
        if args.smoke:
            hf.update(cg_max_iter=5)
        out.update(hf_settings=hf)
        fit = finetune_hf(
            model, data, **hf, deadline=deadline, seed=args.seed, report=report, max_steps=args.max_epochs
        )
    else:
        fit = finetune(
            model,
            data,
            lr=lr,
            batch_size=args.batch_size,
            epochs=epochs,
            deadline=deadline,
            device=device,
            seed=args.seed,
            report=report,
        )
    finetune_s = time.perf_counter() - t0
    model.eval()
    test_ae = squared_error(model.reconstruct, data.test)  # the test images, scored once
    test_pca = {c: squared_error(p.reconstruct, data.test) for c, p in pcas.items()}
    met, target = table.target(test_ae, test_pca)
    print(
        f"\ntest squared error per image: deep autoencoder {test_ae:.3f}; "
        + "; ".join(f"PCA({c}) {v:.3f}" for c, v in test_pca.items())
        + f"; published {table.published}; target ({target}) met: {met}"
    )
    fields = dict(
        status="done",
        finetune_seconds=finetune_s,
        fit=fit,
        test_squared_error=test_ae,
        test_pca_squared_error={str(c): v for c, v in test_pca.items()},
        pca_over_autoencoder=test_pca[k] / test_ae,
        target=target,
        target_met=met,
        total_seconds=deadline.elapsed(),
    )
    out.update(**fields)  # before the figures, so a plotting failure loses no measurement
    from lamina.generative.autoencoders.plots import plot_reconstructions

    with torch.no_grad():
        shown = data.test[:: max(1, len(data.test) // 10)][:10]
        rows = [shown, model.reconstruct(shown), pcas[k].reconstruct(shown)]
        rows = [(r * spread + shift).cpu() for r in rows]  # back to grey levels for display
    plot_reconstructions(
        rows[0],
        rows[1:],
        figures / f"{name}_reconstructions.png",
        image_shape=data.shape,
        labels=[f"deep AE ({test_ae:.2f})", f"PCA({k}) ({test_pca[k]:.2f})"],
        title=f"{table.dataset} test images: {'-'.join(map(str, sizes))} autoencoder vs PCA({k}); "
        "squared error per image",
    )
    plot_curves(
        {
            "deep autoencoder, validation": [(e["epoch"], e["val_squared_error"]) for e in curve],
            f"PCA({k}), validation": [(0, val_pca[k]), (max(len(curve), 1), val_pca[k])],
        },
        figures / f"{name}_learning_curve.png",
        xlabel="Hessian-free step" if args.finetune == "hf" else "fine-tuning epoch (Adam)",
        ylabel="squared reconstruction error per image",
        title=f"{table.dataset} {'-'.join(map(str, sizes))}: validation error while fine-tuning",
    )
    return out.payload
