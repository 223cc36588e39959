"""DCGAN on MNIST (issue #27): samples per epoch, and a Fréchet distance in lamina's own LeNet features.

Trains ``examples/mnist_dcgan.toml`` (Radford et al., 2016's guidelines, Goodfellow et al., 2014's non-saturating
loss) with :func:`lamina.generative.adversarial.config.train_gan`, saving a grid of 64 samples (fixed latent vectors)
after every epoch in ``RUN_DIR/samples/``, and scores the generator after every epoch with
:class:`benchmarks.sample_quality.MnistScorer`: the Fréchet distance between the LeNet-5 F6 features of the samples
and of the MNIST training images (**not Inception FID**: a LeNet trained by lamina on MNIST, see
``benchmarks/sample_quality.py``), beside real test images (the floor) and Gaussian-noise baselines, and the balance
of the LeNet's predicted classes of the samples (chi-square against uniform, max/min ratio).

The run stops cleanly at ``--budget-minutes`` (a checkpoint in ``RUN_DIR`` lets the same command resume it) and the
JSON (``OUT_DIR/gan_mnist_<device>.json``) is rewritten after every epoch. ``--dataset fashion_mnist`` runs the same
on Fashion-MNIST (Xiao et al., 2017), scored in the features of a LeNet trained on Fashion-MNIST
(``OUT_DIR/gan_fashion_mnist_<device>.json``).

    nice -n 10 python -m benchmarks.gan_mnist --device cpu --budget-minutes 15 --threads 2
    python -m benchmarks.gan_mnist --device cuda --budget-minutes 6 --out-dir OUT --run-dir OUT/run
    python -m benchmarks.gan_mnist --smoke --out-dir /tmp/gan_smoke    (a few seconds: a tiny subset)
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import add_threads_option, command, limit_threads, machine

ROOT = Path(__file__).resolve().parents[1]


def _write(path: Path, payload: dict[str, Any]) -> None:
    from lamina import files, jsonio

    path.parent.mkdir(parents=True, exist_ok=True)
    files.atomic_write(path, jsonio.dumps(payload, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    """Train, score after every epoch, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=ROOT / "examples" / "mnist_dcgan.toml", help="the GAN file")
    parser.add_argument(
        "--dataset",
        default="mnist",
        choices=["mnist", "fashion_mnist"],
        help="train and score on this dataset (replaces the file's [data] name; the LeNet is trained on it too)",
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--budget-minutes", type=float, default=15.0, help="wall-clock budget for the whole script")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results", help="where the JSON goes")
    parser.add_argument(
        "--run-dir", type=Path, default=None, help="checkpoint and sample grids (default runs/gan_mnist_<device>)"
    )
    parser.add_argument("--epochs", type=int, default=None, help="override the file's train.epochs")
    parser.add_argument("--samples", type=int, default=10000, help="samples scored after the last epoch")
    parser.add_argument("--epoch-samples", type=int, default=2000, help="samples scored after every epoch")
    # the LeNet's options of benchmarks.sample_quality (add_feature_options), restated so that `--help` does not
    # import that module: `python -m benchmarks.sample_quality` must find it unimported
    parser.add_argument("--feature-epochs", type=int, default=2, help="epochs of the LeNet feature network")
    parser.add_argument("--feature-subset", type=int, default=None, help="train the LeNet on the first N images")
    parser.add_argument("--reference", type=int, default=10000, help="training images giving the reference statistics")
    parser.add_argument("--fresh", action="store_true", help="delete RUN_DIR's checkpoint instead of resuming it")
    parser.add_argument("--smoke", action="store_true", help="a tiny run (256 training images, 1 epoch) in seconds")
    add_threads_option(parser)
    args = parser.parse_args(argv)
    limit_threads(args.threads)

    from benchmarks.sample_quality import mnist_reference
    from lamina.generative.adversarial.config import load_gan_experiment, train_gan
    from lamina.generative.adversarial.plots import SampleGrid, plot_sample_grid
    from lamina.train.callbacks.base import Callback

    start = time.monotonic()
    table = __import__("tomllib").loads(args.config.read_text(encoding="utf-8"))
    subset = 256 if args.smoke else None
    table["data"]["name"] = args.dataset
    stem = "gan_mnist" if args.dataset == "mnist" else f"gan_{args.dataset}"
    if args.smoke:
        table["data"]["train_subset"] = subset
        table["train"].update(epochs=1, batch_size=32)
        args.samples, args.epoch_samples, args.feature_epochs = 256, 128, 1
    if args.epochs is not None:
        table["train"]["epochs"] = args.epochs
    experiment = load_gan_experiment(table)
    run_dir = args.run_dir or ROOT / "runs" / f"{stem}_{args.device}{'_smoke' if args.smoke else ''}"
    if args.fresh and run_dir.exists():
        shutil.rmtree(run_dir)
    out = args.out_dir / f"{stem}_{args.device}{'_smoke' if args.smoke else ''}.json"

    scorer, reference = mnist_reference(
        args.out_dir,
        device=args.device,
        feature_epochs=args.feature_epochs,
        feature_subset=args.feature_subset,
        reference=args.reference,
        train_subset=subset,
        n=args.samples,
        dataset=args.dataset,
    )
    payload: dict[str, Any] = {
        "benchmark": "gan_mnist",
        "dataset": args.dataset,
        "command": command(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        "config": str(args.config.relative_to(ROOT) if args.config.is_relative_to(ROOT) else args.config),
        "note": "Frechet distance in the F6 features of lamina's LeNet-5 trained on MNIST: not Inception FID",
        **reference,
        "epochs": [],
    }
    _write(out, payload)
    print(
        f"reference ready after {time.monotonic() - start:.0f} s: "
        + ", ".join(f"{k} {v['frechet']:.2f}" for k, v in reference["baselines"].items())
    )

    class Score(Callback):
        """Score ``epoch_samples`` samples after every epoch and rewrite the JSON."""

        def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
            """Score this epoch's generator."""
            images = trainer.gan.sample(args.epoch_samples, generator=_generator(trainer.device, 1))
            row = {"epoch": epoch + 1, **logs, **scorer.score(images), "elapsed_s": time.monotonic() - start}
            payload["epochs"].append(row)
            _write(out, payload)
            print(
                f"epoch {epoch + 1}: frechet {row['frechet']:.2f}, chi2 {row['chi_square']:.0f}, "
                f"max/min {row['max_min_ratio']:.2f}, d_loss {logs['d_loss']:.3f}, g_loss {logs['g_loss']:.3f}"
            )

    reserve = 0.5 if not args.smoke else 0.0  # minutes kept for the final scoring
    budget = max(args.budget_minutes - (time.monotonic() - start) / 60 - reserve, 0.05)
    trainer = train_gan(
        experiment,
        run_dir,
        device=args.device,
        budget_minutes=budget,
        callbacks=[SampleGrid(run_dir / "samples"), Score()],
        verbose=1,
    )
    images = trainer.gan.sample(args.samples, generator=_generator(trainer.device, 2))
    final = scorer.score(images)
    payload["final"] = {
        "epochs_completed": trainer.epoch,
        "discriminator_steps": trainer.step,
        "generator_steps": trainer.generator_steps,
        "stopped_by_budget": trainer.epoch < trainer.epochs,
        **final,
    }
    payload["wall_minutes"] = (time.monotonic() - start) / 60
    grid = plot_sample_grid(
        images[:64].cpu(),
        args.out_dir / f"{stem}_{args.device}_samples.png",
        title=f"DCGAN on {args.dataset} after {trainer.step} discriminator steps",
    )
    payload["samples_png"] = grid.name
    _write(out, payload)
    print(
        f"final ({trainer.epoch} epochs, {trainer.step} D steps): frechet {final['frechet']:.2f} "
        f"(real test {reference['baselines']['real_test_images']['frechet']:.2f}, "
        f"noise {reference['baselines']['gaussian_noise']['frechet']:.2f}), chi2 {final['chi_square']:.0f}; {out}"
    )


def _generator(device: torch.device, seed: int) -> torch.Generator:
    """A generator on ``device`` seeded with ``seed``: the scored samples never touch the training's streams."""
    return torch.Generator(device=device).manual_seed(seed)


if __name__ == "__main__":
    main()
