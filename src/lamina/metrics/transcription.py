"""Transcription errors of a CTC model, from its best-path (greedy) decoding, computed on the training device:

- ``ctc_sequence_error``: the fraction of examples whose decoded labelling differs from the target;
- ``ctc_character_error``: the label error rate (Graves et al., 2006): the edit distance between the decoded and
  the target labellings, summed over the examples, divided by the targets' summed length.

Both take the model's ``(N, T, C)`` scores and ``(N, S)`` targets padded with ``-1``, as the ``ctc`` loss does.
"""

from __future__ import annotations

import torch

from lamina.config.component import spec_base, validated
from lamina.metrics.ctc_decoding import resolve_blank
from lamina.metrics.standard import Metric, MetricSpec
from lamina.registry import register

__all__ = [
    "CTCCharacterError",
    "CTCCharacterErrorSpec",
    "CTCSequenceError",
    "CTCSequenceErrorSpec",
    "edit_distance",
    "greedy_labels",
]


def greedy_labels(output: torch.Tensor, blank: int = -1) -> tuple[torch.Tensor, torch.Tensor]:
    """Best-path decodings of a batch as a padded tensor, without leaving the device.

    Args:
        output: ``(N, T, C)`` scores.
        blank: the blank's index (negative: from the end).

    Returns:
        ``(labels, lengths)``: ``(N, T)`` int64 decoded labels padded with ``-1``, and ``(N,)`` their lengths.
    """
    blank = resolve_blank(blank, output.shape[-1])
    best = output.argmax(-1)  # (N, T)
    previous = torch.cat([torch.full_like(best[:, :1], -1), best[:, :-1]], dim=1)
    keep = (best != blank) & (best != previous)  # collapse repeats, drop blanks
    position = keep.long().cumsum(1) - 1  # where each kept label lands
    labels = torch.full_like(best, -1)
    slot = torch.where(keep, position, torch.full_like(position, best.shape[1] - 1))
    labels.scatter_(1, slot, torch.where(keep, best, torch.full_like(best, -1)))
    lengths = keep.sum(1)
    # the dummy slot (T - 1) may hold a -1 written after a real label there; a full-length decoding rewrites it
    full = lengths == best.shape[1]
    if bool(full.any()):
        labels[full] = best[full]
    return labels, lengths


def edit_distance(
    hypothesis: torch.Tensor, hyp_lengths: torch.Tensor, reference: torch.Tensor, ref_lengths: torch.Tensor
) -> torch.Tensor:
    """Levenshtein distances (insertions, deletions, substitutions, each cost 1) of a batch of padded sequences.

    One row of the dynamic programme per reference position, each computed for the whole batch and every hypothesis
    position at once: the insertion term ``D[i, j] = min_k (E[i, k] + j - k)`` is a running minimum (``cummin``).

    Shapes: ``hypothesis (N, H)``, ``reference (N, R)``, lengths ``(N,)``; returns ``(N,)`` int64.
    """
    n, width = hypothesis.shape
    device = hypothesis.device
    j = torch.arange(width + 1, device=device)
    row = j.expand(n, -1).clone()  # D[0, j] = j
    best = torch.where(ref_lengths == 0, row.gather(1, hyp_lengths[:, None])[:, 0], torch.zeros_like(ref_lengths))
    for i in range(1, reference.shape[1] + 1):
        cost = (hypothesis != reference[:, i - 1 : i]).long()  # (N, H): substitution cost at j = 1..H
        diagonal = row[:, :-1] + cost
        above = row + 1
        e = torch.cat([above[:, :1], torch.minimum(above[:, 1:], diagonal)], dim=1)  # without insertions
        row = (e - j).cummin(dim=1).values + j  # D[i, j] = min_k<=j (E[i, k] + j - k)
        done = ref_lengths == i
        best = torch.where(done, row.gather(1, hyp_lengths[:, None])[:, 0], best)
    return best


class CTCSequenceError(Metric):
    """The fraction of examples whose best-path decoding differs from the target labelling.

    Args:
        blank: the blank's class index (negative: from the end), as the ``ctc`` loss's.
    """

    name = "sequence_error"

    @validated
    def __init__(self, blank: int = -1) -> None:
        super().__init__()
        self.blank = blank

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """Add one batch: ``(N, T, C)`` scores and ``(N, S)`` targets padded with ``-1``."""
        labels, lengths = greedy_labels(output, self.blank)
        width = max(labels.shape[1], target.shape[1])
        hyp = torch.nn.functional.pad(labels, (0, width - labels.shape[1]), value=-1)
        ref = torch.nn.functional.pad(target.long(), (0, width - target.shape[1]), value=-1)
        self.total = self.total + (hyp != ref).any(dim=1).sum()
        self.count = self.count + target.shape[0]


class CTCCharacterError(Metric):
    """Label (character) error rate: summed edit distances over summed target lengths (Graves et al., 2006).

    Args:
        blank: the blank's class index (negative: from the end), as the ``ctc`` loss's.
    """

    name = "character_error"

    @validated
    def __init__(self, blank: int = -1) -> None:
        super().__init__()
        self.blank = blank

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """Add one batch: ``(N, T, C)`` scores and ``(N, S)`` targets padded with ``-1``."""
        labels, lengths = greedy_labels(output, self.blank)
        ref_lengths = (target >= 0).sum(1)
        self.total = self.total + edit_distance(labels, lengths, target.long(), ref_lengths).sum()
        self.count = self.count + ref_lengths.sum()


@register("metric", "ctc_sequence_error", aliases=("sequence_error",))
class CTCSequenceErrorSpec(spec_base(CTCSequenceError, MetricSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Fraction of examples whose best-path CTC decoding is not exactly the target (logged as
    ``sequence_error``). ``blank``: :class:`CTCSequenceError`'s."""

    def build(self) -> Metric:
        """A fresh :class:`CTCSequenceError`."""
        return CTCSequenceError(**self.options())


@register("metric", "ctc_character_error", aliases=("character_error", "label_error_rate"))
class CTCCharacterErrorSpec(spec_base(CTCCharacterError, MetricSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Label error rate of best-path CTC decoding: edit distance over target length (logged as
    ``character_error``). ``blank``: :class:`CTCCharacterError`'s."""

    def build(self) -> Metric:
        """A fresh :class:`CTCCharacterError`."""
        return CTCCharacterError(**self.options())
