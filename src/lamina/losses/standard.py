"""Loss functions by name (``[train] loss = "cross_entropy"``). Classification losses take logits, as torch's do.

Each spec builds a module ``loss(output, target) -> scalar`` and names the metrics that suit it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import number
from lamina.config.spec import Spec
from lamina.errors import ShapeError
from lamina.registry import register

__all__ = ["LossSpec", "matched_target"]


def matched_target(output: torch.Tensor, target: torch.Tensor, loss: str) -> torch.Tensor:
    """``target`` reshaped to ``output``'s shape when only a trailing 1 differs (``(N,)`` vs ``(N, 1)``);
    other mismatches are a :class:`ShapeError` rather than torch's silent broadcasting."""
    if output.shape == target.shape:
        return target
    if output.numel() == target.numel() and output.shape[0] == target.shape[0]:
        return target.reshape(output.shape)
    raise ShapeError(
        f"{loss}: the model's output has shape {tuple(output.shape)} but the target "
        f"{tuple(target.shape)}; the last layer must give one value per target"
    )


class LossSpec(Spec):
    """A loss: ``build()`` returns a module ``loss(output, target) -> scalar tensor`` (mean over the batch)."""

    default_metrics: ClassVar[tuple[str, ...]] = ()

    def build(self) -> nn.Module:
        """The loss module."""
        raise NotImplementedError


class _Elementwise(nn.Module):
    """A regression loss that refuses to broadcast mismatched shapes."""

    def __init__(self, fn, name: str, **kwargs) -> None:
        super().__init__()
        self.fn, self.name, self.kwargs = fn, name, kwargs

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.fn(output, matched_target(output, target, self.name).to(output.dtype), **self.kwargs)

    def extra_repr(self) -> str:
        return self.name


@register("loss", "mse", aliases=("mean_squared_error",))
class MSELoss(LossSpec):
    """Mean squared error ``mean((y - t)^2)``. No options: ``torch.nn.functional.mse_loss``, averaged."""

    target_class: ClassVar[Callable[..., Any]] = F.mse_loss

    def build(self) -> nn.Module:
        """The loss module these options describe: mean squared error, refusing mismatched shapes."""
        return _Elementwise(F.mse_loss, "mse")


@register("loss", "mae", aliases=("l1", "mean_absolute_error"))
class MAELoss(LossSpec):
    """Mean absolute error ``mean(|y - t|)``. No options: ``torch.nn.functional.l1_loss``, averaged."""

    target_class: ClassVar[Callable[..., Any]] = F.l1_loss

    def build(self) -> nn.Module:
        """The loss module these options describe: mean absolute error, refusing mismatched shapes."""
        return _Elementwise(F.l1_loss, "mae")


@register("loss", "huber", aliases=("smooth_l1",))
class HuberLoss(LossSpec):
    """Huber loss: squared below ``delta``, linear above (Huber, 1964). ``delta`` is
    ``torch.nn.functional.huber_loss``'s keyword, with its default.

    Args:
        delta: where the loss turns from squared to linear (> 0).
    """

    target_class: ClassVar[Callable[..., Any]] = F.huber_loss

    delta: number(0, lo_open=True) = 1.0

    def build(self) -> nn.Module:
        """The loss module these options describe: the Huber loss with this ``delta``."""
        return _Elementwise(F.huber_loss, "huber", **self.options())


class _CrossEntropy(nn.Module):
    """Cross-entropy on logits (``F.cross_entropy``), sequences ``(N, L, C)`` with targets ``(N, L)`` included.

    Args:
        label_smoothing: mix the one-hot target with the uniform distribution (Szegedy et al., 2016).
    """

    @validated
    def __init__(self, label_smoothing: Annotated[float, Bounds(ge=0, lt=1)] = 0.0) -> None:
        super().__init__()
        self.label_smoothing = label_smoothing

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if output.dim() == 3 and target.dim() == 2:  # sequences: (N, L, C) logits, (N, L) labels
            output = output.transpose(1, 2)  # (N, C, L), the layout F.cross_entropy wants
        if not target.is_floating_point() and target.dim() != output.dim() - 1:
            raise ShapeError(
                f"cross_entropy: logits of shape {tuple(output.shape)} need class-index targets of "
                f"shape {tuple(output.shape[:1] + output.shape[2:])}, got {tuple(target.shape)}"
            )
        return F.cross_entropy(output, target, label_smoothing=self.label_smoothing)

    def extra_repr(self) -> str:
        return f"label_smoothing={self.label_smoothing}"


@register("loss", "cross_entropy", aliases=("categorical_cross_entropy", "softmax_cross_entropy"))
class CrossEntropyLoss(spec_base(_CrossEntropy, LossSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Multi-class cross-entropy on logits: ``-log softmax(y)[t]``, averaged; targets are class indices
    (or class probabilities). Sequence outputs ``(N, L, C)`` with targets ``(N, L)`` are handled too.

    Args:
        label_smoothing: mix the one-hot target with the uniform distribution (Szegedy et al., 2016).
    """

    default_metrics: ClassVar[tuple[str, ...]] = ("accuracy",)

    def build(self) -> nn.Module:
        """The loss module these options describe: cross-entropy on logits with this label smoothing."""
        return _CrossEntropy(**self.options())


def _bce_with_logits(output: torch.Tensor, target: torch.Tensor, pos_weight: float | None) -> torch.Tensor:
    weight = None if pos_weight is None else output.new_tensor(pos_weight)
    return F.binary_cross_entropy_with_logits(output, target, pos_weight=weight)


class _BinaryCrossEntropy(_Elementwise):
    """Binary cross-entropy on logits, refusing mismatched shapes.

    Args:
        pos_weight: weight of the positive term (> 1 favours recall on rare positives; ``None``: 1).
    """

    @validated
    def __init__(self, pos_weight: Annotated[float | None, Bounds(gt=0)] = None) -> None:
        super().__init__(_bce_with_logits, "binary_cross_entropy", pos_weight=pos_weight)


@register("loss", "binary_cross_entropy", aliases=("bce", "logistic"))
class BinaryCrossEntropyLoss(spec_base(_BinaryCrossEntropy, LossSpec)):  # type: ignore[misc]  # spec_base's base
    """Binary cross-entropy on logits, ``-[t log s(y) + (1 - t) log(1 - s(y))]`` with s the sigmoid; targets in
    [0, 1], one per output unit (multi-label classification uses one unit per label).

    Args:
        pos_weight: weight of the positive term (> 1 favours recall on rare positives).
    """

    default_metrics: ClassVar[tuple[str, ...]] = ("accuracy",)

    def build(self) -> nn.Module:
        """The loss module these options describe: binary cross-entropy on logits with this ``pos_weight``."""
        return _BinaryCrossEntropy(**self.options())
