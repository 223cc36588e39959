"""Input corruptions for denoising autoencoders (Vincent, Larochelle, Bengio & Manzagol, 2008; Vincent et al.,
2010, section 4.2).

    masking          a fraction ``level`` of each example's inputs, chosen at random, forced to 0
    salt_and_pepper  a fraction ``level`` of each example's inputs, chosen at random, set to its minimum or
                     maximum (0 or 1) by a fair coin flip
    gaussian         x + e,  e ~ N(0, level^2 I)

As in the papers, the masked and salted inputs are a fixed number ``round(level * d)`` per example (not a
Bernoulli draw per input), so the corrupted fraction is exactly the level asked for, up to rounding.
"""

from __future__ import annotations

import torch

__all__ = ["CORRUPTIONS", "corrupt", "masking_noise", "salt_and_pepper_noise", "gaussian_noise", "choose_inputs"]

CORRUPTIONS = ("masking", "salt_and_pepper", "gaussian")


def choose_inputs(
    shape: torch.Size | tuple[int, int],
    fraction: float,
    *,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """A boolean mask ``(N, d)`` with exactly ``round(fraction * d)`` entries set in each row, uniformly at
    random (the ``k`` largest of ``d`` uniform draws)."""
    n, d = shape
    k = round(fraction * d)
    mask = torch.zeros(n, d, dtype=torch.bool, device=device)
    if k == 0:
        return mask
    scores = torch.rand(n, d, device=device, generator=generator)
    return mask.scatter_(1, scores.topk(k, dim=1).indices, True)


def masking_noise(x: torch.Tensor, level: float, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """``x`` with ``round(level * d)`` inputs of each example set to 0. Shape: ``(N, d) -> (N, d)``."""
    return x.masked_fill(choose_inputs(x.shape, level, device=x.device, generator=generator), 0.0)


def salt_and_pepper_noise(
    x: torch.Tensor, level: float, *, low: float = 0.0, high: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``x`` with ``round(level * d)`` inputs of each example set to ``low`` or ``high`` with probability 1/2
    each. Shape: ``(N, d) -> (N, d)``."""
    chosen = choose_inputs(x.shape, level, device=x.device, generator=generator)
    coin = torch.rand(x.shape, device=x.device, generator=generator) < 0.5
    salt = torch.where(
        coin,
        torch.as_tensor(high, dtype=x.dtype, device=x.device),
        torch.as_tensor(low, dtype=x.dtype, device=x.device),
    )
    return torch.where(chosen, salt, x)


def gaussian_noise(x: torch.Tensor, level: float, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """``x + e`` with ``e ~ N(0, level^2)`` independently per input. Shape unchanged."""
    return x + level * torch.randn(x.shape, dtype=x.dtype, device=x.device, generator=generator)


def corrupt(x: torch.Tensor, kind: str, level: float, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Apply the corruption ``kind`` (``masking``, ``salt_and_pepper`` or ``gaussian``) at ``level``.

    Args:
        x: ``(N, d)`` inputs.
        kind: the corruption.
        level: the fraction of inputs destroyed (masking, salt-and-pepper; in [0, 1]) or the noise's standard
            deviation (gaussian; >= 0).
        generator: the random stream (``None``: torch's global generator).
    """
    if kind not in CORRUPTIONS:
        raise ValueError(f"`kind` must be one of {', '.join(map(repr, CORRUPTIONS))}, got {kind!r}")
    if kind == "gaussian":
        if not level >= 0:
            raise ValueError(f"`level` (the noise's standard deviation) must be >= 0, got {level!r}")
        return gaussian_noise(x, level, generator=generator)
    if not 0 <= level <= 1:
        raise ValueError(f"`level` (the fraction of inputs corrupted) must be in [0, 1], got {level!r}")
    if kind == "masking":
        return masking_noise(x, level, generator=generator)
    return salt_and_pepper_noise(x, level, generator=generator)
