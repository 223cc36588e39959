"""Decoding the outputs of a CTC model (Graves, Fernández, Gomez & Schmidhuber, 2006): best-path (greedy) decoding
and prefix beam search. A path of ``T`` classes collapses to a labelling by merging repeats, then dropping blanks.

Outputs are batch first, ``(N, T, C)`` scores; the blank is a class index, negative counting from the end (``-1``:
the last class, lamina's default). The ``ctc`` loss (:mod:`lamina.losses.ctc`) trains such outputs; the transcription
metrics (:mod:`lamina.metrics.transcription`) decode them on the device.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import torch
from torch.nn import functional as F

from lamina.errors import ShapeError

__all__ = ["collapse", "ctc_beam_search", "ctc_greedy_decode", "resolve_blank"]


def resolve_blank(blank: int, classes: int) -> int:
    """The blank's class index: ``blank`` itself, or counted from the end when negative (``-1``: the last)."""
    index = blank + classes if blank < 0 else blank
    if not 0 <= index < classes:
        raise ShapeError(f"ctc: blank = {blank} is not a class of an output with {classes} classes")
    return index


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
