"""Learning rules of the Hopfield memory: Hebbian outer products, the pseudo-inverse (projection) rule grown one
pattern at a time by Greville's recursion, and desaturation of the synaptic matrix.

Patterns are the rows of ``X`` (``M x N``, bipolar). The rules:

- Hebbian (Hopfield, 1982): ``W = (1/N) X^T X = (1/N) sum_mu xi^mu xi^mu^T`` with ``w_ii = 0``. Stores about
  ``0.138 N`` random patterns (Amit, Gutfreund and Sompolinsky, 1985).
- Pseudo-inverse, or projection (Personnaz, Guyon and Dreyfus, 1985): ``W = X^+ X``, the orthogonal projection
  onto the span of the patterns, so ``W xi^mu = xi^mu`` and every stored pattern is a fixed point, up to ``M = N``
  linearly independent ones. Its diagonal ``w_ii ~ M/N`` grows with the load and freezes every state near the
  limit ("saturation"); the basins of attraction vanish.
- Desaturation (Gorodnichy, 1995; Gorodnichy and Reznik, 1997): scale the diagonal, ``w_ii <- k w_ii`` with
  ``0 < k < 1``. Stored patterns stay fixed points (``h_i = xi_i (1 - (1 - k) w_ii)`` keeps its sign) while the
  basins reopen; with ``k ~ 0.1-0.2`` patterns are retrieved from noisy probes up to ``M ~ 0.7 N``.

All functions take batches of independent memories, ``(..., N, N)`` with patterns ``(..., N)``.

References:
    J. J. Hopfield, "Neural networks and physical systems with emergent collective computational abilities", 1982.
    D. J. Amit, H. Gutfreund, H. Sompolinsky, "Storing infinite numbers of patterns in a spin-glass model of neural
    networks", 1985.
    L. Personnaz, I. Guyon, G. Dreyfus, "Information storage and retrieval in spin-glass like neural networks", 1985.
    T. N. E. Greville, "Some applications of the pseudoinverse of a matrix", 1960.
    D. O. Gorodnichy, A. M. Reznik, "Increasing attraction of pseudo-inverse autoassociative networks", 1997.
"""

from __future__ import annotations

import torch

__all__ = ["hebbian_weights", "projection_update", "projection_weights", "greville_append", "desaturate"]


def hebbian_weights(patterns: torch.Tensor, *, zero_diagonal: bool = True) -> torch.Tensor:
    """``W = (1/N) sum_mu xi^mu xi^mu^T``, with ``w_ii = 0`` unless ``zero_diagonal=False`` (then ``w_ii = M/N``).

    Args:
        patterns: ``(..., M, N)`` bipolar rows.
        zero_diagonal: Hopfield's ``w_ii = 0``.

    Returns:
        ``(..., N, N)`` symmetric weights.
    """
    n = patterns.shape[-1]
    weights = patterns.transpose(-1, -2) @ patterns / n  # (..., N, N)
    if zero_diagonal:
        weights.diagonal(dim1=-2, dim2=-1).zero_()
    return weights


def _default_rtol(x: torch.Tensor) -> float:
    # a residual below N * eps of the pattern's norm is rounding noise: the pattern lies in the span already
    return x.shape[-1] * torch.finfo(x.dtype).eps


