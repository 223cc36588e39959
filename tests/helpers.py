"""The shared test harness.

Layer cases: every registered layer has an entry (its options, an input shape, and the output shape and parameter
count computed by hand) in a module of ``tests/layer_cases/``: ``CASES`` (and optionally ``NO_GRADIENT``). A feature
that registers layers adds its own module there; tests/nn/test_layer_harness.py runs them all and fails for any
registered layer without an entry.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from pathlib import Path

import torch

from tests import layer_cases

LAYER_CASES: dict[str, tuple[dict, object, tuple, int]] = {}
NO_GRADIENT: set[str] = set()
for _module in pkgutil.iter_modules(layer_cases.__path__):
    _cases = importlib.import_module(f"tests.layer_cases.{_module.name}")
    LAYER_CASES.update(_cases.CASES)
    NO_GRADIENT.update(getattr(_cases, "NO_GRADIENT", ()))


def example_input(spec, shape, batch: int = 3):
    """A random batch for a layer spec (integers for embeddings; a list for merge layers)."""
    g = torch.Generator().manual_seed(0)
    if isinstance(shape, list):
        return [torch.randn(batch, *s, generator=g) for s in shape]
    if spec.input_dtype == torch.long:
        return torch.randint(0, 10, (batch, *shape), generator=g)
    return torch.randn(batch, *shape, generator=g)


class Payload:
    """A pickle that would run a command when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))
