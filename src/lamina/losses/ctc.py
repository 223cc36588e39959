"""Connectionist temporal classification (Graves, Fernández, Gomez & Schmidhuber, 2006): the CTC loss over
unsegmented label sequences, and its two decoders, best-path (greedy) and prefix beam search.

A model reads ``T`` steps and gives, at every step, scores over ``C`` classes, one of which is the *blank*. An
alignment is a path ``pi`` of ``T`` classes; collapsing it (merge repeats, then drop blanks) gives a labelling
``B(pi)``. CTC maximises ``p(l | x) = sum_{pi : B(pi) = l} prod_t y_t(pi_t)``, which torch's
``F.ctc_loss`` computes with the forward-backward recursion.

lamina's convention is batch first: outputs are ``(N, T, C)`` logits (a log-softmax over ``C`` is applied here),
targets ``(N, S)`` class indices padded with a negative value (``-1``) after each labelling's end. The blank is the
last class by default (``blank = -1``), so the labels keep their values ``0..C-2``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from lamina.config.component import Choices, spec_base, validated
from lamina.errors import ShapeError
from lamina.losses.standard import LossSpec
from lamina.registry import register

__all__ = [
    "CTCLoss",
    "CTCLossSpec",
    "ctc_beam_search",
    "ctc_greedy_decode",
    "collapse",
    "resolve_blank",
    "target_lengths",
]


def resolve_blank(blank: int, classes: int) -> int:
    """The blank's class index: ``blank`` itself, or counted from the end when negative (``-1``: the last)."""
    index = blank + classes if blank < 0 else blank
    if not 0 <= index < classes:
        raise ShapeError(f"ctc: blank = {blank} is not a class of an output with {classes} classes")
    return index


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


def collapse(path: Sequence[int], blank: int) -> list[int]:
    """``B(pi)``: merge repeated classes, then drop blanks (``[1, 1, b, 1, 2, 2] -> [1, 1, 2]``)."""
    out: list[int] = []
    previous = None
    for c in path:
        if c != previous and c != blank:
            out.append(int(c))
        previous = c
    return out


def ctc_greedy_decode(output: torch.Tensor, blank: int = -1, lengths: torch.Tensor | None = None) -> list[list[int]]:
    """Best-path decoding: the most probable class at every step, collapsed (Graves et al., 2006).

    Args:
        output: ``(N, T, C)`` scores (logits or log-probabilities: only their argmax counts).
        blank: the blank's index (negative: from the end).
        lengths: ``(N,)`` valid steps per example (default: all ``T``).

    Returns:
        One labelling (a list of class indices) per example.
    """
    blank = resolve_blank(blank, output.shape[-1])
    best = output.argmax(-1).cpu()
    steps = [output.shape[1]] * len(best) if lengths is None else lengths.tolist()
    return [collapse(row[:t].tolist(), blank) for row, t in zip(best, steps)]


def _logaddexp(*values: float) -> float:
    top = max(values)
    if top == -math.inf:
        return -math.inf
    return top + math.log(sum(math.exp(v - top) for v in values))


def ctc_beam_search(
    output: torch.Tensor,
    beam_width: int = 8,
    blank: int = -1,
    lengths: torch.Tensor | None = None,
    prune: float = 1e-4,
) -> list[list[int]]:
    """Prefix beam search (Graves et al., 2006, section 3.2; Hannun et al., 2014): keep the ``beam_width`` most
    probable *labellings* (prefixes), each with the summed probability of its alignments ending in a blank and in a
    label, so that alignments that collapse to the same prefix are merged rather than competing.

    With ``beam_width`` at least the number of distinct prefixes the search is exact: it returns
    ``argmax_l p(l | x)``, which best-path decoding only approximates. At width 1 it keeps one prefix per step, the
    most probable extension of the last one; this agrees with best-path decoding when each step's best class is
    clear, but not always (it may keep a prefix whose alignments together outweigh the single best path).

    Args:
        output: ``(N, T, C)`` logits or log-probabilities (a log-softmax is applied).
        beam_width: prefixes kept per step.
        blank: the blank's index (negative: from the end).
        lengths: ``(N,)`` valid steps per example (default: all ``T``).
        prune: classes whose probability at a step is below this are not tried there (0: try all).

    Returns:
        One labelling per example.
    """
    if beam_width < 1:
        raise ValueError(f"ctc_beam_search: beam_width must be >= 1, got {beam_width}")
    blank = resolve_blank(blank, output.shape[-1])
    log_probs = F.log_softmax(output.detach().double(), dim=-1).cpu()
    steps = [output.shape[1]] * len(log_probs) if lengths is None else lengths.tolist()
    threshold = math.log(prune) if prune > 0 else -math.inf
    return [_beam_one(lp[:t], beam_width, blank, threshold) for lp, t in zip(log_probs, steps)]


def _beam_one(log_probs: torch.Tensor, width: int, blank: int, threshold: float) -> list[int]:
    """Prefix beam search over one example's ``(T, C)`` log-probabilities."""
    neg = -math.inf
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, neg)}  # prefix -> (log p_blank, log p_label)
    for row in log_probs.tolist():
        candidates = [c for c, p in enumerate(row) if p >= threshold] or [max(range(len(row)), key=row.__getitem__)]
        grown: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [neg, neg])
        for prefix, (p_b, p_nb) in beams.items():
            last = prefix[-1] if prefix else None
            for c in candidates:
                p = row[c]
                if c == blank:  # the prefix stays, now ending in a blank
                    entry = grown[prefix]
                    entry[0] = _logaddexp(entry[0], p_b + p, p_nb + p)
                    continue
                extended = grown[prefix + (c,)]
                if c == last:  # a repeat extends only from a blank; otherwise it merges into the same label
                    extended[1] = _logaddexp(extended[1], p_b + p)
                    same = grown[prefix]
                    same[1] = _logaddexp(same[1], p_nb + p)
                else:
                    extended[1] = _logaddexp(extended[1], p_b + p, p_nb + p)
        ranked = sorted(grown.items(), key=lambda kv: _logaddexp(*kv[1]), reverse=True)[:width]
        beams = {prefix: (pb, pnb) for prefix, (pb, pnb) in ranked}
    best = max(beams.items(), key=lambda kv: _logaddexp(*kv[1]))[0]
    return list(best)
