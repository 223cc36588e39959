"""Datasets: registered by name with their canonical URLs and sha256, read from ``$LAMINA_DATA``, the cache or
the network, and returned as in-memory :class:`ArrayDataset` splits.

>>> train, val, test = lamina.data.load("mnist", validation=10000)
"""

from __future__ import annotations

from typing import Any

from lamina.data import vision  # noqa: F401  (registers mnist, ...; the series datasets live in lamina.timeseries)
from lamina.data import pairs, text  # noqa: F401  (registers digit_pairs, tinyshakespeare)
from lamina.data import curves, faces, factors_of_variation  # noqa: F401  (curves, olivetti, faces, mnist_rot, ...)
from lamina.data import affine, elastic  # noqa: F401  (registers the affine and elastic transforms)
from lamina.data import mnist_strings, waveforms  # noqa: F401  (registers mnist_strings, waveforms)
from lamina.data.dataset import ArrayDataset, DatasetSpec, Splits, hold_out
from lamina.data.idx import parse_idx, read_idx, write_idx
from lamina.data.loader import BatchLoader, BucketLoader, make_loader
from lamina.data.series import mackey_glass, read_sunspots
from lamina.data.sources import RemoteFile, cache_home, data_home, fetch, locate, sha256_of, verify
from lamina.registry import registry, resolve

__all__ = [
    "ArrayDataset",
    "BatchLoader",
    "BucketLoader",
    "DatasetSpec",
    "RemoteFile",
    "Splits",
    "available",
    "cache_home",
    "data_home",
    "fetch",
    "hold_out",
    "load",
    "locate",
    "mackey_glass",
    "make_loader",
    "parse_idx",
    "read_idx",
    "read_sunspots",
    "sha256_of",
    "spec",
    "verify",
    "write_idx",
]


def spec(name: str | dict | DatasetSpec, **options: Any) -> DatasetSpec:
    """The validated spec of a registered dataset (``spec("mnist", validation=10000)``)."""
    if isinstance(name, str):
        name = {"name": name, **options}
    elif options:
        raise TypeError("give options either in the table or as keywords, not both")
    return resolve("dataset", name, path="data")


def load(name: str | dict | DatasetSpec, **options: Any) -> Splits:
    """Load a registered dataset: ``train, val, test = load("mnist", validation=10000)``.

    Options are the dataset's (``validation``, ``scale``, ``flatten``, ...); ``val`` is ``None`` when no
    validation set is held out.
    """
    return spec(name, **options).load()


def __getattr__(name: str) -> Any:
    # lamina.data.SeriesDatasetSpec, kept for code written before the series datasets moved to lamina.timeseries
    # (they cut lag windows, and lamina.data sits below the time-series package)
    if name == "SeriesDatasetSpec":
        from lamina.timeseries.datasets import SeriesDatasetSpec

        return SeriesDatasetSpec
    raise AttributeError(f"module 'lamina.data' has no attribute {name!r}")


def available() -> dict[str, type[DatasetSpec]]:
    """Registered datasets by canonical name."""
    reg = registry("dataset")
    return {n: reg.lookup(n) for n in reg.names(aliases=False)}
