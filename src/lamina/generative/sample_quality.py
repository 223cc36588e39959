"""Scores for a generative model's samples, computed in the features of a classifier: the Fréchet distance between
Gaussians fitted to the features of real and generated examples (Dowson & Landau, 1982; the FID of Heusel et al.,
2017, uses Inception-v3's pool features, which these functions do not assume), and how evenly a classifier spreads
the samples over the classes (a missing mode shows as an empty class).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

__all__ = ["ClassBalance", "GaussianStatistics", "class_balance", "frechet_distance", "gaussian_statistics"]


class GaussianStatistics(NamedTuple):
    """The mean ``(d,)`` and covariance ``(d, d)`` (float64) of ``n`` feature vectors."""

    mean: torch.Tensor
    covariance: torch.Tensor
    n: int


def gaussian_statistics(features: torch.Tensor) -> GaussianStatistics:
    """The mean and the unbiased covariance (divisor ``n - 1``) of features ``(n, d)``, in float64."""
    if features.dim() != 2 or len(features) < 2:
        raise ValueError(f"`features` must have shape (n >= 2, d), got {tuple(features.shape)}")
    x = features.detach().to(torch.float64).cpu()
    mean = x.mean(0)
    centred = x - mean
    return GaussianStatistics(mean, centred.T @ centred / (len(x) - 1), len(x))


def _sqrt_psd(matrix: torch.Tensor) -> torch.Tensor:
    """The symmetric square root of a positive semi-definite matrix (eigenvalues clipped at 0)."""
    values, vectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


def frechet_distance(a: GaussianStatistics, b: GaussianStatistics) -> float:
    """``||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a^{1/2} S_b S_a^{1/2})^{1/2})``: the squared 2-Wasserstein (Fréchet)
    distance between ``N(mu_a, S_a)`` and ``N(mu_b, S_b)`` (Dowson & Landau, 1982).

    ``tr((S_a S_b)^{1/2})`` is computed as ``tr((S_a^{1/2} S_b S_a^{1/2})^{1/2})``, the square root of a symmetric
    positive semi-definite matrix (two symmetric eigendecompositions in float64), which stays real where the
    non-symmetric ``sqrtm(S_a S_b)`` of the FID reference code can return small imaginary parts. Cost ``O(d^3)``.
    """
    if a.mean.shape != b.mean.shape:
        raise ValueError(f"the statistics' dimensions differ: {tuple(a.mean.shape)} and {tuple(b.mean.shape)}")
    root_a = _sqrt_psd(a.covariance)
    cross = _sqrt_psd(root_a @ b.covariance @ root_a)
    diff = a.mean - b.mean
    value = diff @ diff + torch.trace(a.covariance) + torch.trace(b.covariance) - 2 * torch.trace(cross)
    return float(value.clamp(min=0))


class ClassBalance(NamedTuple):
    """How evenly predicted labels cover ``k`` classes.

    Attributes:
        counts: examples per class, ``(k,)``.
        chi_square: Pearson's statistic against the uniform distribution, ``sum (n_c - n/k)^2 / (n/k)`` (``k - 1``
            degrees of freedom: about ``k - 1`` for a uniform sample).
        max_min_ratio: the largest count over the smallest (``inf`` when a class is empty).
        entropy_ratio: the counts' entropy over ``log k`` (1: uniform).
    """

    counts: list[int]
    chi_square: float
    max_min_ratio: float
    entropy_ratio: float


def class_balance(labels: torch.Tensor, num_classes: int) -> ClassBalance:
    """Count ``labels`` (integer classes ``0..num_classes-1``) and measure how far the counts are from uniform."""
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be at least 2, got {num_classes!r}")
    counts = torch.bincount(labels.detach().cpu().long().reshape(-1), minlength=num_classes).to(torch.float64)
    if len(counts) > num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}), got the label {len(counts) - 1}")
    n = float(counts.sum())
    if n == 0:
        raise ValueError("`labels` is empty")
    expected = n / num_classes
    chi_square = float(((counts - expected) ** 2 / expected).sum())
    low = float(counts.min())
    ratio = float(counts.max()) / low if low > 0 else float("inf")
    p = counts / n
    entropy = float(-(p[p > 0] * p[p > 0].log()).sum())
    return ClassBalance([int(c) for c in counts], chi_square, ratio, entropy / float(torch.tensor(num_classes).log()))
