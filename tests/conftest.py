"""Shared fixtures. Tests never download: datasets come from $LAMINA_DATA (CI: ../shared/datasets)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if "LAMINA_DATA" not in os.environ and (ROOT.parent / "shared" / "datasets").is_dir():
    os.environ["LAMINA_DATA"] = str(ROOT.parent / "shared" / "datasets")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Downloads (which tests forbid anyway) and caches go to a temporary folder, never ~/.cache."""
    monkeypatch.setenv("LAMINA_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def _has(dataset_files: list[str]) -> bool:
    root = os.environ.get("LAMINA_DATA")
    return bool(root) and all((Path(root) / f).is_file() for f in dataset_files)


MNIST_FILES = [
    f"mnist/{n}"
    for n in (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    )
]
needs_mnist = pytest.mark.skipif(not _has(MNIST_FILES), reason="MNIST files not found in $LAMINA_DATA")
