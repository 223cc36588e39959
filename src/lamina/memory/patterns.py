"""Patterns for associative memories: checked and brought to bipolar form, and corrupted copies to probe with.

A Hopfield network works on bipolar states ``s in {-1, +1}^N``; binary patterns ``x in {0, 1}^N`` are converted by
``s = 2x - 1``. Every array a user hands a memory goes through :func:`as_bipolar`, so a pattern of the wrong length
or with a value that is neither bipolar nor binary is refused with the row that holds it.
"""

from __future__ import annotations

from typing import Any

import torch

from lamina.errors import LaminaError, ShapeError

__all__ = ["PatternError", "as_bipolar", "as_real_patterns", "flip_bits"]


class PatternError(LaminaError, ValueError):
    """Patterns a memory cannot take (values that are not bipolar or binary, too many patterns); the message
    names the row."""


def _rows(patterns: Any, n: int, what: str) -> torch.Tensor:
    """``patterns`` as a 2-D tensor of ``n`` columns; a ragged list or a wrong length names the first bad row."""
    if isinstance(patterns, (list, tuple)) and patterns and all(hasattr(r, "__len__") for r in patterns):
        for i, row in enumerate(patterns):
            if len(row) != n:
                raise ShapeError(f"{what} row {i} has {len(row)} values, expected {n} (one per unit)")
    try:
        x = torch.as_tensor(patterns)
    except (TypeError, ValueError, RuntimeError) as err:
        raise PatternError(f"{what} must be an array of numbers, got {type(patterns).__name__}: {err}") from None
    if x.dim() == 1:
        x = x.unsqueeze(0)
    if x.dim() != 2:
        raise ShapeError(f"{what} must be one pattern (n,) or a batch (m, n) with n = {n}, got shape {tuple(x.shape)}")
    if x.shape[1] != n:
        raise ShapeError(f"{what} have {x.shape[1]} values per row, expected {n} (one per unit)")
    if x.is_complex():
        raise PatternError(f"{what} must be real numbers, got {x.dtype}")
    return x.to(torch.int8) if x.dtype == torch.bool else x


def as_bipolar(
    patterns: Any,
    n: int,
    *,
    what: str = "patterns",
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Check ``patterns`` and return them bipolar: ``s = x`` for ``x in {-1, 1}``, ``s = 2x - 1`` for ``x in {0, 1}``.

    The alphabet is decided for the whole array: any ``-1`` makes it bipolar (a ``0`` is then an error), otherwise
    ``{0, 1}`` is binary. Booleans count as binary.

    Args:
        patterns: one pattern ``(n,)`` or a batch ``(m, n)``: a tensor, an array or a list of rows.
        n: the number of units (the required row length).
        what: the name used in messages ("patterns", "probes").
        dtype, device: of the returned tensor.

    Returns:
        A ``(m, n)`` tensor of ``-1.0`` and ``+1.0``.

    Raises:
        ShapeError: a row of the wrong length.
        PatternError: a value that is neither bipolar nor binary; the message names the row and the value.
    """
    x = _rows(patterns, n, what)
    if x.dtype.is_floating_point and not torch.isfinite(x).all():
        row = int((~torch.isfinite(x)).any(dim=1).nonzero()[0])
        raise PatternError(
            f"{what} row {row} holds a value that is not finite; expected bipolar (-1, +1) or binary (0, 1) values"
        )
    bipolar = bool((x == -1).any())
    allowed = (x == -1) | (x == 1) if bipolar else (x == 0) | (x == 1)
    if not bool(allowed.all()):
        row = int((~allowed).any(dim=1).nonzero()[0])
        value = x[row][~allowed[row]][0].item()
        if bipolar and value == 0:
            expected = "bipolar values -1 and +1 (other rows hold -1), or binary values 0 and 1 in every row"
        else:
            expected = "bipolar (-1, +1) or binary (0, 1) values"
        raise PatternError(f"{what} row {row} holds {value!r}; expected {expected}")
    x = x.to(device=device, dtype=dtype)
    return x if bipolar else 2 * x - 1


def as_real_patterns(
    patterns: Any,
    n: int,
    *,
    what: str = "patterns",
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Check real-valued ``patterns`` (for the continuous memory): ``(m, n)``, finite; a bad row is named."""
    x = _rows(patterns, n, what).to(device=device, dtype=dtype)
    bad = ~torch.isfinite(x)
    if bool(bad.any()):
        raise PatternError(f"{what} row {int(bad.any(dim=1).nonzero()[0])} holds a value that is not finite")
    return x


def flip_bits(patterns: torch.Tensor, fraction: float, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Copies of bipolar ``patterns`` with exactly ``round(fraction * n)`` bits of each row flipped, chosen
    uniformly without replacement, independently per row.

    Args:
        patterns: ``(..., n)`` bipolar.
        fraction: in ``[0, 1]``.
        generator: source of randomness (``None``: torch's default).

    Returns:
        A tensor like ``patterns``.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"`fraction` must be in [0, 1], got {fraction!r}")
    n = patterns.shape[-1]
    flips = round(fraction * n)
    where = generator.device if generator is not None else patterns.device
    keys = torch.rand(patterns.shape, generator=generator, device=where).to(patterns.device)
    # the `flips` smallest of n uniform keys pick a uniform subset of that size
    chosen = keys.argsort(dim=-1)[..., :flips]
    sign = torch.ones_like(patterns).scatter_(-1, chosen, -1.0)
    return patterns * sign
