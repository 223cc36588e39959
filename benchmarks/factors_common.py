"""Shared by the two factors-of-variation tables (``vincent_sda.py``, ``depth_pretraining.py``): a *cell* is
``(dataset, method, depth)``; it trains every configuration of a small grid, keeps the one with the lowest
validation error, and scores the test set once, with that one only.

Methods: ``svm_rbf`` (scikit-learn ``SVC(kernel="rbf")``, C and gamma on the grid), ``none`` (a logistic MLP from
a random initialisation), and greedy layer-wise pretraining of that MLP then supervised fine-tuning: ``autoencoder``
(SAA, Bengio et al. 2007), ``denoising_autoencoder`` (SdA, Vincent et al. 2008, masking noise) and ``rbm`` (DBN,
Hinton et al. 2006). Fine-tuning is SGD with momentum on the cross-entropy, keeping the epoch with the best
validation error (early stopping).

As a script (``python -m benchmarks.factors_common --png benchmarks/results/factors_of_variation_samples.png``)
it draws the first training images of the eight sets.

Scales (``--scale``): ``smoke`` (seconds, for tests), ``small`` (a CPU run: fewer units, epochs, grid points and
test examples; its figures are labelled "small scale") and ``paper`` (the paper's data sizes, 1000 units, for a
GPU). Cells run in ``--workers`` processes; the JSON under ``--out-dir`` is rewritten as each cell finishes, so a
run cut short by ``--budget-minutes`` keeps every finished cell (a cell running at the deadline stops its
training at the end of the current epoch and is scored with what it reached, marked ``cut_short``).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import multiprocessing
import time
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, command, machine

# -- published figures -------------------------------------------------------------------------------------------

DATASETS = [
    "mnist_basic",
    "mnist_rot",
    "mnist_bg_rand",
    "mnist_bg_img",
    "mnist_rot_bg_img",
    "rectangles",
    "rectangles_img",
    "convex",
]
SHORT = {
    "mnist_basic": "basic",
    "mnist_rot": "rot",
    "mnist_bg_rand": "bg-rand",
    "mnist_bg_img": "bg-img",
    "mnist_rot_bg_img": "rot-bg-img",
    "rectangles": "rect",
    "rectangles_img": "rect-img",
    "convex": "convex",
}
PAPER_TEST_SIZE = 50000  # every set of Larochelle et al. (2007) is tested on 50,000 examples

# Vincent, Larochelle, Bengio & Manzagol (2008), ICML, Table 1: test error (%) of SVM-rbf, SAA-3, DBN-3, SdA-3
# (the paper prints each with its 95% interval, 1.96 * sqrt(p (1 - p) / 50000), recomputed here by `interval95`).
VINCENT_COLUMNS = {"svm_rbf": "SVM-rbf", "autoencoder": "SAA-3", "rbm": "DBN-3", "denoising_autoencoder": "SdA-3"}
VINCENT_2008 = {
    "mnist_basic": {"svm_rbf": 3.03, "autoencoder": 3.46, "rbm": 3.11, "denoising_autoencoder": 2.80},
    "mnist_rot": {"svm_rbf": 11.11, "autoencoder": 10.30, "rbm": 10.30, "denoising_autoencoder": 10.29},
    "mnist_bg_rand": {"svm_rbf": 14.58, "autoencoder": 11.28, "rbm": 6.73, "denoising_autoencoder": 10.38},
    "mnist_bg_img": {"svm_rbf": 22.61, "autoencoder": 23.00, "rbm": 16.31, "denoising_autoencoder": 16.68},
    "mnist_rot_bg_img": {"svm_rbf": 55.18, "autoencoder": 51.93, "rbm": 47.39, "denoising_autoencoder": 44.49},
    "rectangles": {"svm_rbf": 2.15, "autoencoder": 2.41, "rbm": 2.60, "denoising_autoencoder": 1.99},
    "rectangles_img": {"svm_rbf": 24.04, "autoencoder": 24.05, "rbm": 22.50, "denoising_autoencoder": 21.59},
    "convex": {"svm_rbf": 19.13, "autoencoder": 18.41, "rbm": 18.63, "denoising_autoencoder": 19.06},
}
# the noise level the paper selected on validation for SdA-3, per dataset (its Table 1, in brackets)
VINCENT_2008_NOISE = {
    "mnist_basic": 0.10,
    "mnist_rot": 0.10,
    "mnist_bg_rand": 0.40,
    "mnist_bg_img": 0.25,
    "mnist_rot_bg_img": 0.25,
    "rectangles": 0.10,
    "rectangles_img": 0.25,
    "convex": 0.10,
}

# Larochelle, Bengio, Louradour & Lamblin (2009), JMLR 10, "Exploring strategies for training deep neural
# networks", the table of test error (%) against the number of hidden layers on MNIST-small (10,000 training
# images; the `mnist_basic` set) and MNIST-rotation, without pretraining, with (plain) autoassociator pretraining
# and with RBM pretraining; Erhan et al. (2010) discuss the same experiment. Depth 3 is the quote.
DEPTH_COLUMNS = {"none": "no pretraining", "autoencoder": "autoassociator", "rbm": "RBM"}
LAROCHELLE_2009 = {
    "mnist_basic": {
        "none": {1: 4.14, 2: 4.03, 3: 4.24, 4: 4.47},
        "autoencoder": {1: 3.87, 2: 3.38, 3: 3.37, 4: 3.39},
        "rbm": {1: 3.17, 2: 2.74, 3: 2.71, 4: 2.72},
    },
    "mnist_rot": {
        "none": {1: 15.22, 2: 10.63, 3: 11.98, 4: 11.73},
        "autoencoder": {1: 11.43, 2: 9.88, 3: 9.22, 4: 9.20},
        "rbm": {1: 10.47, 2: 9.54, 3: 8.80, 4: 8.71},
    },
}


def interval95(error_percent: float, n: int) -> float:
    """Half-width (in points) of the normal-approximation 95% interval of an error rate measured on ``n``
    examples: ``1.96 * sqrt(p (1 - p) / n)``, as Larochelle et al. (2007) and Vincent et al. (2008) print it."""
    p = error_percent / 100
    return 100 * 1.96 * math.sqrt(p * (1 - p) / n)


# -- scales and grids ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scale:
    """How big a run is: data sizes, network width, epochs, and the grid searched on validation.

    ``train_size`` counts the training examples *without* the validation ones (``None``: the paper's);
    ``test_size`` is a prefix of the generated test set (``None``: the paper's 50,000).
    """

    name: str
    hidden: int
    pretrain_epochs: int
    finetune_epochs: int
    patience: int
    batch_size: int
    pretrain_batch_size: int
    train_size: int | None
    validation: int | None
    test_size: int | None
    lr_none: tuple[float, ...]  # fine-tuning learning rates for the random-init network
    lr_pretrained: tuple[float, ...]  # ... for the pretrained ones
    noise: tuple[float, ...]  # masking fractions for the denoising autoencoder
    svm_c: tuple[float, ...]
    svm_gamma: tuple[float, ...]  # multiples of scikit-learn's gamma="scale", 1 / (n_features * x.var())
    momentum: float = 0.9
    rbm_lr: tuple[float, ...] = (0.1,)  # the RBMs' pretraining learning rate (SGD, momentum 0.5 then 0.9)
    warmup: int = 0  # fine-tuning epochs early stopping does not monitor (a random-init net's initial plateau)
    batch_none: tuple[int, ...] = ()  # fine-tuning batch sizes searched for the random-init network (): batch_size


SCALES = {
    "smoke": Scale("smoke", 16, 1, 2, 1, 64, 64, 300, 100, 200, (0.05,), (0.05,), (0.25,), (1.0,), (1.0,)),
    # a CPU run on a shared 2-core machine: 128 units, 2,000 training examples, one or two grid points
    "small": Scale("small", 128, 3, 40, 10, 20, 20, 2000, 1000, 2000, (0.02, 0.1), (0.05,), (0.25,), (3.0,), (1.0,)),
    # the paper's sizes (10,000 / 2,000 / 50,000; rectangles 1,000 / 200), 1,000 units; a grid of 1 to 3 points,
    # sized for minutes of one GPU per cell (the random-init network gets the most learning rates: the comparison
    # with pretraining is then, if anything, tilted towards no pretraining). The random-init sigmoid nets sit at
    # chance for their first epochs and were still improving at epoch 80 of the first run
    # (results/depth_pretraining_paper_gpu.md): 200 epochs, patience 20, the first 20 not monitored.
    "paper": Scale(
        "paper",
        1000,
        15,
        200,
        20,
        32,
        64,
        None,
        None,
        None,
        (0.01, 0.03, 0.1),
        (0.05,),
        (0.1, 0.25, 0.4),
        (10.0,),
        (1.0, 3.0),
        rbm_lr=(0.1, 0.01),  # 0.1 turns the first layer's units off on bg-rand (benchmarks/results/factors.md)
        warmup=20,
    ),
}


def grid(method: str, scale: Scale) -> list[dict[str, Any]]:
    """The configurations a cell compares on validation: for the networks the fine-tuning learning rate (and the
    denoising autoencoder's masking fraction, the RBM's learning rate, the random-init network's batch size when the
    scale searches it), for the SVM C and gamma."""
    if method == "svm_rbf":
        return [{"C": c, "gamma_factor": g} for c in scale.svm_c for g in scale.svm_gamma]
    if method == "none":
        if not scale.batch_none:
            return [{"lr": lr} for lr in scale.lr_none]
        return [{"lr": lr, "batch_size": b} for b in scale.batch_none for lr in scale.lr_none]
    if method == "denoising_autoencoder":
        return [{"lr": lr, "noise": v} for v in scale.noise for lr in scale.lr_pretrained]
    if method == "rbm":
        return [{"lr": lr, "rbm_lr": r} for r in scale.rbm_lr for lr in scale.lr_pretrained]
    if method == "autoencoder":
        return [{"lr": lr} for lr in scale.lr_pretrained]
    raise ValueError(
        f"factors_common: unknown method {method!r}; expected svm_rbf, none, autoencoder, denoising_autoencoder or rbm"
    )


@dataclasses.dataclass(frozen=True)
class Cell:
    """One table entry: a dataset, a method and the number of hidden layers (0 for the SVM)."""

    dataset: str
    method: str
    depth: int

    @property
    def key(self) -> str:
        """``dataset/method/depth``, the cell's name in the JSON."""
        return f"{self.dataset}/{self.method}/{self.depth}"


# -- data ---------------------------------------------------------------------------------------------------------


def load_arrays(dataset: str, scale: Scale) -> Any:
    """The dataset's splits at this scale, flattened to ``(N, 784)`` in [0, 1] (generated once and cached)."""
    import lamina

    spec = lamina.data.spec(dataset)
    validation = min(scale.validation or spec.validation, spec.validation)  # never more than the paper's
    train = min(scale.train_size or spec.train_size, spec.train_size - spec.validation)
    options: dict[str, Any] = {"flatten": True, "scale": "unit", "validation": validation}
    options["train_size"] = train + validation  # the generator's training file holds the validation examples
    options["test_size"] = min(scale.test_size or spec.test_size, spec.test_size)
    return lamina.data.load(dataset, **options)


def _generate(dataset: str, scale_name: str) -> None:
    """Generate (and cache) a dataset at a scale, returning nothing (for a process pool)."""
    load_arrays(dataset, SCALES[scale_name])


def _on_device(splits: Any, device: Any) -> tuple[Any, Any, Any]:
    """The three splits as ``ArrayDataset`` s whose tensors live on ``device``."""
    from lamina.data import ArrayDataset

    return tuple(ArrayDataset(p.x.to(device), p.y.to(device)) for p in (splits.train, splits.validation, splits.test))


# -- training ------------------------------------------------------------------------------------------------------


class Deadline:
    """A callback that stops training at the end of the first epoch after ``deadline`` (``time.time()`` seconds),
    and remembers that it did (``fired``)."""

    def __init__(self, deadline: float) -> None:
        self.deadline, self.fired = deadline, False

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Stop training once the deadline has passed."""
        if time.time() > self.deadline:
            self.fired = True
            trainer.stop_training = True
            trainer.stop_reason = "the time budget ran out"


def _as_callback(deadline: Deadline) -> Any:
    """``deadline`` as a :class:`lamina.train.callbacks.Callback` (subclassed here so that importing this module
    does not import torch)."""
    from lamina.train.callbacks import Callback

    class _DeadlineCallback(Callback):
        """Forwards ``on_epoch_end`` to the :class:`Deadline`."""

        def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
            """See :meth:`Deadline.on_epoch_end`."""
            deadline.on_epoch_end(trainer, epoch, logs)

    return _DeadlineCallback()


def pretrain_spec(method: str, config: dict[str, Any], scale: Scale) -> dict[str, Any]:
    """The ``[pretrain]`` table for a method (greedy modules trained ``scale.pretrain_epochs`` each)."""
    spec: dict[str, Any] = {"method": method, "epochs": scale.pretrain_epochs, "batch_size": scale.pretrain_batch_size}
    if method == "rbm":  # the weight cost of Hinton's code; no monitoring or figures inside a benchmark
        spec.update(weight_decay=0.0002, monitor_examples=0, plots=False)
        spec["optimizer"] = {"type": "sgd", "lr": config.get("rbm_lr", 0.1), "momentum": 0.5}
    if method == "denoising_autoencoder":
        spec.update(corruption="masking", level=config["noise"])
    return spec


def fit_network(
    data: tuple[Any, Any, Any],
    method: str,
    depth: int,
    config: dict[str, Any],
    scale: Scale,
    *,
    device: Any,
    seed: int,
    deadline: float = math.inf,
) -> dict[str, Any]:
    """Build a ``784-hidden x depth-classes`` logistic MLP, pretrain its hidden layers with ``method`` (unless
    ``none``), fine-tune it with early stopping on the validation error; return the trained trainer and figures.

    Returns ``{"trainer", "validation_error" (%), "best_epoch", "epochs_run", "seconds", "cut_short"}``.
    """
    import lamina
    from lamina.pretrain import pretrain_layerwise
    from lamina.train import EarlyStopping
    from lamina.train.rng import seeded

    train, validation, _ = data
    classes = int(train.y.max()) + 1
    layers = [{"type": "dense", "units": scale.hidden, "activation": "sigmoid"} for _ in range(depth)]
    with seeded(seed):
        model = lamina.build_model([*layers, {"type": "dense", "units": classes}], (train.x.shape[1],))
    stop = Deadline(deadline)
    t0 = time.perf_counter()
    if method != "none":
        pretrain_layerwise(
            model,
            train,
            pretrain_spec(method, config, scale),
            device=device,
            seed=seed,
            callbacks=[_as_callback(stop)],
        )
    stopper = EarlyStopping("val_accuracy", patience=scale.patience, restore_best=True, start_from_epoch=scale.warmup)
    trainer = lamina.Trainer(
        model,
        loss="cross_entropy",
        epochs=scale.finetune_epochs,
        batch_size=config.get("batch_size", scale.batch_size),
        optimizer={"type": "sgd", "lr": config["lr"], "momentum": scale.momentum},
        device=device,
        seed=seed,
        callbacks=[stopper, _as_callback(stop)],
        verbose=0,
    )
    trainer.fit(train, validation)
    best, best_epoch = stopper.best, stopper.best_epoch
    if not math.isfinite(best):  # the budget ended inside the unmonitored warm-up: the last epoch is what there is
        best, best_epoch = trainer.history[-1]["val_accuracy"], trainer.epoch - 1
    return {
        "trainer": trainer,
        "validation_error": 100 * (1 - best),
        "best_epoch": best_epoch + 1,
        "epochs_run": trainer.epoch,
        "seconds": time.perf_counter() - t0,
        "cut_short": stop.fired,
    }


def fit_svm(data: tuple[Any, Any, Any], config: dict[str, Any]) -> dict[str, Any]:
    """An RBF SVM (scikit-learn ``SVC``, one-vs-one) with ``C`` and ``gamma = gamma_factor / (784 * x.var())``;
    returns ``{"model", "validation_error" (%), "gamma", "seconds"}``."""
    from sklearn.svm import SVC

    train, validation, _ = data
    x, y = train.x.cpu().double().numpy(), train.y.cpu().numpy()
    gamma = float(config["gamma_factor"] / (x.shape[1] * x.var()))
    t0 = time.perf_counter()
    model = SVC(kernel="rbf", C=config["C"], gamma=gamma, cache_size=1000).fit(x, y)
    predicted = model.predict(validation.x.cpu().double().numpy())
    error = 100 * float((predicted != validation.y.cpu().numpy()).mean())
    return {"model": model, "validation_error": error, "gamma": gamma, "seconds": time.perf_counter() - t0}


def run_cell(cell: Cell, scale: Scale, device: str, deadline: float, seed: int, threads: int | None) -> dict:
    """Run one cell: every grid configuration trained and scored on validation, the best one scored on the test set
    once. Returns the cell's record (for the JSON)."""
    record: dict[str, Any] = {"cell": cell.key, **dataclasses.asdict(cell), "scale": scale.name}
    if time.time() > deadline:  # before importing torch: a cell past the budget costs its worker nothing
        return {**record, "status": "not_reached"}
    import torch

    from benchmarks.common import limit_threads

    limit_threads(threads)
    t_cell = time.perf_counter()
    splits = load_arrays(cell.dataset, scale)
    on = "cpu" if cell.method == "svm_rbf" else device  # the SVM is scikit-learn's, on the CPU
    if on == "auto":
        from lamina.train.rng import resolve_device

        on = str(resolve_device("auto"))
    data = _on_device(splits, torch.device(on))  # the data stay on the device for the whole cell
    tried: list[dict] = []
    best, best_fit, chosen = math.inf, None, {}
    for config in grid(cell.method, scale):
        if tried and time.time() > deadline:
            break
        if cell.method == "svm_rbf":
            fit = fit_svm(data, config)
        else:
            fit = fit_network(data, cell.method, cell.depth, config, scale, device=on, seed=seed, deadline=deadline)
        row = {**config, **{k: _plain(v) for k, v in fit.items() if k not in ("trainer", "model")}}
        if cell.method not in ("svm_rbf", "none"):
            row["pretrain_epochs"] = scale.pretrain_epochs  # a merged grid may join runs that set it differently
        tried.append(row)
        print(f"  {cell.key} {config}: validation error {fit['validation_error']:.2f}%", flush=True)
        if fit["validation_error"] < best:
            best, best_fit, chosen = fit["validation_error"], fit, row
        else:
            del fit
    assert best_fit is not None  # the first configuration always runs
    test = data[2]
    if cell.method == "svm_rbf":
        predicted = best_fit["model"].predict(test.x.cpu().double().numpy())
        test_error = 100 * float((predicted != test.y.cpu().numpy()).mean())
    else:
        test_error = 100 * (1 - best_fit["trainer"].evaluate(test)["accuracy"])
    return {
        **record,
        "status": "cut_short" if len(tried) < len(grid(cell.method, scale)) or chosen.get("cut_short") else "done",
        "sizes": {"train": len(data[0]), "validation": len(data[1]), "test": len(test)},
        "hidden": scale.hidden if cell.method != "svm_rbf" else None,
        "grid": tried,
        "chosen": chosen,
        "validation_error": best,
        "test_error": test_error,
        "test_interval95": interval95(test_error, len(test)),
        "seconds": time.perf_counter() - t_cell,
    }


def _plain(value: Any) -> Any:
    """Numbers as Python floats (numpy and torch scalars are not JSON)."""
    return float(value) if hasattr(value, "item") and not isinstance(value, (bool, int)) else value


def _run_cell_star(job: tuple) -> dict:
    """``run_cell(*job)``, for the process pool; a cell that raises is recorded as ``failed`` with its traceback,
    so that one broken cell does not end the run."""
    try:
        return run_cell(*job)
    except Exception:  # noqa: BLE001  # recorded in the JSON and printed; the other cells go on
        import traceback

        cell = job[0]
        return {
            "cell": cell.key,
            **dataclasses.asdict(cell),
            "scale": job[1].name,
            "status": "failed",
            "error": traceback.format_exc(),
        }


# -- the command line and the JSON -------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options both table scripts share."""
    parser.add_argument("--scale", choices=sorted(SCALES), default="small", help="smoke, small (CPU) or paper (GPU)")
    parser.add_argument("--device", default="auto", help="where the networks train (cpu, cuda, auto)")
    parser.add_argument("--budget-minutes", type=float, default=math.inf, help="wall-clock budget of the whole run")
    parser.add_argument("--out-dir", type=Path, default=RESULTS, help="folder of the JSON and the results page")
    parser.add_argument("--workers", type=int, default=1, help="cells run in this many processes at once")
    parser.add_argument("--threads", type=int, default=None, help="torch and BLAS threads per worker")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", default=None, help="comma-separated subset of the table's datasets")
    parser.add_argument("--methods", default=None, help="comma-separated subset of the table's methods")
    parser.add_argument("--depths", default=None, help="comma-separated subset of the hidden-layer counts (0: SVM)")
    parser.add_argument("--max-cells", type=int, default=None, help="run only the first N cells of the order")
    parser.add_argument("--finetune-epochs", type=int, default=None, help="override the scale's fine-tuning epochs")
    parser.add_argument("--patience", type=int, default=None, help="override the scale's early-stopping patience")
    parser.add_argument("--hidden", type=int, default=None, help="override the scale's units per hidden layer")
    parser.add_argument(
        "--batch-none", default=None, help="fine-tuning batch sizes searched without pretraining (comma-separated)"
    )
    parser.add_argument(
        "--warmup", type=int, default=None, help="override the scale's unmonitored first fine-tuning epochs"
    )
    parser.add_argument(
        "--lr-none", default=None, help="override the scale's learning rates without pretraining (comma-separated)"
    )
    parser.add_argument(
        "--lr-pretrained", default=None, help="override the scale's learning rates after pretraining (comma-separated)"
    )
    parser.add_argument("--rbm-lr", default=None, help="override the scale's RBM pretraining rates (comma-separated)")
    parser.add_argument("--noise", default=None, help="override the scale's SdA masking fractions (comma-separated)")
    parser.add_argument("--pretrain-epochs", type=int, default=None, help="override the scale's epochs per layer")
    parser.add_argument("--svm-c", default=None, help="override the scale's SVM C values (comma-separated)")
    parser.add_argument(
        "--svm-gamma", default=None, help="override the scale's SVM gamma factors, x 1/(784 var(x)) (comma-separated)"
    )


def scale_of(args: argparse.Namespace) -> Scale:
    """The ``--scale`` with the command line's overrides (fine-tuning epochs, patience, warm-up, width, pretraining
    epochs, fine-tuning batch sizes and learning rates with and without pretraining, the RBM's rates, the SdA's
    masking fractions, the SVM's C and gamma); the JSON and the page record the result."""
    changes: dict[str, Any] = {
        field: value
        for field, value in (
            ("finetune_epochs", args.finetune_epochs),
            ("patience", args.patience),
            ("warmup", args.warmup),
            ("hidden", args.hidden),
            ("pretrain_epochs", args.pretrain_epochs),
        )
        if value is not None
    }
    lists = (("lr_none", float), ("batch_none", int), ("lr_pretrained", float), ("rbm_lr", float))
    for field, convert in (*lists, ("noise", float), ("svm_c", float), ("svm_gamma", float)):
        text = getattr(args, field)  # each comma-separated option is named after the Scale field it sets
        if text:
            changes[field] = tuple(convert(v) for v in text.split(","))
    return dataclasses.replace(SCALES[args.scale], **changes)


def select(cells: list[Cell], args: argparse.Namespace) -> list[Cell]:
    """The cells that ``--datasets``, ``--methods``, ``--depths`` and ``--max-cells`` keep, in priority order."""
    for option, field, convert in (("datasets", "dataset", str), ("methods", "method", str), ("depths", "depth", int)):
        text = getattr(args, option)
        if not text:
            continue
        keep = {convert(v) for v in text.split(",")}
        have = {getattr(c, field) for c in cells}
        if keep - have:
            raise SystemExit(f"--{option}: unknown {sorted(keep - have)}; this table has {sorted(have)}")
        cells = [c for c in cells if getattr(c, field) in keep]
    return cells[: args.max_cells] if args.max_cells else cells


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Rewrite ``path`` with the payload, the command, the date and the machine (non-finite numbers encoded)."""
    from lamina import jsonio
    from lamina.files import write_text

    record = {"command": command(), "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(), **payload}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, jsonio.dumps(record, indent=2) + "\n")


def run_cells(
    name: str, cells: list[Cell], args: argparse.Namespace, on_update: Any = None
) -> tuple[dict[str, dict], Path]:
    """Run the cells (in ``args.workers`` processes, in order), rewriting ``<out-dir>/<name>_<scale>.json`` after
    each; ``on_update(results)`` is called after each too (to rewrite the results page). Returns the records by
    cell key and the JSON's path."""
    deadline = time.time() + 60 * args.budget_minutes
    # generate every dataset before the cells start (in parallel with several workers), so that no two cells
    # generate the same one
    datasets = sorted({c.dataset for c in cells})
    t0 = time.perf_counter()
    if args.workers > 1 and len(datasets) > 1:
        with multiprocessing.get_context("spawn").Pool(min(args.workers, len(datasets))) as pool:
            pool.starmap(_generate, [(d, args.scale) for d in datasets])
    else:
        for dataset in datasets:
            load_arrays(dataset, SCALES[args.scale])
    print(f"{', '.join(datasets)}: ready ({time.perf_counter() - t0:.1f} s)", flush=True)
    path = Path(args.out_dir) / f"{name}_{args.scale}.json"
    results: dict[str, dict] = {}
    scale = scale_of(args)
    settings = {"scale": dataclasses.asdict(scale), "seed": args.seed, "device": args.device}
    jobs = [(c, scale, args.device, deadline, args.seed, args.threads) for c in cells]

    def done(record: dict) -> None:
        results[record["cell"]] = record
        if record["status"] == "failed":
            print(f"{record['cell']}: FAILED\n{record['error']}", flush=True)
        elif record["status"] != "not_reached":
            print(
                f"{record['cell']}: test error {record['test_error']:.2f}% (validation "
                f"{record['validation_error']:.2f}%, {record['seconds']:.0f} s, {record['status']})",
                flush=True,
            )
        write_json(path, {"benchmark": name, **settings, "cells": results})
        if on_update is not None:
            on_update(results)

    if args.workers <= 1:
        for job in jobs:
            done(_run_cell_star(job))
    else:
        context = multiprocessing.get_context("spawn")  # CUDA cannot be forked
        with context.Pool(args.workers, maxtasksperchild=1) as pool:
            for record in pool.imap_unordered(_run_cell_star, jobs):
                done(record)
    return results, path


def _merge_rank(record: dict) -> tuple[float, bool]:
    """Which of two runs' records of a cell a merge keeps (the lower): the validation error, then a search that
    finished before one the budget cut short."""
    return record["validation_error"], record["status"] == "cut_short"


def merge_runs(paths: list[Path], keys: set[str]) -> tuple[dict[str, dict], list[dict]]:
    """Join the cells of several runs' JSONs (of either table) into one table's results, for the cells in ``keys``.

    A cell finished by one run keeps that run's record. A cell finished by several is a larger grid searched in
    parts: its record is the one whose chosen configuration has the lowest validation error (that run scored the
    test set with it, once; on a tie, a finished search before one the budget cut short, then the earlier run), and
    its ``grid`` becomes every point any run tried, each tagged with its run (``run``,
    the index in ``paths``). Cells no run finished are left out. Returns the results and, per run, its command, date
    and the cells it finished."""
    from lamina import jsonio

    results: dict[str, dict] = {}
    runs = []
    for index, path in enumerate(paths):
        run = jsonio.loads(Path(path).read_text())
        if run.get("scale", {}).get("name") not in (None, "paper"):
            raise SystemExit(f"--merge: {path} is a {run['scale']['name']}-scale run; merge paper-scale runs only")
        finished = {
            k: r for k, r in run.get("cells", {}).items() if k in keys and r.get("status") in ("done", "cut_short")
        }
        runs.append(
            {"path": str(path), "command": run.get("command"), "date": run.get("date"), "cells": sorted(finished)}
        )
        for key, record in finished.items():
            points = [{**point, "run": index} for point in record.get("grid", [])]
            record = {**record, "chosen": {**record.get("chosen", {}), "run": index}}
            earlier = results.get(key)
            if earlier is not None:
                points = earlier["grid"] + points
                if _merge_rank(earlier) <= _merge_rank(record):
                    record = earlier
            results[key] = {**record, "grid": points}
    return results, runs


def measured(results: dict[str, dict], cell: Cell) -> dict | None:
    """The finished record of a cell, or ``None``."""
    record = results.get(cell.key)
    return record if record is not None and record.get("status") in ("done", "cut_short") else None


def format_measured(record: dict | None) -> str:
    """``"3.12 ± 0.48"`` for a finished cell (its own 95% interval), ``"-"`` otherwise; ``*`` marks a cell cut
    short by the budget."""
    if record is None:
        return "-"
    mark = "*" if record["status"] == "cut_short" else ""
    return f"{record['test_error']:.2f} ± {record['test_interval95']:.2f}{mark}"


def format_published(error: float) -> str:
    """``"3.03 ± 0.15"``: the paper's figure and its 95% interval on 50,000 test examples."""
    return f"{error:.2f} ± {interval95(error, PAPER_TEST_SIZE):.2f}"


def grid_text(scale: Scale) -> str:
    """The grid and the fixed settings of a scale, in words, for the results pages."""
    train = scale.train_size or "the paper's"
    validation = scale.validation or "the paper's"
    return (
        f"{scale.hidden} sigmoid units per hidden layer; greedy pretraining {scale.pretrain_epochs} epochs per "
        f"layer (batch {scale.pretrain_batch_size}; autoencoders: Adam 1e-3, cross-entropy reconstruction; RBM: "
        f"CD-1, SGD momentum 0.5 then 0.9, weight cost 0.0002); fine-tuning SGD momentum {scale.momentum}, batch "
        f"{scale.batch_size}, at most {scale.finetune_epochs} epochs, early stopping on validation error "
        f"(patience {scale.patience}"
        + (f", not monitored in the first {scale.warmup} epochs" if scale.warmup else "")
        + f"), the best epoch kept. Grid (validation only): fine-tuning lr "
        f"{list(scale.lr_none)} without pretraining"
        + (f" (x batch {list(scale.batch_none)})" if scale.batch_none else "")
        + f", {list(scale.lr_pretrained)} with; RBM pretraining lr "
        f"{list(scale.rbm_lr)}; SdA masking fraction {list(scale.noise)}; SVM C {list(scale.svm_c)} x gamma "
        f"{list(scale.svm_gamma)} / (784 var(x)). Training examples: {train}; validation: {validation}; "
        f"test: {scale.test_size or PAPER_TEST_SIZE}."
    )


def scale_note(scale: Scale) -> list[str]:
    """A warning paragraph for the pages of a run below the paper's scale (none at paper scale)."""
    if scale.name == "paper":
        return []
    return [
        f"**{scale.name.capitalize()} scale: not comparable with the published figures.** {scale.train_size} training "
        f"examples instead of the paper's 10,000, {scale.hidden} units per layer, {scale.pretrain_epochs} pretraining "
        f"epochs per layer, {scale.test_size} test examples: the ordering of the methods is what it shows; the "
        "published column is the paper's full-scale figure. `--scale paper` (a GPU) is the comparison.",
        "",
    ]


def config_text(record: dict) -> str:
    """The chosen configuration of a finished cell, with its validation error and epochs, in one line."""
    chosen = record["chosen"]
    names = ("lr", "batch_size", "noise", "rbm_lr", "pretrain_epochs", "C", "gamma", "best_epoch", "epochs_run", "run")
    keys = [k for k in names if k in chosen]
    parts = [f"{k} {chosen[k]:.4g}" if isinstance(chosen[k], float) else f"{k} {chosen[k]}" for k in keys]
    return f"{', '.join(parts)}; validation error {record['validation_error']:.2f}% ({len(record['grid'])} tried)"


# -- the sample figure (``python -m benchmarks.factors_common``) ------------------------------------------------


def sample_figure(path: Path, per_set: int = 10, seed: int = 0) -> Path:
    """Draw the first ``per_set`` training images of each of the eight generated sets (one row per set, labels above
    the images) into a PNG at ``path``. The images are those of the full sets (whole generation blocks are a prefix
    of every larger set), generated here at 1,000 training examples."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    import lamina
    from lamina.report.plots import save_figure

    fig = Figure(figsize=(per_set * 0.9 + 1.4, len(DATASETS) * 1.0))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(DATASETS), per_set)
    for row, dataset in enumerate(DATASETS):
        train = lamina.data.load(dataset, train_size=1000, test_size=10, validation=0, seed=seed).train
        for col in range(per_set):
            ax = axes[row, col]
            ax.imshow(train.x[col, 0].numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(str(int(train.y[col])), fontsize=7, pad=2)
        axes[row, 0].set_ylabel(SHORT[dataset], rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle("The factors-of-variation sets as lamina generates them (seed 0; label above each image)", fontsize=9)
    return save_figure(fig, path)


def main() -> None:
    """Draw the sample figure of the eight generated sets."""
    parser = argparse.ArgumentParser(
        description="The shared code of benchmarks.vincent_sda and benchmarks.depth_pretraining; as a script, it "
        "draws the first training images of the eight factors-of-variation sets: "
        "python -m benchmarks.factors_common --png benchmarks/results/factors_of_variation_samples.png"
    )
    parser.add_argument("--png", type=Path, default=RESULTS / "factors_of_variation_samples.png")
    parser.add_argument("--per-set", type=int, default=10, help="images per set (one row per set)")
    parser.add_argument("--seed", type=int, default=0, help="the generation seed")
    args = parser.parse_args()
    print(sample_figure(args.png, args.per_set, args.seed))


def table_main(name: str, doc: str | None, all_cells: list[Cell], page: Any) -> None:
    """A table script's command line: parse the options, run the chosen cells, and rewrite ``<name>_<scale>.md``
    (``page(results, scale)``) after every cell and at the end; with ``--merge``, join earlier runs instead."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        default=None,
        help="join these runs' JSONs (paper scale, of either table: cells they share count for both) into "
        "<out-dir>/<name>_paper_<tag>.json and .md instead of running cells",
    )
    parser.add_argument("--tag", default="merged", help="the merged files' suffix (with --merge)")
    args = parser.parse_args()
    if args.merge:
        results, runs = merge_runs(args.merge, {c.key for c in all_cells})
        stem = Path(args.out_dir) / f"{name}_paper_{args.tag}"
        write_json(
            stem.with_suffix(".json"), {"benchmark": name, "scale": {"name": "paper"}, "runs": runs, "cells": results}
        )
        commands = [f"run {i}: `{r['command']}`" for i, r in enumerate(runs) if r["cells"]]
        stem.with_suffix(".md").write_text(page(results, SCALES["paper"], commands))
        print(f"{len(results)} cells from {len(runs)} runs: {stem}.json, {stem}.md")
        return
    chosen = select(all_cells, args)
    scale = scale_of(args)
    md = Path(args.out_dir) / f"{name}_{args.scale}.md"

    def update(results: dict[str, dict]) -> None:
        md.write_text(page(results, scale))

    print(f"{len(chosen)} cells at {args.scale} scale on {args.device}, {args.workers} worker(s)")
    results, path = run_cells(name, chosen, args, on_update=update)
    update(results)
    print(page(results, scale))
    print(f"results: {path}, {md}")


def command_lines(cmd: str | list[str] | None, chosen: list[str]) -> list[str]:
    """The end of a table's page: the command that made it (a list: the runs joined by ``--merge``), where the
    sample images come from, and the chosen configuration of every cell."""
    if isinstance(cmd, list):
        said = (
            "Runs joined with `--merge` (the grid above is the paper scale's default, which each run's command "
            "overrides in part; each cell's `grid` in the JSON lists every point it tried, with its run, and each "
            "chosen configuration below names the run that measured it): " + "; ".join(cmd)
        )
    else:
        said = f"Command: `{cmd or command()}`"
    return [
        f"{said}; sample images of the eight sets: "
        "`factors_of_variation_samples.png` "
        "(`python -m benchmarks.factors_common --png benchmarks/results/factors_of_variation_samples.png`).",
        "",
        "Chosen configurations:",
        "",
        *chosen,
        "",
    ]


if __name__ == "__main__":
    main()
