"""Connectionist temporal classification (Graves, Fernández, Gomez & Schmidhuber, 2006): the CTC loss over
unsegmented label sequences (its decoders, best-path and prefix beam search, are in
:mod:`lamina.metrics.ctc_decoding` and exported here too).

A model reads ``T`` steps and gives, at every step, scores over ``C`` classes, one of which is the *blank*. An
alignment is a path ``pi`` of ``T`` classes; collapsing it (merge repeats, then drop blanks) gives a labelling
``B(pi)``. CTC maximises ``p(l | x) = sum_{pi : B(pi) = l} prod_t y_t(pi_t)``, which torch's
``F.ctc_loss`` computes with the forward-backward recursion.

lamina's convention is batch first: outputs are ``(N, T, C)`` logits (a log-softmax over ``C`` is applied here),
targets ``(N, S)`` class indices padded with a negative value (``-1``) after each labelling's end. The blank is the
last class by default (``blank = -1``), so the labels keep their values ``0..C-2``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from lamina.config.component import Choices, spec_base, validated
from lamina.errors import ShapeError
from lamina.losses.standard import LossSpec
from lamina.metrics.ctc_decoding import ctc_beam_search, ctc_greedy_decode, resolve_blank
from lamina.registry import register

__all__ = ["CTCLoss", "CTCLossSpec", "ctc_beam_search", "ctc_greedy_decode", "target_lengths"]


def target_lengths(target: torch.Tensor) -> torch.Tensor:
    """Each labelling's length in a padded ``(N, S)`` target: the count of its non-negative entries."""
    return (target >= 0).sum(dim=1)


def _check(output: torch.Tensor, target: torch.Tensor, blank: int, values: bool = True) -> None:
    """Shape errors that name what CTC expects, before torch's less specific ones; ``values``: also check the labels
    (which reads them back from an accelerator)."""
    if output.dim() != 3:
        raise ShapeError(
            f"ctc: the model's output must be (N, T, C) scores per step (batch, steps, classes incl. the blank), "
            f"got shape {tuple(output.shape)}; end the model with a per-step dense layer and return_sequences = true"
        )
    if target.dim() != 2 or target.shape[0] != output.shape[0]:
        raise ShapeError(
            f"ctc: the target must be (N, S) label indices padded with -1, one row per example of the output "
            f"{tuple(output.shape)}; got shape {tuple(target.shape)}"
        )
    if target.is_floating_point():
        raise ShapeError(f"ctc: the target must hold integer class indices, got {target.dtype}")
    if not values:
        return
    labels = target[target >= 0]
    if labels.numel() and (int(labels.max()) >= output.shape[2] or bool((labels == blank).any())):
        raise ShapeError(
            f"ctc: target labels must be classes 0..{output.shape[2] - 1} other than the blank ({blank}); "
            f"got labels in {int(labels.min())}..{int(labels.max())}"
        )


class CTCLoss(nn.Module):
    """The CTC loss ``-log p(l | x)`` over all alignments of each target labelling (Graves et al., 2006).

    Args:
        blank: the blank's class index; negative counts from the end (``-1``: the last class).
        reduction: ``mean`` (over the batch of ``-log p(l | x)``, the figure papers report), ``mean_per_label``
            (each example's loss divided by its target length, then averaged: torch's ``mean``) or ``sum``.
        zero_infinity: give zero loss (and gradient) to an example no alignment can produce (a target longer
            than the input allows); otherwise its loss is ``inf``.

    Shape: ``output (N, T, C)`` logits, ``target (N, S)`` int64 padded with ``-1``; optional ``input_lengths``
    ``(N,)`` (default: every example is ``T`` steps) and ``target_lengths`` ``(N,)`` (default: the count of
    non-negative entries). Returns a scalar.

    References:
        Graves, Fernández, Gomez & Schmidhuber (2006), "Connectionist Temporal Classification: Labelling
        Unsegmented Sequence Data with Recurrent Neural Networks", ICML.
    """

    @validated
    def __init__(
        self,
        blank: int = -1,
        reduction: Annotated[str, Choices("mean", "mean_per_label", "sum")] = "mean",
        zero_infinity: bool = False,
    ) -> None:
        super().__init__()
        self.blank, self.reduction, self.zero_infinity = blank, reduction, zero_infinity
        self._labels_checked = False  # on an accelerator the labels are checked on the first batch only (no sync)

    def forward(
        self,
        output: torch.Tensor,
        target: torch.Tensor,
        input_lengths: torch.Tensor | None = None,
        target_lengths: torch.Tensor | None = None,
    ) -> torch.Tensor:
        blank = resolve_blank(self.blank, output.shape[-1]) if output.dim() == 3 else self.blank
        values = target.device.type == "cpu" or not self._labels_checked
        _check(output, target, blank, values)
        self._labels_checked = True
        n, steps, _ = output.shape
        log_probs = F.log_softmax(output.float(), dim=-1).transpose(0, 1)  # (T, N, C), as torch wants
        if input_lengths is None:
            input_lengths = torch.full((n,), steps, dtype=torch.long, device=output.device)
        if target_lengths is None:
            target_lengths = (target >= 0).sum(dim=1)
        losses = F.ctc_loss(
            log_probs,
            target.clamp_min(0).long(),
            input_lengths.long(),
            target_lengths.long(),
            blank=blank,
            reduction="none",
            zero_infinity=self.zero_infinity,
        )  # (N,): -log p(l | x) per example
        if self.reduction == "sum":
            return losses.sum()
        if self.reduction == "mean_per_label":
            return (losses / target_lengths.clamp_min(1).to(losses.dtype)).mean()
        return losses.mean()

    def extra_repr(self) -> str:
        return f"blank={self.blank}, reduction={self.reduction!r}"


@register("loss", "ctc", aliases=("connectionist_temporal_classification",))
class CTCLossSpec(spec_base(CTCLoss, LossSpec)):  # type: ignore[misc]  # a base made by spec_base
    """CTC loss (Graves et al., 2006) for unsegmented label sequences: the model gives ``(N, T, C)`` scores per
    step (``C`` includes the blank, by default the last class), the target ``(N, S)`` label indices padded with
    ``-1``. ``blank``, ``reduction`` and ``zero_infinity``: :class:`CTCLoss`'s, with its defaults."""

    default_metrics: ClassVar[tuple[str, ...]] = ("ctc_sequence_error", "ctc_character_error")

    def build(self) -> nn.Module:
        """A :class:`CTCLoss` with these options."""
        return CTCLoss(**self.options())
