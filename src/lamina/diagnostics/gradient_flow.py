"""Gradient flow: how large the back-propagated error signals and the weight gradients are at each layer.

Back-propagation through a stack ``z_l = W_l h_{l-1} + b_l``, ``h_l = f(z_l)`` computes the deltas

    delta_L = dL/dz_L,        delta_l = f'(z_l) * (W_{l+1}^T delta_{l+1}),        dL/dW_l = delta_l h_{l-1}^T

so ``||delta_l|| <= max|f'| ||W_{l+1}||_2 ||delta_{l+1}||``: with the sigmoid (``max f' = 1/4``) and weights of
spectral norm below 4 the signal shrinks geometrically towards the input — the vanishing gradient that made deep
nets hard to train before 2006 (Hochreiter, 1991; Bengio, Simard & Frasconi, 1994; Glorot & Bengio, 2010).

For each layer with weights this reports ``||dL/dz||`` (the delta at the layer's output, before its activation
for lamina's dense and convolution blocks), ``||dL/dW||``, ``||W||`` and the ratio ``||dL/dW|| / ||W||`` (times
the learning rate, the relative update size CS231n's "babysitting" says should be near 1e-3). Norms are
Frobenius norms over the batch of the batch loss (the mean over examples), so deltas shrink as ``1/sqrt(N)`` with
the batch size while the ratios between layers do not.

References:
    Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward neural networks";
    Karpathy, CS231n notes (2016), "Neural Networks Part 3: babysitting the learning process".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lamina.diagnostics.layers import (
    DiagnosticsError,
    capture_outputs,
    check_inputs,
    forward,
    layer_label,
    match_model,
    require_parameters,
    select_parametrized,
    split_batch,
)
from lamina.registry import resolve

__all__ = ["gradient_flow", "GradientFlow", "LayerGradient", "weight_tensors", "resolve_loss"]


@dataclass(frozen=True)
class LayerGradient:
    """The gradient figures of one layer.

    Attributes:
        name: the layer as a user names it (``dense_0``); ``module``: its qualified module name.
        kind: the module class (``Linear``, ``Conv2d``, ``BatchNorm1d``).
        delta_norm: ``||dL/dz||`` at the module's output over the batch (NaN if the output took no part).
        grad_norm: ``||dL/dW||`` over its weight tensors (every parameter not named ``bias*``).
        weight_norm: ``||W||``.
        bias_grad_norm: ``||dL/db||`` (``None`` without a bias).
    """

    name: str
    module: str
    kind: str
    delta_norm: float
    grad_norm: float
    weight_norm: float
    bias_grad_norm: float | None = None

    @property
    def ratio(self) -> float:
        """``||dL/dW|| / ||W||`` (infinite for all-zero weights)."""
        return self.grad_norm / self.weight_norm if self.weight_norm > 0 else math.inf


@dataclass
class GradientFlow:
    """Per-layer gradient figures of one batch, input side first."""

    layers: list[LayerGradient] = field(default_factory=list)
    loss: float = math.nan

    def __getitem__(self, name: str) -> LayerGradient:
        for row in self.layers:
            if name in (row.name, row.module):
                return row
        raise KeyError(f"no layer {name!r}; layers: {', '.join(r.name for r in self.layers)}")

    def __len__(self) -> int:
        return len(self.layers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the loss and one record per layer (with its ratio)."""
        return {"loss": self.loss, "layers": [{**asdict(r), "ratio": r.ratio} for r in self.layers]}

    def table(self) -> str:
        """A plain-text table, one row per layer."""
        header = ("layer", "type", "||dL/dz||", "||dL/dW||", "||W||", "||dL/dW||/||W||")
        body = [
            (r.name, r.kind, f"{r.delta_norm:.3e}", f"{r.grad_norm:.3e}", f"{r.weight_norm:.3e}", f"{r.ratio:.3e}")
            for r in self.layers
        ]
        widths = [max(len(row[c]) for row in [header, *body]) for c in range(len(header))]
        lines = [
            "  ".join(cell.ljust(w) if c < 2 else cell.rjust(w) for c, (cell, w) in enumerate(zip(row, widths)))
            for row in [header, *body]
        ]
        return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:], f"batch loss: {self.loss:.6g}"])

    def plot(self, path: str | Path, *, title: str = "") -> Path:
        """Save the figure (norms against depth, and the gradient-to-weight ratio) as a PNG."""
        from lamina.diagnostics.plots import plot_gradient_flow

        return plot_gradient_flow(self, Path(path), title=title)


