"""Image datasets: MNIST (LeCun et al., 1998), Fashion-MNIST (Xiao et al., 2017) and scikit-learn's 8x8
digits (the UCI optical digits test set; bundled with scikit-learn, no download).

Images come as float32 tensors of shape ``(N, 1, H, W)`` and labels as int64 class indices.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, ClassVar

import torch

from lamina.config.fields import choice, count, number
from lamina.data.dataset import ArrayDataset, DatasetSpec, Splits, hold_out
from lamina.data.idx import read_idx
from lamina.data.sources import RemoteFile, fetch
from lamina.registry import register

__all__ = [
    "ImageDatasetSpec",
    "MNIST",
    "FashionMNIST",
    "Digits",
    "MNIST_FILES",
    "FASHION_MNIST_FILES",
    "binarize_stochastic",
    "scale_images",
]


def _idx_files(folder: str, base_urls: tuple[str, ...], sha: dict[str, str]) -> dict[str, RemoteFile]:
    return {
        name: RemoteFile(folder, name, digest, tuple(url + name for url in base_urls)) for name, digest in sha.items()
    }


MNIST_FILES = _idx_files(
    "mnist",
    (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
)
FASHION_MNIST_FILES = _idx_files(
    "fashion-mnist",
    ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
)


def scale_images(train: torch.Tensor, others: list[torch.Tensor], scale: str, max_value: float) -> list[torch.Tensor]:
    """Scale raw pixel tensors; statistics come from ``train`` only.

    ``unit``: x / max_value in [0, 1]. ``standard``: (x - mean) / std with the training pixels' mean and std.
    ``binarize``: 1 where x / max_value > 0.5, else 0. ``none``: raw values as floats.
    """
    tensors = [train, *others]
    if scale == "none":
        return [t.float() for t in tensors]
    unit = [t.float() / max_value for t in tensors]
    if scale == "unit":
        return unit
    if scale == "binarize":
        return [(t > 0.5).float() for t in unit]
    mean, std = unit[0].mean(), unit[0].std()
    return [(t - mean) / std for t in unit]


def binarize_stochastic(train: torch.Tensor, test: torch.Tensor, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Each pixel of the [0, 1] images ``train`` and ``test`` set to 1 with probability equal to its intensity, once,
    with a fixed seed: the uniforms for ``train`` are drawn first, then those for ``test``, from one generator. This
    is the stochastically binarized MNIST of Salakhutdinov & Murray (2008) as ``benchmarks/rbm_mnist_ll.py`` draws it,
    so that log-likelihoods of different models are on the same binary images."""
    g = torch.Generator().manual_seed(seed)
    return (
        (torch.rand(train.shape, generator=g) < train).float(),
        (torch.rand(test.shape, generator=g) < test).float(),
    )


class ImageDatasetSpec(DatasetSpec):
    """Options shared by the image datasets.

    Args:
        scale: ``unit`` (pixels in [0, 1]), ``standard`` (zero mean, unit variance over the training pixels),
            ``binarize`` (threshold at 0.5, for Bernoulli RBMs), ``binarize_stochastic`` (each pixel 1 with probability
            its intensity, drawn once with seed 0 over all training then test images, before any split: the binary
            MNIST of the RBM and VAE log-likelihood benchmarks, :func:`binarize_stochastic`) or ``none`` (raw values).
        flatten: give each image as a vector ``(H*W,)`` instead of ``(1, H, W)``.
        train_subset: use only the first ``train_subset`` training examples (before the validation split).
    """

    scale: choice("unit", "standard", "binarize", "binarize_stochastic", "none") = "unit"
    flatten: bool = False
    train_subset: count() | None = None

    train_examples: ClassVar[int | None] = None  # the training set's size, where fixed (MNIST's 60,000)

    def known_train_examples(self) -> int | None:
        """:attr:`train_examples`, cut to ``train_subset``."""
        n = self.train_examples
        return n if n is None or self.train_subset is None else min(n, self.train_subset)

    def from_unit_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """Map images with pixels in [0, 1] (e.g. read from a PNG) to this dataset's scaling."""
        if self.scale in ("unit", "binarize_stochastic"):  # a probability per pixel, as the model reads the data
            return pixels
        if self.scale == "binarize":
            return (pixels > 0.5).float()
        if self.scale == "none":
            return pixels * self._max_value
        train = self.model_copy(update={"scale": "unit"}).load().train.x  # standard: the training pixels' stats
        return (pixels - train.mean()) / train.std()

    _max_value: ClassVar[float] = 255.0

    def _finish(self, x_train, y_train, x_test, y_test, *, max_value: float, classes: list[str], name: str) -> Splits:
        scale = self.scale
        if scale == "binarize_stochastic":  # before subsets and splits: the same bits whatever the split
            x_train, x_test = binarize_stochastic(x_train.float() / max_value, x_test.float() / max_value)
            scale, max_value = "none", 1.0
        if self.train_subset is not None:
            x_train, y_train = x_train[: self.train_subset], y_train[: self.train_subset]
        train = ArrayDataset(x_train, y_train, classes=classes, name=name)
        train, val = hold_out(train, self.validation, self.split_seed)
        parts = [train, val, ArrayDataset(x_test, y_test, classes=classes, name=name)]
        present = [p for p in parts if p is not None]
        scaled = scale_images(present[0].x, [p.x for p in present[1:]], scale, max_value)
        out = []
        for part, x in zip(present, scaled):
            x = x.reshape(len(x), -1) if self.flatten else x.unsqueeze(1) if x.dim() == 3 else x
            out.append(ArrayDataset(x, part.targets, classes=classes, name=name))
        return Splits(out[0], out[1] if val is not None else None, out[-1])


