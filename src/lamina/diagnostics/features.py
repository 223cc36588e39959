"""Feature views: what a network has learned to look at.

- First-layer filters as images: a dense layer's weight row ``w_j`` (one hidden unit's receptive field over the
  input pixels) or a convolution kernel, shown on the input's grid (Hinton & Salakhutdinov, 2006; Krizhevsky et
  al., 2012, Fig. 3).
- 2-D embeddings of any layer: its activations projected with PCA (linear, keeps global distances) or t-SNE
  (van der Maaten & Hinton, 2008: keeps neighbourhoods), coloured by label, to see whether classes separate.
- Saliency: the gradient of the class score with respect to the input, ``|dS_c / dx|`` (maximum over channels),
  the first-order sensitivity of the decision to each pixel (Simonyan, Vedaldi & Zisserman, 2014).

References:
    Simonyan, Vedaldi & Zisserman (2014), "Deep inside convolutional networks: visualising image classification
    models and saliency maps"; van der Maaten & Hinton (2008), "Visualizing data using t-SNE".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from lamina.diagnostics.layers import (
    DiagnosticsError,
    capture_outputs,
    expected_input_shape,
    find_layer,
    forward,
    layer_label,
    require_parameters,
    split_batch,
)
from lamina.errors import ShapeError
from lamina.nn.spec import fmt_shape

__all__ = ["first_layer_filters", "Filters", "embed", "Embedding", "saliency", "Saliency", "default_embedding_layer"]


@dataclass
class Filters:
    """First-layer filters as images: ``images`` is ``(n_filters, channels, height, width)``."""

    layer: str
    images: torch.Tensor


def _image_shape(
    in_features: int, model_shape: tuple[int, ...] | None, image_shape: tuple[int, ...] | None
) -> tuple[int, int, int]:
    for shape in (image_shape, model_shape if model_shape is not None and len(model_shape) > 1 else None):
        if shape is not None and math.prod(shape) == in_features:
            shape = tuple(shape)
            return (1, *shape) if len(shape) == 2 else shape if len(shape) == 3 else (1, 1, shape[0])
    side = math.isqrt(in_features)
    if side * side == in_features:
        return 1, side, side
    raise ShapeError(
        f"the first layer takes {in_features} inputs, which do not form a square image; give "
        "image_shape=(channels, height, width) or (height, width)"
    )


def first_layer_filters(model: nn.Module, *, image_shape: tuple[int, ...] | None = None) -> Filters:
    """The weights of the first layer with weights, as images.

    Args:
        model: a network whose first weighted layer is ``nn.Linear`` (each row becomes an image of the input's
            shape) or ``nn.Conv2d``/``nn.Conv1d`` (each kernel is an image).
        image_shape: the input image's ``(channels, height, width)`` or ``(height, width)``, for a dense layer on
            flattened inputs whose model does not record it (a square image is assumed otherwise).

    Returns:
        :class:`Filters` with ``images`` of shape ``(n_filters, channels, height, width)``.
    """
    name, layer = require_parameters(model, "first_layer_filters")[0]
    w = layer.weight.detach().float().cpu() if isinstance(getattr(layer, "weight", None), torch.Tensor) else None
    if isinstance(layer, nn.Linear):
        shape = expected_input_shape(model)
        images = w.reshape(w.shape[0], *_image_shape(w.shape[1], shape, image_shape))
    elif isinstance(layer, nn.Conv2d):
        images = w
    elif isinstance(layer, nn.Conv1d):
        images = w.unsqueeze(1)  # (out, 1, in_channels, kernel): channels as rows
    else:
        raise DiagnosticsError(
            f"the first layer with weights, {layer_label(name)!r}, is a {type(layer).__name__}; "
            "filters can be shown for dense (nn.Linear) and convolution layers"
        )
    return Filters(layer_label(name), images)


@dataclass
class Embedding:
    """A 2-D embedding of a layer's activations: ``points`` ``(N, 2)`` and the ``labels`` that colour them."""

    layer: str
    method: str
    points: torch.Tensor
    labels: torch.Tensor | None
    explained_variance: tuple[float, float] | None = None  # PCA only: fraction of variance per axis


def default_embedding_layer(model: nn.Module) -> str:
    """The layer below the output: the last top-level block with weights but one (the representation the output
    layer classifies)."""
    blocks = [name for name, block in model.named_children() if any(True for _ in block.parameters())]
    if isinstance(getattr(model, "layers", None), nn.ModuleDict):
        blocks = [f"layers.{n}" for n, b in model.layers.items() if any(True for _ in b.parameters())]
    if len(blocks) < 2:
        raise DiagnosticsError("the model has fewer than two layers with weights; name the layer to embed")
    return layer_label(blocks[-2])


