"""Will the model fit? Its parameters and the activations of one training batch, counted before anything is
allocated, against the memory the device has free.

The model is built on PyTorch's ``meta`` device (shapes only, no storage), so a 10^6 x 10^6 dense layer is
counted in microseconds instead of dying in the allocator. The figure is a lower bound:

    bytes >= (weights + gradients) + (every layer's output for the batch, kept for the backward pass)
          =  2 * parameters * itemsize + batch_size * sum_l prod(output_shape_l) * itemsize

(optimizer state, e.g. Adam's two moments, and the allocator's slack come on top), so a model refused here
could never have trained.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lamina.disk import format_bytes
from lamina.errors import LaminaError
from lamina.nn.builder import build_model

__all__ = [
    "InsufficientMemoryError",
    "LayerMemory",
    "MemoryEstimate",
    "estimate_memory",
    "available_memory",
    "check_model_memory",
]


class InsufficientMemoryError(LaminaError, MemoryError):
    """A model whose parameters and activations cannot fit in the device's memory; names the largest layer."""


@dataclass(frozen=True)
class LayerMemory:
    """One layer's share: ``where`` (``model.layers[1] (dense)``), its parameter count and bytes of parameters
    and of activations for the batch."""

    where: str
    parameters: int
    parameter_bytes: int
    activation_bytes: int

    @property
    def total(self) -> int:
        """Weights, gradients and the layer's output for the batch."""
        return 2 * self.parameter_bytes + self.activation_bytes


@dataclass(frozen=True)
class MemoryEstimate:
    """The lower bound on training memory, per layer and in total, for ``batch_size`` examples."""

    layers: tuple[LayerMemory, ...]
    batch_size: int
    itemsize: int

    @property
    def parameters(self) -> int:
        """Scalar parameters of the whole model."""
        return sum(layer.parameters for layer in self.layers)

    @property
    def total(self) -> int:
        """Bytes needed at least: weights, gradients and every layer's activations."""
        return sum(layer.total for layer in self.layers)

    def largest(self) -> LayerMemory:
        """The layer needing the most memory."""
        return max(self.layers, key=lambda layer: layer.total)


def _numel(shape: Any) -> int:
    """Elements of one example's output: a shape, or several (a layer with many outputs)."""
    if isinstance(shape, Mapping):
        return sum(_numel(s) for s in shape.values())
    if isinstance(shape, (list, tuple)) and shape and not isinstance(shape[0], int):
        return sum(_numel(s) for s in shape)
    return math.prod(int(d) for d in shape) if shape is not None else 0


def estimate_memory(
    spec: Any, input_shape: Any, *, batch_size: int, dtype: torch.dtype = torch.float32
) -> MemoryEstimate:
    """Count a model's training memory without allocating it.

    Args:
        spec: anything :func:`~lamina.nn.build_model` takes.
        input_shape: one example's shape.
        batch_size: examples per training step.
        dtype: the parameters' and activations' type.

    Raises:
        ConfigError, ShapeError: as :func:`~lamina.nn.build_model` (the model is built, on the meta device).
    """
    with torch.device("meta"):
        model = build_model(spec, input_shape)
    itemsize = torch.empty((), dtype=dtype, device="meta").element_size()
    shapes, kinds = getattr(model, "shapes", None), getattr(model, "kinds", None)
    if isinstance(shapes, dict):  # a DAG (Graph): nodes by name, modules in ``model.layers``
        names = list(shapes)
        modules = dict(model.named_children()).get("layers")
        children: list[torch.nn.Module | None] = [
            modules[n] if isinstance(modules, torch.nn.ModuleDict) and n in modules else None for n in names
        ]
        where = [f"model.nodes '{n}' ({kinds.get(n, '?') if isinstance(kinds, dict) else '?'})" for n in names]
        outs = [shapes[n] for n in names]
    else:
        children = [c for _, c in model.named_children()]
        outs = list(shapes) if isinstance(shapes, list) else [None] * len(children)
        where = [
            f"model.layers[{i}] ({kinds[i] if isinstance(kinds, list) else type(c).__name__})"
            for i, c in enumerate(children)
        ]
    layers = []
    for child, label, out in zip(children, where, outs):
        count = sum(t.numel() for t in child.parameters()) if child is not None else 0
        buffers = sum(t.numel() for t in child.buffers()) if child is not None else 0
        layers.append(LayerMemory(label, count, (count + buffers) * itemsize, batch_size * _numel(out) * itemsize))
    return MemoryEstimate(tuple(layers), batch_size, itemsize)


def _linux_available() -> int | None:
    """MemAvailable, capped by a cgroup (container) limit less its usage."""
    found = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
            room = max(int(limit) - used, 0)
            found = room if found is None else min(found, room)
    except (OSError, ValueError):
        pass
    return found


def available_memory(device: torch.device | str) -> int | None:
    """Bytes the device has free now: the GPU's free memory, or the host's available RAM (``None``: unknown)."""
    device = torch.device(device)
    if device.type == "cuda":
        try:
            return int(torch.cuda.mem_get_info(device)[0])
        except (RuntimeError, AssertionError):
            return None
    if device.type != "cpu":
        return None
    found = _linux_available()
    if found is None and hasattr(os, "sysconf"):
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError):
            found = None
    return found


def check_model_memory(
    spec: Any, input_shape: Any, *, batch_size: int, device: torch.device | str = "cpu", available: int | None = None
) -> MemoryEstimate | None:
    """Refuse a model that cannot fit before it is allocated.

    Args:
        spec, input_shape, batch_size: as :func:`estimate_memory`.
        device: where it would train.
        available: bytes free (default: :func:`available_memory` of ``device``).

    Returns:
        The estimate, or ``None`` where the model could not be built on the meta device (a layer doing real
        arithmetic while it is built); the real build then proceeds unchecked.

    Raises:
        InsufficientMemoryError: the lower bound exceeds ``available``; the message names the largest layer.
    """
    try:
        estimate = estimate_memory(spec, input_shape, batch_size=batch_size)
    except LaminaError:
        raise
    except (RuntimeError, NotImplementedError, TypeError, ValueError):  # meta tensors unsupported by some layer
        return None
    if available is None:
        available = available_memory(device)
    if available is None or estimate.total <= available:
        return estimate
    big = estimate.largest()
    raise InsufficientMemoryError(
        f"{big.where}: {big.parameters:,} parameters ({format_bytes(big.parameter_bytes)}) and "
        f"{format_bytes(big.activation_bytes)} of activations for a batch of {batch_size}; the whole model needs at "
        f"least {format_bytes(estimate.total)} to train (weights, gradients, activations) but {torch.device(device)} "
        f"has {format_bytes(available)} free. Make the layer smaller or the batch smaller"
    )