class _IdxDataset(ImageDatasetSpec):
    """A dataset of four IDX files in MNIST's layout."""

    classes: ClassVar[list[str]] = []

    def _read(self, filename: str, magic: int) -> torch.Tensor:
        return torch.from_numpy(read_idx(fetch(self.files[filename]), expected_magic=magic))

    def load(self) -> Splits:
        """Read the four IDX files (verified by sha256), split and scale them."""
        x_train = self._read("train-images-idx3-ubyte.gz", 2051)
        y_train = self._read("train-labels-idx1-ubyte.gz", 2049).long()
        x_test = self._read("t10k-images-idx3-ubyte.gz", 2051)
        y_test = self._read("t10k-labels-idx1-ubyte.gz", 2049).long()
        return self._finish(
            x_train, y_train, x_test, y_test, max_value=255.0, classes=self.classes, name=self.registered_name
        )


@register("dataset", "mnist")
class MNIST(_IdxDataset):
    """MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28 gray pixels, 10 classes
    (LeCun, Bottou, Bengio & Haffner, 1998). The usual validation set is the last 10,000 training images:
    ``validation = 10000``."""

    files = MNIST_FILES
    classes = [str(d) for d in range(10)]
    train_examples = 60_000


@register("dataset", "fashion_mnist", aliases=("fashion-mnist",))
class FashionMNIST(_IdxDataset):
    """Fashion-MNIST: Zalando's 28x28 gray article images in MNIST's format, 10 classes (Xiao, Rasul & Vollgraf,
    2017)."""

    files = FASHION_MNIST_FILES
    train_examples = 60_000
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_digits() -> tuple[Any, Any]:
    """``(pixels, labels)``: scikit-learn's digits as ``(1797, 64)`` float64 and ``(1797,)`` int64 NumPy arrays,
    what ``sklearn.datasets.load_digits(return_X_y=True)`` returns.

    The file scikit-learn bundles (``sklearn/datasets/data/digits.csv.gz``, 64 pixels and the label per line) is
    read directly: importing ``sklearn.datasets`` costs about 1.5 s, a hundred times the read.
    """
    import gzip

    import numpy as np

    spec = importlib.util.find_spec("sklearn")  # locates the package without importing it
    folders = spec.submodule_search_locations if spec is not None else None
    path = Path(next(iter(folders)), "datasets", "data", "digits.csv.gz") if folders else None
    if path is None or not path.is_file():  # an unusual installation: let scikit-learn find its file
        from sklearn.datasets import load_digits

        return load_digits(return_X_y=True)
    with gzip.open(path, "rt") as fh:
        data = np.loadtxt(fh, delimiter=",")
    return data[:, :-1], data[:, -1].astype(np.int64)


@register("dataset", "digits")
class Digits(ImageDatasetSpec):
    """scikit-learn's 1,797 8x8 handwritten digits (16 gray levels), 10 classes; no download.

    There is no official test set: a fixed permutation (seed 0) puts ``test_fraction`` of the examples in test.
    """

    _max_value: ClassVar[float] = 16.0
    examples: ClassVar[int] = 1797  # scikit-learn's load_digits(): all of them, before the test split

    test_fraction: number(0, 1, lo_open=True, hi_open=True) = 0.2

    def known_train_examples(self) -> int | None:
        """The examples the test split leaves, cut to ``train_subset``."""
        n = self.examples - round(self.test_fraction * self.examples)
        return n if self.train_subset is None else min(n, self.train_subset)

    def load(self) -> Splits:
        """scikit-learn's digits, split by the fixed permutation, then scaled."""
        pixels, targets = read_digits()
        images = torch.from_numpy(pixels).float().reshape(-1, 8, 8)  # (1797, 8, 8), values 0..16
        labels = torch.from_numpy(targets).long()
        perm = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
        n_test = round(self.test_fraction * len(labels))
        train_idx, test_idx = perm[n_test:], perm[:n_test]
        return self._finish(
            images[train_idx],
            labels[train_idx],
            images[test_idx],
            labels[test_idx],
            max_value=self._max_value,
            classes=[str(d) for d in range(10)],
            name="digits",
        )
