"""Decoupled neural interfaces: a block trained by a learned synthetic gradient (Jaderberg, Czarnecki, Osindero,
Vinyals, Graves, Silver & Kavukcuoglu, 2017).

During training the block's output ``h`` leaves the layer *detached*: no gradient from the layers above ever
reaches the block. Instead a small predictor ``M`` estimates the gradient from ``h`` alone, and the block is
updated at once, in the forward pass, with it::

    h = block(x)
    block:      h.backward(M(h) / N)                         (the synthetic gradient, the same step)
    above:      y = h  (a copy with no path back into the block)
    predictor:  loss_M = (1/N) sum_n || M(h_n) - N dL/dh_n ||^2   (on the true gradient arriving from above)

``M`` predicts each example's own gradient (``N dL/dh_n`` for a loss averaged over the ``N`` examples of a batch),
so what it learns does not depend on the batch size. The regression's gradient reaches ``M``'s parameters in the
same backward pass as the loss's, and the optimizer steps them with the rest of the model. ``M`` starts at zero, as
in the paper (Sec. 3), so the block is left unchanged until ``M`` has learned something.

Stacked blocks bootstrap (the paper's Fig. 3): the synthetic gradient of a block, back-propagated through it, is
the regression target of the block below.

Limits: the block's backward runs inside ``forward``, so fp16 training with a gradient scaler (the synthetic
gradient is not scaled; refused with an error) and multi-process data parallelism are not supported.

Conditioned DNI (cDNI, the paper's Sec. 3 and table 1): with ``classes = K`` the predictor also reads the batch's
one-hot labels, ``M(h, y) = A h + B onehot(y) + b``. The gradient of a classifier's loss at a hidden layer depends
mostly on the label, which ``h`` alone cannot tell; the trainer hands the labels to the layer
(:mod:`lamina.nn.targets_context`) in every training step.

::

    { type = "synthetic_gradient", layers = [{ type = "dense", units = 256, activation = "relu" }] }
    { type = "synthetic_gradient", classes = 10, layers = [{ type = "dense", units = 256, activation = "relu" }] }
"""

from __future__ import annotations

from typing import Annotated, Any

import torch
from pydantic import model_validator
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import component, raise_problems
from lamina.errors import ConfigError
from lamina.nn.nested import build_stack, nested_problems, stack_shapes
from lamina.nn.spec import LayerSpec, Shape
from lamina.nn.targets_context import current_batch_targets
from lamina.registry import register

__all__ = ["GradientPredictor", "SyntheticGradient", "SyntheticGradientSpec", "label_code", "synthetic_gradient_logs"]


