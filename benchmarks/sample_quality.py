"""Sample quality of a generative model of MNIST, scored in the features of lamina's own LeNet (issue #27).

**Not Inception FID.** The Fréchet distance here is computed between Gaussians fitted to the 84 penultimate-layer
features (F6) of a LeNet-5 (``examples/lenet5.toml``'s layers) that lamina trains on MNIST's training set, pixels in
[0, 1]; Heusel et al. (2017)'s FID uses Inception-v3 pool features of 299x299 RGB images, and the two scales are
not comparable. Figures are comparable only with each other (same LeNet, same reference statistics).

- reference: the features of the first 10,000 MNIST training images (``--reference``);
- floor: the 10,000 real test images (what a perfect generator would score, up to sampling noise);
- baselines: Gaussian noise (every pixel i.i.d. from the training pixels' mean and standard deviation, clipped to
  [0, 1]) and independent per-pixel Gaussians (each pixel from its own mean and standard deviation);
- class balance: the LeNet's predicted classes of the samples: counts, Pearson's chi-square against uniform (about
  9 for a uniform sample; 10,000 samples missing one digit give about 1,100), and the max/min count ratio.

Reusable: ``from benchmarks.sample_quality import MnistScorer``; ``scorer.score(images)`` for any ``(N, 1, 28, 28)``
tensor of samples in [0, 1] (the VAE's, for instance). From the command line, a tensor saved with ``torch.save``:

    python -m benchmarks.sample_quality --samples samples.pt --out-dir benchmarks/results
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import add_threads_option, limit_threads

ROOT = Path(__file__).resolve().parents[1]
LENET = ROOT / "examples" / "lenet5.toml"


def lenet_layers() -> list[dict[str, Any]]:
    """The LeNet-5 layer list of ``examples/lenet5.toml``."""
    import tomllib

    return tomllib.loads(LENET.read_text(encoding="utf-8"))["model"]["layers"]


def train_feature_net(
    cache: Path,
    *,
    device: str = "cpu",
    epochs: int = 2,
    train_subset: int | None = None,
    seed: int = 0,
    dataset: str = "mnist",
) -> tuple[torch.nn.Module, dict[str, float]]:
    """LeNet-5 trained by lamina on ``dataset`` (MNIST, or Fashion-MNIST) with pixels in [0, 1] (Adam 2e-3, batch
    128), cached in ``cache`` (a state dict, loaded with ``weights_only=True``) beside ``cache.json`` (its test
    accuracy and how it was trained)."""
    import lamina
    from lamina import jsonio
    from lamina.data import load
    from lamina.nn import build_model
    from lamina.train.rng import seeded

    with seeded(seed):
        net = build_model(lenet_layers(), (1, 28, 28))
    recipe = {"epochs": epochs, "train_subset": train_subset, "seed": seed, "dataset": dataset}
    info_path = cache.with_suffix(".json")
    if cache.is_file() and info_path.is_file():
        info = jsonio.loads(info_path.read_text())
        if info.get("recipe") == recipe:
            net.load_state_dict(torch.load(cache, map_location="cpu", weights_only=True))
            return net.to(device).eval(), info
    splits = load(dataset, scale="unit", train_subset=train_subset)
    start = time.perf_counter()
    trainer = lamina.Trainer(
        net,
        loss="cross_entropy",
        optimizer={"type": "adam", "lr": 2e-3},
        epochs=epochs,
        batch_size=128,
        device=device,
        seed=seed,
        verbose=0,
    )
    trainer.fit(splits.train)
    accuracy = trainer.evaluate(splits.test)["accuracy"]
    info = {"recipe": recipe, "test_accuracy": accuracy, "train_seconds": time.perf_counter() - start}
    cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.cpu() for k, v in net.state_dict().items()}, cache)
    info_path.write_text(jsonio.dumps(info, indent=2) + "\n")
    return net.eval(), info


class MnistScorer:
    """Scores samples of MNIST digits: the Fréchet distance in a LeNet's F6 features to the training images, and the
    balance of the LeNet's predicted classes (:func:`lamina.generative.sample_quality.class_balance`).

    Args:
        net: a trained LeNet :class:`~lamina.nn.Stack` (:func:`train_feature_net`); its last layer is the classifier.
        reference: images ``(N, 1, 28, 28)`` in [0, 1] whose feature statistics are the target.
    """

    def __init__(self, net: torch.nn.Module, reference: torch.Tensor, *, batch_size: int = 1000) -> None:
        from lamina.generative.sample_quality import gaussian_statistics

        self.net = net.eval()
        self.device = next(net.parameters()).device
        self.batch_size = batch_size
        feats, _ = self._features(reference)
        self.reference = gaussian_statistics(feats)

    @torch.no_grad()
    def _features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        body, head = self.net[:-1], self.net[-1]  # the layers up to F6, then the classifier
        feats, labels = [], []
        for chunk in images.split(self.batch_size):
            f = body(chunk.to(self.device, torch.float32))
            feats.append(f.double().cpu())
            labels.append(head(f).argmax(1).cpu())
        return torch.cat(feats), torch.cat(labels)

    def score(self, images: torch.Tensor) -> dict[str, Any]:
        """``frechet`` (to the reference), ``class_counts``, ``chi_square``, ``max_min_ratio``, ``entropy_ratio``
        and ``n`` for samples ``(N, 1, 28, 28)`` in [0, 1]."""
        from lamina.generative.sample_quality import class_balance, frechet_distance, gaussian_statistics

        if images.dim() != 4 or tuple(images.shape[1:]) != (1, 28, 28):
            raise ValueError(f"samples must have shape (N, 1, 28, 28), got {tuple(images.shape)}")
        feats, labels = self._features(images)
        balance = class_balance(labels, 10)
        return {
            "n": len(images),
            "frechet": frechet_distance(gaussian_statistics(feats), self.reference),
            "class_counts": balance.counts,
            "chi_square": balance.chi_square,
            "max_min_ratio": balance.max_min_ratio,
            "entropy_ratio": balance.entropy_ratio,
        }


def noise_baselines(train: torch.Tensor, n: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
    """``gaussian_noise`` (i.i.d. pixels with the training pixels' mean and sd) and ``pixel_gaussian`` (each pixel
    from its own mean and sd), ``n`` images each, clipped to [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    shape = (n, *train.shape[1:])
    mean, sd = train.mean(), train.std()
    iid = (mean + sd * torch.randn(shape, generator=g)).clamp(0, 1)
    pixel = (train.mean(0) + train.std(0) * torch.randn(shape, generator=g)).clamp(0, 1)
    return {"gaussian_noise": iid, "pixel_gaussian": pixel}


def mnist_reference(
    out_dir: Path,
    *,
    device: str = "cpu",
    feature_epochs: int = 2,
    feature_subset: int | None = None,
    reference: int = 10000,
    n: int = 10000,
    train_subset: int | None = None,
    dataset: str = "mnist",
) -> tuple[MnistScorer, dict[str, Any]]:
    """The scorer and the scores of the floor (``n`` real test images) and of the two noise baselines (``n`` each).

    The LeNet is trained on the first ``feature_subset`` training images (all by default) for ``feature_epochs``, or
    read from ``out_dir/lenet_features.pt`` when it was trained so before; the reference statistics are those of the
    first ``reference`` training images (``train_subset`` cuts the training set first: a smoke test's tiny run).
    ``dataset = "fashion_mnist"``: the same with Fashion-MNIST (``lenet_features_fashion_mnist.pt``).
    """
    from lamina.data import load

    net, info = train_feature_net(
        out_dir / ("lenet_features.pt" if dataset == "mnist" else f"lenet_features_{dataset}.pt"),
        dataset=dataset,
        device=device,
        epochs=feature_epochs,
        train_subset=feature_subset if train_subset is None else train_subset,
    )
    splits = load(dataset, scale="unit", train_subset=train_subset)
    train_images = splits.train.inputs[0]
    scorer = MnistScorer(net.to(device), train_images[:reference])
    rows = {"real_test_images": scorer.score(splits.test.inputs[0][:n])}
    for name, images in noise_baselines(train_images, n).items():
        rows[name] = scorer.score(images)
    described = {"reference_images": min(reference, len(train_images)), "scored_images": n}
    return scorer, {"feature_net": info, **described, "baselines": rows}


def add_feature_options(parser: argparse.ArgumentParser) -> None:
    """``--feature-epochs``, ``--feature-subset`` (how the LeNet is trained) and ``--reference`` (how many training
    images give the reference statistics)."""
    parser.add_argument("--feature-epochs", type=int, default=2, help="epochs of the LeNet feature network")
    parser.add_argument(
        "--feature-subset", type=int, default=None, help="train the LeNet on the first N training images (default all)"
    )
    parser.add_argument("--reference", type=int, default=10000, help="training images giving the reference statistics")


def main(argv: list[str] | None = None) -> None:
    """Score a saved tensor of samples (``torch.save``, loaded with ``weights_only=True``)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--samples", type=Path, required=True, help="a .pt file holding an (N, 1, 28, 28) tensor in [0, 1]"
    )
    parser.add_argument(
        "--out-dir", type=Path, default=ROOT / "benchmarks" / "results", help="where the LeNet is cached"
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    add_feature_options(parser)
    add_threads_option(parser)
    args = parser.parse_args(argv)
    limit_threads(args.threads)
    from lamina import jsonio

    samples = torch.load(args.samples, map_location="cpu", weights_only=True)
    scorer, reference = mnist_reference(
        args.out_dir,
        device=args.device,
        feature_epochs=args.feature_epochs,
        feature_subset=args.feature_subset,
        reference=args.reference,
        n=len(samples),
    )
    print(jsonio.dumps({"samples": scorer.score(samples), **reference}, indent=2))


if __name__ == "__main__":
    main()
