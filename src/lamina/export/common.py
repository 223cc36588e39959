"""Helpers every export format shares: a dynamic batch dimension, a quiet exporter, output comparison."""

from __future__ import annotations

import contextlib
import inspect
import logging
import re
import warnings
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from lamina.errors import ExportError

__all__ = ["dynamic_batch", "quiet", "compare_outputs", "as_tuple", "root_cause", "EXAMPLE_BATCH", "CHECK_BATCH"]

EXAMPLE_BATCH = 2  # traced with two examples: torch.export specializes a dimension of size 1 to a constant
CHECK_BATCH = 3  # checked on another size, which proves the batch dimension really is dynamic

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def dynamic_batch(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> tuple[object, ...]:
    """``dynamic_shapes`` for ``torch.export``/``torch.onnx``: dimension 0 of every input is one shared batch,
    laid out as ``module.forward`` takes its arguments (``forward(*xs)`` takes them as one tuple)."""
    batch = torch.export.Dim("batch")
    shapes: list[object] = []
    rest = list(inputs)
    for parameter in inspect.signature(module.forward).parameters.values():
        if not rest:
            break
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            shapes.append({0: batch})
            rest.pop(0)
        elif parameter.kind == parameter.VAR_POSITIONAL:
            shapes.append(tuple({0: batch} for _ in rest))
            rest = []
    return tuple(shapes)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence the exporters' progress logs and deprecation notices for the duration of an export."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            for category in (DeprecationWarning, FutureWarning):
                warnings.simplefilter("ignore", category)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")  # axis-naming notes
            yield
    finally:
        logger.setLevel(level)


def as_tuple(outputs: object) -> tuple:
    """A model's output(s) as a tuple of arrays."""
    items = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    return tuple(o.detach().cpu().numpy() if isinstance(o, torch.Tensor) else np.asarray(o) for o in items)


def compare_outputs(got: tuple, want: tuple, *, what: str, rtol: float, atol: float) -> float:
    """The largest absolute difference; an :class:`ExportError` if any output is not within tolerance."""
    if len(got) != len(want):
        raise ExportError(f"{what} returns {len(got)} outputs, the model {len(want)}")
    worst = 0.0
    for i, (g, w) in enumerate(zip(got, want)):
        if g.shape != w.shape:
            raise ExportError(f"{what}: output {i} has shape {g.shape}, the model's {w.shape}")
        if g.size:
            worst = max(worst, float(np.max(np.abs(g.astype(np.float64) - w.astype(np.float64)))))
        if not np.allclose(g, w, rtol=rtol, atol=atol):
            raise ExportError(
                f"{what} does not reproduce the model: output {i} differs by up to {worst:.3g} "
                f"(tolerance rtol={rtol}, atol={atol})"
            )
    return worst


def root_cause(err: BaseException) -> str:
    """The innermost error's first line, without terminal colours: usually the operation that failed."""
    while err.__cause__ is not None or (err.__context__ is not None and not err.__suppress_context__):
        err = err.__cause__ or err.__context__
    lines = [line.strip() for line in _ANSI.sub("", str(err)).splitlines() if line.strip()]
    text = lines[0] if lines else type(err).__name__
    return text if len(text) <= 300 else text[:297] + "..."