class GradientPredictor(nn.Module):
    """``M(h)`` or, conditioned, ``M(h, y)``: a per-example gradient estimate of the same shape as ``h``
    (Jaderberg et al., 2017).

    A linear map of the flattened activation (``hidden = 0``), or a ReLU network with one hidden layer of
    ``hidden`` units; the last linear map starts at zero, so the first predictions are zero gradients. With
    ``classes = K`` the input is the flattened activation followed by the label's one-hot code (cDNI).

    Args:
        features: the number of entries of one example's ``h``.
        hidden: width of the hidden layer; 0 for the linear predictor.
        zero_init: start the last linear map at zero (the paper's choice); else torch's default initialisation.
        classes: condition on a label of this many classes (cDNI); 0 for none.

    Shape: ``h (N, *s)``, ``targets (N,)`` class indices or ``(N, K)`` (one-hot or soft labels) -> ``(N, *s)``.
    """

    def __init__(self, features: int, hidden: int = 0, zero_init: bool = True, classes: int = 0) -> None:
        super().__init__()
        self.classes = classes
        inputs = features + classes
        last = nn.Linear(hidden or inputs, features)
        if zero_init:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        self.net = last if hidden == 0 else nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), last)

    def forward(self, h: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        flat = h.flatten(1)
        if self.classes:
            flat = torch.cat([flat, label_code(targets, self.classes, len(h)).to(flat.dtype)], dim=1)
        return self.net(flat).view_as(h)


def label_code(targets: Any, classes: int, n: int) -> torch.Tensor:
    """The ``(n, classes)`` code of a batch's labels that a conditioned predictor reads: one-hot for class indices
    ``(n,)``, the rows themselves for ``(n, classes)`` (one-hot or soft labels).

    Raises:
        ConfigError: no labels (the forward pass ran outside the trainer's training step without
            :func:`~lamina.nn.targets_context.batch_targets`), or labels of another shape or range.
    """
    where = f"synthetic_gradient (classes = {classes})"
    if targets is None:
        raise ConfigError(
            f"{where}: the conditioned predictor needs the batch's labels in training; lamina's trainer gives "
            "them, a custom loop wraps the forward pass in `with lamina.nn.batch_targets(y):`"
        )
    if not isinstance(targets, torch.Tensor) or len(targets) != n:
        raise ConfigError(f"{where}: the labels must be a tensor of {n} rows (one per example), got {targets!r:.80}")
    if targets.dim() == 2 and targets.shape[1] == classes and targets.is_floating_point():
        return targets
    if targets.dim() != 1 or targets.is_floating_point() or targets.is_complex():
        raise ConfigError(
            f"{where}: the labels must be class indices (N,) or one-hot rows (N, {classes}), "
            f"got {targets.dtype} of shape {tuple(targets.shape)}"
        )
    if n and (int(targets.min()) < 0 or int(targets.max()) >= classes):
        raise ConfigError(
            f"{where}: class indices must be in 0..{classes - 1}, got {int(targets.min())}..{int(targets.max())}"
        )
    return nn.functional.one_hot(targets.long(), classes)


class _Decouple(torch.autograd.Function):
    """Pass ``h`` on with no gradient path back to it; the gradient ``g`` arriving from above becomes the
    regression gradient of the prediction, ``d loss_M / d M(h) = 2 (M(h) - N g) / N``."""

    @staticmethod
    def forward(ctx: Any, h: torch.Tensor, prediction: torch.Tensor, record: Any) -> torch.Tensor:
        ctx.save_for_backward(prediction.detach())
        ctx.record = record
        return h.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[None, torch.Tensor, None]:
        """Nothing for the block (it is decoupled); for the predictor, the gradient of its regression loss
        ``(1/N) sum ||M(h_n) - N g_n||^2`` onto the true gradient ``g`` arriving from above (recorded for the logs)."""
        (prediction,) = ctx.saved_tensors
        n = prediction.shape[0]
        error = prediction - n * grad
        ctx.record(error)
        return None, 2.0 * error / n, None


class SyntheticGradient(nn.Module):
    """A block decoupled from the layers above by a synthetic-gradient predictor (DNI; Jaderberg et al., 2017).

    In training mode with gradients enabled, ``forward`` runs the block, back-propagates ``M(h) / N`` through it at
    once (gradients accumulate in the block's parameters and in whatever below it needs a gradient), and returns a
    copy of ``h`` through which the true gradient from above trains ``M`` only. In evaluation (or under
    ``torch.no_grad``) it is the block alone.

    Args:
        block: the decoupled layers.
        features: the number of entries of one example of the block's output.
        hidden: the predictor's hidden width; 0 for a linear predictor (the paper's MNIST choice).
        zero_init: start the predictor at zero, as in the paper.
        classes: condition the predictor on the batch's label, one-hot over this many classes (cDNI); 0 for
            none. In training the labels come from :func:`~lamina.nn.targets_context.batch_targets`, which lamina's
            trainer sets for every step.

    Shape: the block's, ``(N, *in) -> (N, *out)``.

    Attributes:
        predictor: ``M`` (:class:`GradientPredictor`); a test may replace it by any module of the same signature.

    References:
        Jaderberg, Czarnecki, Osindero, Vinyals, Graves, Silver & Kavukcuoglu (2017), "Decoupled Neural Interfaces
        using Synthetic Gradients", ICML.
    """

    _loss_sum: torch.Tensor
    _loss_count: torch.Tensor

    @validated
    def __init__(
        self,
        block: nn.Module,
        features: Annotated[int, Bounds(ge=1)],
        *,
        hidden: Annotated[int, Bounds(ge=0)] = 0,
        zero_init: bool = True,
        classes: Annotated[int, Bounds(ge=0)] = 0,
    ) -> None:
        super().__init__()
        self.block = block
        self.classes = classes
        self.predictor: nn.Module = GradientPredictor(features, hidden, zero_init, classes)
        self.register_buffer("_loss_sum", torch.zeros(()), persistent=False)
        self.register_buffer("_loss_count", torch.zeros((), dtype=torch.long), persistent=False)

    def _record(self, error: torch.Tensor) -> None:
        """Add one batch's regression loss ``(1/N) sum_n ||M(h_n) - N g_n||^2`` to the running mean."""
        with torch.no_grad():
            self._loss_sum += error.pow(2).sum() / error.shape[0]
            self._loss_count += 1

    def synthetic_loss(self, reset: bool = True) -> float:
        """The mean regression loss of ``M`` over the batches since the last reset (``nan`` if none); resets."""
        count = int(self._loss_count)
        value = float(self._loss_sum) / count if count else float("nan")
        if reset:
            self._loss_sum.zero_()
            self._loss_count.zero_()
        return value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.block(x)
        if not (self.training and torch.is_grad_enabled()):
            return h
        device = h.device.type
        if torch.is_autocast_enabled(device) and torch.get_autocast_dtype(device) == torch.float16:
            raise ConfigError(
                "synthetic_gradient: fp16 training scales the loss's gradient, but the synthetic gradient applied "
                'in the forward pass is not scaled; use precision = "fp32" or "bf16"'
            )
        detached = h.detach()
        prediction = self.predictor(detached, current_batch_targets()) if self.classes else self.predictor(detached)
        if h.requires_grad:  # the block (or something below it) learns: update it now with the synthetic gradient
            h.backward(prediction.detach() / h.shape[0])
        return _Decouple.apply(detached, prediction, self._record)


def synthetic_gradient_logs(model: nn.Module) -> dict[str, float]:
    """The predictors' mean regression losses since the last call, for an epoch's logs: ``dni_loss`` for a model
    with one :class:`SyntheticGradient` block, ``dni1_loss``, ``dni2_loss``, ... (in module order) for several;
    a block that saw no training batch is left out. Resets the running means."""
    blocks = [m for m in model.modules() if isinstance(m, SyntheticGradient)]
    logs = {}
    for i, block in enumerate(blocks, start=1):
        value = block.synthetic_loss()
        if value == value:  # not NaN: the block trained this epoch
            logs["dni_loss" if len(blocks) == 1 else f"dni{i}_loss"] = value
    return logs


@register("layer", "synthetic_gradient", aliases=("dni",))
class SyntheticGradientSpec(spec_base(SyntheticGradient, LayerSpec, exclude=("block", "features"))):  # type: ignore[misc]  # a base made by spec_base
    """A block trained by a learned synthetic gradient and cut off from the gradient of the layers above
    (decoupled neural interface; Jaderberg et al., 2017).

    Args:
        layers: the decoupled block, any layer tables.
        hidden: the gradient predictor's hidden width (0: linear, the paper's MNIST predictor).
        zero_init: the predictor starts at zero, as in the paper.
        classes: condition the predictor on the one-hot label of this many classes (cDNI); 0: unconditioned.

    Shape: the block's, ``(N, *in) -> (N, *out)``.
    """

    layers: list[component("layer")]

    @model_validator(mode="after")
    def _check(self) -> SyntheticGradientSpec:
        problems = nested_problems(self.layers, ("layers",))
        if not self.layers:
            problems.append((("layers",), "give the decoupled block: at least one layer table"))
        raise_problems("synthetic_gradient", problems)
        return self

    def output_shape(self, input_shape: Shape) -> Shape:
        """The block's output shape."""
        return stack_shapes(self.layers, input_shape)[-1]

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`SyntheticGradient` around the built block, its predictor sized by the block's output."""
        out = self.output_shape(input_shape)
        features = 1
        for n in out:
            features *= n
        return SyntheticGradient(build_stack(self.layers, input_shape), features, **self.options())
