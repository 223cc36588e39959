"""Singular values of each layer's input-output Jacobian, and of their product through depth.

For a stack ``h_l = F_l(h_{l-1})`` the Jacobian of the network's output with respect to its input is the product

    J = J_L J_{L-1} ... J_1,        J_l = dh_l / dh_{l-1}  (for a dense layer with activation f: diag(f'(z_l)) W_l)

Back-propagation multiplies the error signal by ``J^T``, so gradients neither vanish nor explode when every
singular value of ``J`` stays near 1: *dynamical isometry*. A deep *linear* network with orthogonal weights has
it exactly (every singular value is 1 at any depth; Saxe, McClelland & Ganguli, 2014); sigmoid networks cannot
reach it, while tanh networks with orthogonal weights near the edge of chaos do (Pennington, Schoenholz & Ganguli,
2017). Jacobians depend on the input, so they are taken per example (the layers in evaluation mode, so that
batch normalization and dropout act per example) and their singular values are pooled or averaged over inputs.

References:
    Saxe, McClelland & Ganguli (2014), "Exact solutions to the nonlinear dynamics of learning in deep linear neural
    networks"; Pennington, Schoenholz & Ganguli (2017), "Resurrecting the sigmoid in deep learning through
    dynamical isometry: theory and practice".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lamina.diagnostics.layers import (
    DiagnosticsError,
    check_inputs,
    is_shape_only,
    layer_label,
    match_model,
    require_parameters,
    split_batch,
)
from lamina.nn.spec import fmt_shape

__all__ = ["jacobian_spectrum", "JacobianSpectrum", "LayerSpectrum", "per_example_jacobian", "singular_values"]

# One example's Jacobian may hold at most this many entries (8M: 32 MB in float32) before we refuse.
MAX_JACOBIAN_ENTRIES = 1 << 23


def _stats(values: torch.Tensor) -> dict[str, float]:
    v = values.double()
    return {
        "mean": float(v.mean()),
        "std": float(v.std()) if v.numel() > 1 else 0.0,
        "min": float(v.min()),
        "max": float(v.max()),
    }


@dataclass
class LayerSpectrum:
    """One layer's Jacobian singular values (each row sorted descending, one row per input example).

    Attributes:
        name: the layer (``dense_3``); ``kind``: its module class.
        in_shape, out_shape: one example's input and output shapes.
        layer: ``(n_inputs, k)`` singular values of this layer's Jacobian ``J_l``.
        product: ``(n_inputs, k')`` singular values of ``J_l ... J_1`` (the network input to this layer's output).
    """

    name: str
    kind: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    layer: torch.Tensor
    product: torch.Tensor

    @property
    def mean_spectrum(self) -> torch.Tensor:
        """The layer's sorted singular values averaged over inputs."""
        return self.layer.mean(0)

    @property
    def mean_product_spectrum(self) -> torch.Tensor:
        """The product Jacobian's sorted singular values averaged over inputs."""
        return self.product.mean(0)

    def summary(self) -> dict[str, Any]:
        """Mean, std, min and max of the pooled singular values of ``J_l`` and of the product, and the product's
        median condition number ``sigma_max / sigma_min``."""
        cond = (self.product[:, 0] / self.product[:, -1].clamp_min(1e-300)).median()
        size = f"{math.prod(self.out_shape)}x{math.prod(self.in_shape)}"
        return {
            "layer": self.name,
            "kind": self.kind,
            "jacobian": size,
            **{f"layer_{k}": v for k, v in _stats(self.layer).items()},
            **{f"product_{k}": v for k, v in _stats(self.product).items()},
            "product_condition": float(cond),
        }


