"""Unit statistics: dead rectified units, saturated sigmoid and tanh units, and activation histograms per layer.

A ReLU unit whose pre-activation is negative on every input outputs 0 and passes back no gradient, so it never
learns again: it is *dead* (a large learning rate can kill a sizeable fraction of a network; CS231n). A sigmoid
or tanh unit whose output sits at an asymptote has a derivative near 0 (``sigma'(z) = sigma(z)(1 - sigma(z))``),
so it is *saturated* and learns slowly; Glorot & Bengio (2010) saw the top sigmoid layer of a deep net saturate at
0 early in training. Here an activation is saturated when it lies within ``saturation`` times the output range of
a bound (default 1%: sigmoid outside [0.01, 0.99], tanh outside [-0.98, 0.98]; there ``f'`` is about 4% of its
maximum for both). A unit is one feature (dense layers) or one channel (convolutions: all positions pooled); it is
dead or saturated when it is so for every example of the batch.

References:
    Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward neural networks";
    Karpathy, CS231n notes (2016), "Neural Networks Part 1: activation functions" (dead ReLUs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lamina.diagnostics.layers import capture_outputs, find_layer, forward, layer_label, split_batch

__all__ = ["unit_statistics", "UnitStatistics", "UnitStats", "activation_layers", "unit_stats_of"]

_RECTIFIED = (nn.ReLU, nn.ReLU6)


def _bounds(module: nn.Module) -> tuple[float, float] | None:
    """The output range of a bounded activation (``None`` for unbounded ones)."""
    if isinstance(module, (nn.Sigmoid, nn.Hardsigmoid)):
        return 0.0, 1.0
    if isinstance(module, (nn.Tanh, nn.Softsign)):
        return -1.0, 1.0
    if isinstance(module, nn.Hardtanh):  # also ReLU6 (0, 6)
        return float(module.min_val), float(module.max_val)
    return None


def activation_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The element-wise activation modules of a model (torch's and lamina's), softmax excluded."""
    found = []
    for name, module in model.named_modules():
        origin = type(module).__module__
        if (origin == "torch.nn.modules.activation" or origin == "lamina.nn.activations") and not isinstance(
            module, (nn.Softmax, nn.LogSoftmax, nn.Softmin, nn.MultiheadAttention)
        ):
            found.append((name, module))
    return found


@dataclass
class UnitStats:
    """The statistics of one activation layer on a batch.

    Attributes:
        name, module, kind: the layer, its qualified module name and its activation class.
        units: features (or channels).
        dead_units: indices of rectified units never positive on the batch (``[]`` for other activations).
        saturated_units: indices of bounded units saturated on every example (``[]`` for unbounded ones).
        zero_fraction: fraction of rectified outputs exactly 0 (``None`` otherwise).
        saturated_fraction: fraction of bounded outputs within the saturation margin (``None`` otherwise).
        mean, std: of all outputs.
        counts, edges: a histogram of the outputs.
    """

    name: str
    module: str
    kind: str
    units: int
    dead_units: list[int]
    saturated_units: list[int]
    zero_fraction: float | None
    saturated_fraction: float | None
    mean: float
    std: float
    counts: list[int] = field(repr=False, default_factory=list)
    edges: list[float] = field(repr=False, default_factory=list)

    @property
    def dead(self) -> int:
        """Number of dead units."""
        return len(self.dead_units)

    @property
    def saturated(self) -> int:
        """Number of saturated units."""
        return len(self.saturated_units)

    @property
    def rectified(self) -> bool:
        """Whether the layer is a ReLU (dead units apply)."""
        return self.zero_fraction is not None

    @property
    def bounded(self) -> bool:
        """Whether the layer saturates (sigmoid, tanh, hard tanh)."""
        return self.saturated_fraction is not None