def weight_tensors(module: nn.Module) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """A module's own trainable ``(weights, biases)``: parameters named ``bias*`` are biases, the rest weights."""
    weights, biases = [], []
    for name, p in module.named_parameters(recurse=False):
        if p.requires_grad:
            (biases if name.startswith("bias") else weights).append(p)
    return weights, biases


def _norm(tensors: Sequence[torch.Tensor | None]) -> float:
    present = [t.detach() for t in tensors if t is not None]
    return math.sqrt(sum(float(t.double().pow(2).sum()) for t in present)) if present else 0.0


def resolve_loss(model: nn.Module, loss: Any, targets: torch.Tensor | None):
    """The loss function ``(output, target) -> scalar``: the given one (a name, table, spec or callable), else
    cross-entropy for integer targets and mean squared error for real-valued ones."""
    if loss is None:
        if targets is None:
            raise DiagnosticsError("the batch has no targets: give (inputs, targets) or a `loss` that needs none")
        loss = "mse" if targets.is_floating_point() else "cross_entropy"
    if callable(loss) and not isinstance(loss, (str, dict)) and not hasattr(loss, "build"):
        return loss
    return resolve("loss", loss, path="loss").build()


def gradient_flow(
    model: nn.Module, batch: Any, *, loss: Any = None, layers: Sequence[str] | None = None
) -> GradientFlow:
    """Per-layer norms of the back-propagated deltas and of the weight gradients on one batch.

    The model keeps its mode (``train()`` uses dropout masks and batch statistics as training does) and its
    ``.grad`` fields: the gradients are computed with ``torch.autograd.grad``.

    Args:
        model: any ``nn.Module``; the layers measured are the modules owning trainable parameters.
        batch: ``(inputs, targets)``, an :class:`~lamina.data.ArrayDataset`, or inputs alone for a model with its
            own ``training_loss``.
        loss: a loss name or table (``"cross_entropy"``), a loss spec or a callable ``loss(output, target)``;
            default: the model's ``training_loss`` if it has one, else cross-entropy for integer targets and mean
            squared error otherwise.
        layers: restrict to these layer names (``["dense_0", "dense_2"]``).

    Returns:
        A :class:`GradientFlow`, one :class:`LayerGradient` per layer, input side first.

    Raises:
        DiagnosticsError: a model without parameters, or no loss to differentiate.
        ShapeError: inputs of the wrong shape (the message names the expected one).
        LayerNotFoundError: an unknown layer name (the message lists those that exist).
    """
    found = require_parameters(model, "gradient_flow") if layers is None else select_parametrized(model, layers)
    x, y = split_batch(batch)
    check_inputs(model, x)
    with capture_outputs(found) as outs:
        if loss is None and hasattr(model, "training_loss"):
            value = model.training_loss((match_model(model, x), y))
        else:
            out = forward(model, x)
            target = y.to(out.device) if isinstance(y, torch.Tensor) and isinstance(out, torch.Tensor) else y
            value = resolve_loss(model, loss, y)(out, target)
    if not isinstance(value, torch.Tensor) or value.dim() != 0:
        raise DiagnosticsError(f"the loss must be a scalar tensor, got {getattr(value, 'shape', type(value))}")
    per_layer = [(outs.get(name, []), *weight_tensors(module)) for name, module in found]
    wanted = [t for o, w, b in per_layer for t in [*o, *w, *b]]
    grads = iter(torch.autograd.grad(value, wanted, allow_unused=True))
    rows = []
    for (name, module), (o, w, b) in zip(found, per_layer):
        g_out, g_w, g_b = [next(grads) for _ in o], [next(grads) for _ in w], [next(grads) for _ in b]
        delta = _norm(g_out) if any(g is not None for g in g_out) else math.nan
        rows.append(
            LayerGradient(
                layer_label(name), name, type(module).__name__, delta, _norm(g_w), _norm(w), _norm(g_b) if b else None
            )
        )
    return GradientFlow(rows, float(value.detach()))
