"""Every diagnostic on one batch, with its figures: what ``lamina diagnose RUN`` runs and puts in the run report.

A diagnostic that does not apply to the model (a Jacobian spectrum of a DAG, filters of a first layer that is not
dense or convolutional, saliency of a regressor) is skipped with the reason, never failing the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lamina.diagnostics.features import Embedding, embed, first_layer_filters, saliency
from lamina.diagnostics.gradient_flow import GradientFlow, gradient_flow
from lamina.diagnostics.jacobian import JacobianSpectrum, jacobian_spectrum
from lamina.diagnostics.layers import (
    DiagnosticsError,
    check_inputs,
    find_layer,
    forward,
    require_parameters,
    split_batch,
)
from lamina.diagnostics.units import UnitStatistics, unit_statistics
from lamina.errors import ShapeError

__all__ = ["diagnose", "Diagnosis"]


@dataclass
class Diagnosis:
    """The results of :func:`diagnose`: each diagnostic (``None`` when skipped), the figures written and why any
    diagnostic was skipped."""

    gradient_flow: GradientFlow | None = None
    jacobian: JacobianSpectrum | None = None
    units: UnitStatistics | None = None
    embedding: Embedding | None = None
    figures: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready results (NaN written as ``None``)."""

        def _clean(value: Any) -> Any:
            if isinstance(value, float) and not math.isfinite(value):
                return None
            if isinstance(value, dict):
                return {k: _clean(v) for k, v in value.items()}
            if isinstance(value, list):
                return [_clean(v) for v in value]
            return value

        return _clean(
            {
                "gradient_flow": self.gradient_flow.to_dict() if self.gradient_flow else None,
                "jacobian": self.jacobian.to_dict() if self.jacobian else None,
                "units": {
                    "n_inputs": self.units.n_inputs,
                    "layers": [
                        {k: v for k, v in vars(r).items() if k not in ("counts", "edges")} for r in self.units.layers
                    ],
                }
                if self.units
                else None,
                "embedding": {
                    "layer": self.embedding.layer,
                    "method": self.embedding.method,
                    "explained_variance": self.embedding.explained_variance,
                }
                if self.embedding
                else None,
                "figures": [p.name for p in self.figures],
                "skipped": self.skipped,
            }
        )

    def sections(self) -> list[tuple[str, str]]:
        """``(title, plain-text table)`` for each diagnostic that ran, and the skipped ones with their reasons."""
        parts = []
        if self.gradient_flow is not None:
            parts.append(("Gradient flow", self.gradient_flow.table()))
        if self.jacobian is not None:
            parts.append(("Jacobian spectra", self.jacobian.table()))
        if self.units is not None:
            parts.append(("Units", self.units.table()))
        if self.skipped:
            parts.append(("Skipped", "\n".join(f"{k}: {v}" for k, v in self.skipped.items())))
        return parts


def _classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor | None) -> bool:
    if y is None or y.is_floating_point():
        return False
    with torch.no_grad():
        out = forward(model, x[:2])
    return isinstance(out, torch.Tensor) and out.dim() == 2 and out.shape[1] > 1


def diagnose(
    model: nn.Module,
    batch: Any,
    *,
    loss: Any = None,
    folder: str | Path | None = None,
    layer: str | None = None,
    embedding: str = "pca",
    classes: list[str] | None = None,
    max_jacobian_inputs: int = 16,
    saliency_samples: int = 6,
    seed: int = 0,
    prefix: str = "diagnose_",
    title: str = "",
) -> Diagnosis:
    """Gradient flow, Jacobian spectra, unit statistics, first-layer filters, a 2-D embedding and saliency maps.

    The model runs in evaluation mode (deterministic: no dropout, batch normalization's running statistics) and is
    put back in its mode afterwards.

    Args:
        model: the network.
        batch: ``(inputs, targets)`` or an ArrayDataset (targets colour the embedding and give the loss).
        loss: as for :func:`~lamina.diagnostics.gradient_flow` (default: by the targets' type).
        folder: where the figures go (a run's ``plots/``); ``None``: no figures.
        layer: the layer to embed (default: the one below the output layer).
        embedding: ``pca`` or ``tsne``.
        classes: class names for legends.
        max_jacobian_inputs: examples whose Jacobians are taken.
        saliency_samples: examples shown in the saliency figure.
        seed: of t-SNE.
        prefix: of every figure's file name.
        title: prefix of every figure's title.

    Raises:
        DiagnosticsError: a model without parameters. ShapeError: inputs of the wrong shape.
        LayerNotFoundError: ``layer`` does not exist (the message lists the layers).
    """
    require_parameters(model, "diagnose")
    x, y = split_batch(batch)
    check_inputs(model, x)
    if layer is not None and layer != "input":
        find_layer(model, layer)  # an unknown name fails now, not after the other diagnostics
    out = Path(folder) if folder is not None else None
    result = Diagnosis()
    was_training = model.training
    model.eval()
    try:
        result.gradient_flow = gradient_flow(model, (x, y), loss=loss)
        if out is not None:
            result.figures.append(result.gradient_flow.plot(out / f"{prefix}gradient_flow.png", title=title))
        try:
            result.jacobian = jacobian_spectrum(model, x, max_inputs=max_jacobian_inputs)
            if out is not None:
                result.figures += result.jacobian.plot(out, title=title, prefix=prefix)
        except DiagnosticsError as err:
            result.skipped["jacobian spectrum"] = str(err)
        result.units = unit_statistics(model, x)
        if not result.units.layers:
            result.skipped["unit statistics"] = "the model has no activation layers"
        elif out is not None:
            result.figures.append(result.units.plot(out / f"{prefix}activation_histograms.png", title=title))
        if out is None:
            return result
        from lamina.diagnostics.plots import plot_embedding, plot_filters, plot_saliency

        try:
            result.figures.append(
                plot_filters(first_layer_filters(model), out / f"{prefix}first_layer_filters.png", title=title)
            )
        except (DiagnosticsError, ShapeError) as err:
            result.skipped["first-layer filters"] = str(err)
        try:
            result.embedding = embed(model, (x, y), layer, method=embedding, seed=seed)
            result.figures.append(
                plot_embedding(
                    result.embedding, out / f"{prefix}embedding_{embedding}.png", classes=classes, title=title
                )
            )
        except DiagnosticsError as err:
            result.skipped["embedding"] = str(err)
        if _classifier(model, x, y):
            sal = saliency(model, x[:saliency_samples])
            result.figures.append(
                plot_saliency(
                    sal,
                    out / f"{prefix}saliency.png",
                    labels=y[:saliency_samples],
                    classes=classes,
                    max_samples=saliency_samples,
                    title=title,
                )
            )
        else:
            result.skipped["saliency"] = "needs a classifier (integer targets and one score per class)"
    finally:
        model.train(was_training)
    return result