@torch.no_grad()
def embed(
    model: nn.Module,
    batch: Any,
    layer: str | None = None,
    *,
    method: str = "pca",
    seed: int = 0,
    perplexity: float = 30.0,
    iterations: int = 1000,
) -> Embedding:
    """Project a layer's activations on a batch to two dimensions.

    Args:
        model: any network (kept in its mode; put it in ``eval()`` for deterministic activations).
        batch: ``(inputs, labels)``, an ArrayDataset, or inputs alone (uncoloured).
        layer: the layer whose outputs are embedded (default: :func:`default_embedding_layer`); ``"input"``
            embeds the inputs themselves.
        method: ``pca`` (scikit-learn's PCA) or ``tsne`` (scikit-learn's TSNE, seeded).
        perplexity, iterations: t-SNE's perplexity (capped at (N - 1) / 3) and optimisation steps (>= 250).

    Returns:
        An :class:`Embedding`.
    """
    methods = ("pca", "tsne")
    if method not in methods:
        raise ValueError(f"`method` must be one of {', '.join(map(repr, methods))}, got {method!r}")
    x, y = split_batch(batch)
    if len(x) < 3:
        raise DiagnosticsError(f"an embedding needs at least 3 examples, got {len(x)}")
    if layer == "input":
        features, label = x, "input"
    else:
        label = layer or default_embedding_layer(model)
        qualified, module = find_layer(model, label)
        with capture_outputs([(qualified, module)]) as outs:
            forward(model, x)
        features = torch.cat(outs[qualified])
    features = features.reshape(len(features), -1).double().cpu().numpy()
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed)
        points = pca.fit_transform(features)
        explained = tuple(float(v) for v in pca.explained_variance_ratio_)
    else:
        from sklearn.manifold import TSNE

        points = TSNE(
            n_components=2,
            perplexity=min(perplexity, (len(features) - 1) / 3),
            init="pca",
            max_iter=iterations,
            random_state=seed,
        ).fit_transform(features)
        explained = None
    return Embedding(
        layer_label(label),
        method,
        torch.from_numpy(points).float(),
        y.detach().cpu() if y is not None else None,
        explained,
    )


@dataclass
class Saliency:
    """Input gradients: ``gradients`` ``(N, *input_shape)`` of the score of class ``targets`` (``(N,)``), and
    ``maps`` ``(N, *spatial)``, their absolute value's maximum over channels."""

    inputs: torch.Tensor
    gradients: torch.Tensor
    targets: torch.Tensor
    maps: torch.Tensor


def saliency(model: nn.Module, inputs: Any, target: int | torch.Tensor | None = None) -> Saliency:
    """Gradients of each example's class score with respect to its input (Simonyan et al., 2014).

    Args:
        model: a classifier returning scores (logits) ``(N, classes)``, or a regressor returning ``(N,)``/``(N, 1)``.
        inputs: a batch (a tensor, a pair or an ArrayDataset).
        target: the class whose score is differentiated: one index for all, ``(N,)`` indices, or ``None`` for
            each example's predicted class.

    Returns:
        A :class:`Saliency`. The model keeps its mode and its ``.grad`` fields.
    """
    x, _ = split_batch(inputs)
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        scores = forward(model, x)
        if not isinstance(scores, torch.Tensor) or scores.dim() not in (1, 2):
            got = fmt_shape(tuple(scores.shape)) if isinstance(scores, torch.Tensor) else type(scores).__name__
            raise DiagnosticsError(f"saliency needs scores of shape (N, classes) or (N,), got {got}")
        scores = scores.unsqueeze(1) if scores.dim() == 1 else scores
        if target is None:
            chosen = scores.detach().argmax(1)
        else:
            chosen = torch.as_tensor(target, device=scores.device).long().expand(len(x)).clone()
            if int(chosen.min()) < 0 or int(chosen.max()) >= scores.shape[1]:
                raise DiagnosticsError(
                    f"target class {target} is out of range: the model gives {scores.shape[1]} scores per example"
                )
        picked = scores.gather(1, chosen.unsqueeze(1)).sum()
        (grad,) = torch.autograd.grad(picked, x)
    grad = grad.detach()
    maps = grad.abs().amax(1) if grad.dim() >= 3 else grad.abs()
    return Saliency(x.detach(), grad, chosen.cpu(), maps)