def unit_stats_of(
    name: str, module: nn.Module, output: torch.Tensor, *, saturation: float = 0.01, bins: int = 50
) -> UnitStats:
    """The :class:`UnitStats` of activation ``module``'s ``output`` (``(N, units, *positions)`` or ``(N,)``)."""
    out = output.detach().float()
    per_unit = out.reshape(len(out), 1) if out.dim() == 1 else out.movedim(1, -1).reshape(-1, out.shape[1])
    dead, sat, zero_frac, sat_frac = [], [], None, None
    if isinstance(module, _RECTIFIED):
        zero = per_unit <= 0
        dead = torch.nonzero(zero.all(0)).flatten().tolist()
        zero_frac = float(zero.float().mean())
    bounds = _bounds(module)
    if bounds is not None:
        lo, hi = bounds
        margin = saturation * (hi - lo)
        saturated = (per_unit <= lo + margin) | (per_unit >= hi - margin)
        sat = torch.nonzero(saturated.all(0)).flatten().tolist()
        sat_frac = float(saturated.float().mean())
    lo_edge, hi_edge = bounds if bounds is not None else (float(out.min()), float(out.max()))
    if hi_edge <= lo_edge:
        lo_edge, hi_edge = lo_edge - 0.5, hi_edge + 0.5
    counts = torch.histc(out.flatten().cpu(), bins=bins, min=lo_edge, max=hi_edge)
    edges = torch.linspace(lo_edge, hi_edge, bins + 1)
    return UnitStats(
        layer_label(name),
        name,
        type(module).__name__.lstrip("_"),
        per_unit.shape[1],
        dead,
        sat,
        zero_frac,
        sat_frac,
        float(out.mean()),
        float(out.std()) if out.numel() > 1 else 0.0,
        [int(c) for c in counts.tolist()],
        edges.tolist(),
    )


@dataclass
class UnitStatistics:
    """The :class:`UnitStats` of every activation layer, input side first."""

    layers: list[UnitStats] = field(default_factory=list)
    n_inputs: int = 0

    def __getitem__(self, name: str) -> UnitStats:
        for row in self.layers:
            if name in (row.name, row.module):
                return row
        raise KeyError(f"no activation layer {name!r}; activation layers: {', '.join(r.name for r in self.layers)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (histograms included)."""
        return {"n_inputs": self.n_inputs, "layers": [asdict(r) for r in self.layers]}

    def table(self) -> str:
        """A plain-text table, one row per activation layer."""
        if not self.layers:
            return "no activation layers (nothing can be dead or saturated)"
        header = ("layer", "activation", "units", "dead", "saturated", "zero outputs", "saturated outputs", "mean")
        pct = lambda v: "-" if v is None else f"{100 * v:.1f}%"  # noqa: E731
        body = [
            (
                r.name,
                r.kind,
                str(r.units),
                str(r.dead) if r.rectified else "-",
                str(r.saturated) if r.bounded else "-",
                pct(r.zero_fraction),
                pct(r.saturated_fraction),
                f"{r.mean:.3g}",
            )
            for r in self.layers
        ]
        widths = [max(len(row[c]) for row in [header, *body]) for c in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in [header, *body]]
        return "\n".join(
            [
                lines[0],
                "-" * len(lines[0]),
                *lines[1:],
                f"on {self.n_inputs} inputs; dead: never positive, saturated: at a bound on every input",
            ]
        )

    def plot(self, path: str | Path, *, title: str = "") -> Path:
        """Save the activation histograms, one panel per layer."""
        from lamina.diagnostics.plots import plot_activation_histograms

        return plot_activation_histograms(self, Path(path), title=title)


@torch.no_grad()
def unit_statistics(
    model: nn.Module, inputs: Any, *, layers: Sequence[str] | None = None, saturation: float = 0.01, bins: int = 50
) -> UnitStatistics:
    """Dead, saturated and active units, and activation histograms, of every activation layer on a batch.

    Args:
        model: any ``nn.Module``; its activation modules (``nn.ReLU``, ``nn.Sigmoid``, ...) are measured. The model
            keeps its mode (dropout in ``train()`` changes what later layers see).
        inputs: a batch (a tensor, an ``(inputs, targets)`` pair or an ArrayDataset).
        layers: restrict to these layer names.
        saturation: the margin, as a fraction of the output range, within which a bounded activation counts as
            saturated.
        bins: histogram bins.

    Returns:
        A :class:`UnitStatistics` (empty when the model has no activation layers).

    Raises:
        ShapeError: inputs of the wrong shape. LayerNotFoundError: an unknown layer name.
    """
    if not 0 < saturation < 0.5:
        raise ValueError(f"`saturation` must be in (0, 0.5), got {saturation!r}")
    found = activation_layers(model)
    if layers is not None:
        wanted = {find_layer(model, name)[0] for name in layers}
        found = [(n, m) for n, m in found if n in wanted or any(n.startswith(f"{w}.") for w in wanted)]
    x, _ = split_batch(inputs)
    with capture_outputs(found) as outs:
        forward(model, x)
    rows = [
        unit_stats_of(
            name, module, torch.cat([o.reshape(-1, *o.shape[1:]) for o in outs[name]]), saturation=saturation, bins=bins
        )
        for name, module in found
        if name in outs
    ]
    return UnitStatistics(rows, len(x))