@dataclass
class JacobianSpectrum:
    """The spectra of every layer of a stack, input side first."""

    layers: list[LayerSpectrum] = field(default_factory=list)
    n_inputs: int = 0

    def __getitem__(self, name: str) -> LayerSpectrum:
        for row in self.layers:
            if row.name == name:
                return row
        raise KeyError(f"no layer {name!r}; layers: {', '.join(r.name for r in self.layers)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summaries (the singular values themselves stay in the tensors)."""
        return {"n_inputs": self.n_inputs, "layers": [r.summary() for r in self.layers]}

    def table(self) -> str:
        """A plain-text table: per layer, the singular values of its Jacobian and of the product up to it."""
        header = (
            "layer",
            "Jacobian",
            "sigma(J_l): mean [min, max]",
            "sigma(J_l...J_1): mean [min, max]",
            "cond(J_l...J_1)",
        )
        body = []
        for r in self.layers:
            s = r.summary()
            body.append(
                (
                    r.name,
                    s["jacobian"],
                    f"{s['layer_mean']:.3g} [{s['layer_min']:.3g}, {s['layer_max']:.3g}]",
                    f"{s['product_mean']:.3g} [{s['product_min']:.3g}, {s['product_max']:.3g}]",
                    f"{s['product_condition']:.3g}",
                )
            )
        widths = [max(len(row[c]) for row in [header, *body]) for c in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in [header, *body]]
        return "\n".join(
            [
                lines[0],
                "-" * len(lines[0]),
                *lines[1:],
                f"singular values pooled over {self.n_inputs} inputs; dynamical isometry: all near 1",
            ]
        )

    def plot(self, folder: str | Path, *, title: str = "", prefix: str = "") -> list[Path]:
        """Save ``jacobian_product_spectrum.png`` (through depth) and ``jacobian_layer_spectra.png`` (per layer)."""
        from lamina.diagnostics.plots import plot_jacobian_depth, plot_jacobian_layers

        folder = Path(folder)
        return [
            plot_jacobian_depth(self, folder / f"{prefix}jacobian_product_spectrum.png", title=title),
            plot_jacobian_layers(self, folder / f"{prefix}jacobian_layer_spectra.png", title=title),
        ]


def per_example_jacobian(block: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """``(n, out, in)``: the Jacobian of ``block`` at each example of ``h`` (``(n, *in_shape)``), flattened.

    Uses ``torch.func.jacrev`` vectorised over examples; a layer ``vmap`` cannot batch falls back to a loop.
    """

    def _f(v: torch.Tensor) -> torch.Tensor:
        return block(v.unsqueeze(0)).squeeze(0)

    n = h.shape[0]
    try:
        jac = torch.func.vmap(torch.func.jacrev(_f))(h)
    except (RuntimeError, NotImplementedError):
        jac = torch.stack([torch.autograd.functional.jacobian(_f, h[i], vectorize=True) for i in range(n)])
    return jac.detach().reshape(n, -1, h[0].numel())


def singular_values(matrices: torch.Tensor) -> torch.Tensor:
    """Sorted singular values of each matrix of a batch ``(n, rows, cols)``, with those below working precision
    (``sigma_max * max(rows, cols) * eps``, numpy's ``matrix_rank`` rule) set to exactly 0: a dead ReLU's zero row
    gives a zero singular value, not rounding noise."""
    values = torch.linalg.svdvals(matrices)
    tol = values[:, :1] * max(matrices.shape[1:]) * torch.finfo(values.dtype).eps
    return torch.where(values > tol, values, torch.zeros_like(values)).cpu()


def _blocks(model: nn.Module) -> list[tuple[str, nn.Module]]:
    if isinstance(model, nn.Sequential):
        return list(model.named_children())
    if hasattr(model, "layers") and isinstance(model.layers, nn.ModuleDict):
        raise DiagnosticsError(
            "jacobian_spectrum needs a chain of layers (a [model] layers = [...] stack or an "
            "nn.Sequential); the layers of a DAG model do not multiply into one product"
        )
    return [(type(model).__name__, model)]


def _check_size(name: str, out_numel: int, in_numel: int, n: int) -> None:
    if out_numel * in_numel > MAX_JACOBIAN_ENTRIES:
        raise DiagnosticsError(
            f"layer {name!r}: one example's Jacobian would hold {out_numel} x {in_numel} = {out_numel * in_numel:,} "
            f"entries (more than {MAX_JACOBIAN_ENTRIES:,}); measure a smaller network or smaller inputs"
        )


def jacobian_spectrum(model: nn.Module, inputs: Any, *, max_inputs: int = 32) -> JacobianSpectrum:
    """Singular values of each layer's input-output Jacobian and of their product through depth.

    Args:
        model: a stack (``lamina.build_model`` with ``layers``, or any ``nn.Sequential``); each child is a layer
            (a dense block's Jacobian includes its activation). Layers that only reshape or drop out are folded
            into the product without a row of their own. Runs in evaluation mode; the model's mode is restored.
        inputs: a batch (a tensor, an ``(inputs, targets)`` pair or an ArrayDataset); the first ``max_inputs``
            examples are used.
        max_inputs: examples whose Jacobians are taken (cost: one Jacobian per layer and example).

    Returns:
        A :class:`JacobianSpectrum`: per layer, ``(n_inputs, k)`` singular values of ``J_l`` and of
        ``J_l ... J_1``.

    Raises:
        DiagnosticsError: a model without parameters, a DAG, or a Jacobian too large to hold.
        ShapeError: inputs of the wrong shape (the message names the expected one).
    """
    require_parameters(model, "jacobian_spectrum")
    x, _ = split_batch(inputs)
    check_inputs(model, x)
    if max_inputs < 1:
        raise ValueError(f"`max_inputs` must be a positive integer, got {max_inputs!r}")
    h = match_model(model, x[:max_inputs].detach())
    n = len(h)
    was_training = model.training
    model.eval()
    rows: list[LayerSpectrum] = []
    product: torch.Tensor | None = None  # (n, numel(h_l), numel(x)); None while it is the identity
    try:
        with torch.enable_grad():
            for name, block in _blocks(model):
                out = block(h).detach()
                if is_shape_only(block):  # the flattened values are unchanged: J_l = I
                    h = out
                    continue
                _check_size(name, out[0].numel(), h[0].numel(), n)
                jac = per_example_jacobian(block, h)
                product = jac if product is None else torch.bmm(jac, product)
                rows.append(
                    LayerSpectrum(
                        layer_label(name),
                        type(block).__name__,
                        tuple(h.shape[1:]),
                        tuple(out.shape[1:]),
                        singular_values(jac),
                        singular_values(product),
                    )
                )
                h = out
    finally:
        model.train(was_training)
    if not rows:
        raise DiagnosticsError(
            f"jacobian_spectrum: no layer of {type(model).__name__} changes its input "
            f"(inputs of shape {fmt_shape(tuple(x.shape))})"
        )
    return JacobianSpectrum(rows, n)