def projection_update(
    projection: torch.Tensor, patterns: torch.Tensor, *, rtol: float | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Add patterns to the projection ``C = X^+ X``: Greville's recursion for ``X^+ X``, a block at a time.

    For one pattern ``x``: ``c = (I - C) x``; if ``c != 0``, ``C' = C + c c^T / (c^T c)``, else ``C' = C`` (``x``
    lies in the span already). This is ``X'^+ X'`` for ``X'`` = ``X`` with the row ``x`` appended, found without
    inverting anything, ``O(N^2)`` per pattern. A block of ``b`` patterns adds the projection onto the span of its
    residuals ``R = X_b (I - C)``: ``C' = C + V^T V`` with ``V`` the right singular vectors of ``R`` whose singular
    values exceed the tolerance (so dependent patterns add nothing). The residuals are orthogonalised twice
    (classical Gram-Schmidt run twice is as accurate as the modified one, Giraud et al. 2005), so float32 keeps ``C``
    a projection up to ``M = N``.

    Args:
        projection: ``(..., N, N)`` the current projection (zeros for an empty memory).
        patterns: ``(..., N)`` one pattern per memory, or ``(..., b, N)`` a block.
        rtol: a residual counts as zero when its singular value is at most ``rtol`` times the largest pattern norm
            (default ``N * eps``).

    Returns:
        ``(C', added)``: the new projection and, per memory, by how much its rank grew.
    """
    block = patterns if patterns.dim() == projection.dim() else patterns.unsqueeze(-2)  # (..., b, N)
    rtol = _default_rtol(block) if rtol is None else rtol
    residual = block - block @ projection  # C is symmetric: (C x)^T = x^T C
    residual = residual - residual @ projection  # second pass: removes what rounding left in the span
    _, singular, basis = torch.linalg.svd(residual, full_matrices=False)  # basis: (..., b, N) orthonormal rows
    scale = torch.linalg.vector_norm(block, dim=-1).amax(dim=-1, keepdim=True)
    keep = singular > rtol * scale  # (..., b)
    basis = basis * keep.unsqueeze(-1).to(basis.dtype)
    return projection + basis.transpose(-1, -2) @ basis, keep.sum(dim=-1)


def projection_weights(patterns: torch.Tensor, *, block: int = 64, rtol: float | None = None) -> torch.Tensor:
    """``W = X^+ X`` built by :func:`projection_update` from ``patterns`` ``(..., M, N)``, ``block`` rows at a time."""
    n = patterns.shape[-1]
    projection = patterns.new_zeros((*patterns.shape[:-2], n, n))
    for start in range(0, patterns.shape[-2], block):
        projection, _ = projection_update(projection, patterns[..., start : start + block, :], rtol=rtol)
    return projection


def greville_append(
    pinv: torch.Tensor, matrix: torch.Tensor, row: torch.Tensor, *, rtol: float | None = None
) -> torch.Tensor:
    """The pseudo-inverse of ``matrix`` with ``row`` appended, from the pseudo-inverse of ``matrix`` (Greville, 1960).

    With ``A`` (``m x N``), ``A^+`` (``N x m``) and a new row ``a``: ``d = (A^+)^T a``, ``c = a - A^T d``;
    ``b = c / (c^T c)`` if ``c != 0``, else ``b = A^+ d / (1 + d^T d)``; then ``[A; a^T]^+ = [A^+ - b d^T, b]``.
    Costs ``O(N m)``, against ``O(N m^2)`` for computing the pseudo-inverse afresh.

    Args:
        pinv: ``(N, m)`` pseudo-inverse of ``matrix`` (``(N, 0)`` for an empty one).
        matrix: ``(m, N)``.
        row: ``(N,)``.
        rtol: ``c`` counts as zero when ``|c| <= rtol |a|`` (default ``N * eps``).

    Returns:
        ``(N, m + 1)`` the pseudo-inverse of ``[matrix; row]``.
    """
    rtol = _default_rtol(row) if rtol is None else rtol
    d = pinv.transpose(0, 1) @ row  # (m,)
    c = row - matrix.transpose(0, 1) @ d  # (N,)
    if torch.linalg.vector_norm(c) > rtol * torch.linalg.vector_norm(row):
        b = c / (c @ c)
    else:
        b = pinv @ d / (1 + d @ d)
    return torch.cat([pinv - torch.outer(b, d), b.unsqueeze(1)], dim=1)


def desaturate(weights: torch.Tensor, k: float) -> torch.Tensor:
    """A copy of ``weights`` ``(..., N, N)`` with the diagonal scaled: ``w_ii <- k w_ii`` (``k = 0`` zeroes it)."""
    out = weights.clone()
    out.diagonal(dim1=-2, dim2=-1).mul_(k)
    return out
