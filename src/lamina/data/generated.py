"""Datasets generated from a seed (the factors-of-variation sets, CURVES, the augmented FACES): made once per
seed and options, then kept in the cache folder as a numpy ``.npz`` (read back with ``allow_pickle=False``) beside
a JSON record of its options and sha256.

A cached file whose sha256 differs from its record (a torn or edited file) is generated again, so a cache entry is
either what the generator made or absent. The cache folder is ``$LAMINA_CACHE/generated/<dataset>/`` (default
``~/.cache/lamina``); delete it to regenerate everything.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from lamina import jsonio
from lamina.config.fields import count
from lamina.data.dataset import Holdout, Splits
from lamina.data.sources import cache_home, sha256_of
from lamina.data.vision import ImageDatasetSpec
from lamina.files import atomic_write, write_text

__all__ = ["GeneratedImageSpec", "cached_arrays", "cache_path", "chunked", "to_uint8", "CHUNK"]


def cache_path(dataset: str, params: dict[str, Any]) -> Path:
    """Where the arrays generated for ``dataset`` with ``params`` (JSON-encodable) are kept."""
    key = hashlib.sha256(jsonio.dumps({"dataset": dataset, **params}, sort_keys=True).encode()).hexdigest()[:20]
    return cache_home() / "generated" / dataset / f"{key}.npz"


def _read(path: Path) -> dict[str, np.ndarray] | None:
    record = path.with_suffix(".json")
    if not (path.is_file() and record.is_file()):
        return None
    try:
        expected = json.loads(record.read_text())["sha256"]
    except (ValueError, KeyError, TypeError):
        return None
    if sha256_of(path) != expected:
        return None
    with np.load(path, allow_pickle=False) as arrays:
        return {name: arrays[name] for name in arrays.files}


def cached_arrays(
    dataset: str, params: dict[str, Any], make: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """The arrays ``make()`` returns, generated once per ``(dataset, params)`` and cached.

    Args:
        dataset: the registered name (the cache subfolder).
        params: everything the arrays depend on (seed, sizes, options, the generator's version); JSON-encodable.
        make: generates the arrays (called only when no verified copy is cached).

    Returns:
        ``{name: array}`` as ``make`` returned it (read back from the cache on later calls).
    """
    path = cache_path(dataset, params)
    arrays = _read(path)
    if arrays is not None:
        return arrays
    arrays = make()
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds like allow_pickle
    atomic_write(path, buffer.getvalue())
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()
    write_text(path.with_suffix(".json"), jsonio.dumps({"dataset": dataset, "params": params, "sha256": digest}) + "\n")
    return arrays


def chunked(
    n: int, seed: int, part: int, make: Callable[[np.random.Generator, int, int], tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` examples made ``CHUNK`` at a time, each block from its own generator ``default_rng([seed, part, i])``,
    so the whole blocks do not depend on ``n``: a size in whole blocks gives a prefix of every larger set.

    ``make(rng, start, k)`` returns ``(images, labels)`` for the ``k`` examples from index ``start``.
    """
    xs, ys = [], []
    for i, start in enumerate(range(0, n, CHUNK)):
        x, y = make(np.random.default_rng([seed, part, i]), start, min(CHUNK, n - start))
        xs.append(x)
        ys.append(y)
    if not xs:
        raise ValueError("chunked: n must be positive")
    return np.concatenate(xs), np.concatenate(ys)


CHUNK = 1000  # examples per generator stream (changing it changes every generated dataset)


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Intensities in [0, 1] rounded to 0..255 (the stored form; the loaders scale them back)."""
    return np.clip(np.rint(np.asarray(images, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)


class GeneratedImageSpec(ImageDatasetSpec):
    """An image dataset generated from ``seed`` as its paper describes (not the original files), cached once per
    seed and size.

    Args:
        seed: the generation seed; the same seed gives the same images on every machine.
        train_size: training examples generated, the validation examples included (the paper's training file);
            ``validation`` of them, the last ones, are held out (the paper's validation set).
        test_size: test examples generated.
        scale, flatten, train_subset, validation, split_seed: as for every image dataset.

    Images are stored as 0..255 and come out as ``(N, 1, H, W)`` float32 in [0, 1] with ``scale = "unit"``.
    """

    generator_version: ClassVar[int] = 1  # bump when a generator changes, so stale caches are not reused
    classes: ClassVar[list[str]] = []

    seed: count(0) = 0
    train_size: count() = 12000
    test_size: count() = 50000
    validation: Holdout = 2000

    def generation_params(self) -> dict[str, Any]:
        """What the generated arrays depend on (the cache key)."""
        return {
            "seed": self.seed,
            "train_size": self.train_size,
            "test_size": self.test_size,
            "version": self.generator_version,
        }

    def generate(self) -> dict[str, np.ndarray]:
        """``{"x_train", "y_train", "x_test", "y_test"}``: uint8 images ``(N, H, W)`` and int64 labels."""
        raise NotImplementedError(f"{type(self).__name__} must define generate()")

    def arrays(self) -> dict[str, np.ndarray]:
        """The generated arrays, from the cache when a verified copy is there."""
        return cached_arrays(self.registered_name, self.generation_params(), self.generate)

    def load(self) -> Splits:
        """Generate (or read the cached copy), hold out the last ``validation`` training examples, and scale."""
        a = self.arrays()
        return self._finish(
            torch.from_numpy(a["x_train"]),
            torch.from_numpy(a["y_train"]).long(),
            torch.from_numpy(a["x_test"]),
            torch.from_numpy(a["y_test"]).long(),
            max_value=255.0,
            classes=self.classes,
            name=self.registered_name,
        )
