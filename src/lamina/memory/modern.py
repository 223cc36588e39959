"""The modern (continuous) Hopfield network: softmax retrieval over stored patterns.

With stored patterns ``x_1 .. x_M`` (rows of ``X``, ``M x d``) and a state ``xi in R^d``, the energy

    ``E(xi) = -lse(beta, X xi) + 1/2 xi^T xi + beta^-1 log M + 1/2 max_i |x_i|^2``,
    ``lse(beta, z) = beta^-1 log sum_i exp(beta z_i)``,

is lowered by the update ``xi <- X^T softmax(beta X xi)`` (a concave-convex procedure: the energy never rises and the
iteration converges to a stationary point). Well separated patterns are retrieved in one update with an error
exponentially small in the separation, and exponentially many patterns (in ``d``) can be stored. The update is
transformer attention with the state as query and the patterns as keys and values (:mod:`lamina.memory.attention`).

References:
    H. Ramsauer et al., "Hopfield Networks is All You Need", 2020 (ICLR 2021).
    D. Krotov, J. J. Hopfield, "Dense associative memory for pattern recognition", 2016.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from lamina.memory.dynamics import RecallResult
from lamina.memory.patterns import as_real_patterns

__all__ = ["ModernHopfield", "softmax_update", "modern_energy"]


def softmax_update(states: torch.Tensor, memories: torch.Tensor, beta: float) -> torch.Tensor:
    """One retrieval step ``xi <- X^T softmax(beta X xi)`` for each state.

    Args:
        states: ``(B, d)``.
        memories: ``(M, d)`` stored patterns.
        beta: inverse temperature (larger: sharper retrieval, more metastable states vanish).

    Returns:
        ``(B, d)``.
    """
    return torch.softmax(beta * states @ memories.transpose(0, 1), dim=-1) @ memories


def modern_energy(states: torch.Tensor, memories: torch.Tensor, beta: float) -> torch.Tensor:
    """``E(xi) = -beta^-1 log sum_i exp(beta x_i^T xi) + 1/2 |xi|^2 + beta^-1 log M + 1/2 max_i |x_i|^2``: ``(B,)``."""
    m = memories.shape[0]
    lse = torch.logsumexp(beta * states @ memories.transpose(0, 1), dim=-1) / beta
    largest = memories.pow(2).sum(dim=-1).max()
    return -lse + 0.5 * states.pow(2).sum(dim=-1) + math.log(m) / beta + 0.5 * largest


class ModernHopfield:
    """A continuous Hopfield memory with softmax retrieval, behind the interface of :class:`Hopfield`.

    Args:
        n: the pattern dimension ``d``.
        beta: inverse temperature ``beta > 0``. Patterns ``x_i`` are retrieved in one update from probes within
            about half their separation ``Delta_i = min_j (x_i^T x_i - x_i^T x_j)`` when ``beta Delta_i`` is large
            (a few times ``log M``); for bipolar patterns of ``d`` units, ``beta = 1`` is already sharp.
        device, dtype: where the patterns live.

    Attributes:
        patterns: ``(M, n)`` the stored patterns (any real values; nothing is converted).

    Example::

        memory = ModernHopfield(64, beta=1.0).store(patterns)
        result = memory.recall(noisy)                 # result.states are continuous; np.sign them for bipolar

    References:
        H. Ramsauer et al., "Hopfield Networks is All You Need", 2020.
    """

    def __init__(
        self, n: int, *, beta: float = 1.0, device: torch.device | str | None = None, dtype: torch.dtype = torch.float32
    ) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"`n` must be a positive integer (the pattern dimension), got {n!r}")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not (0 < beta < math.inf):
            raise ValueError(f"`beta` must be a positive number (the inverse temperature), got {beta!r}")
        self.n, self.beta, self.dtype = n, float(beta), dtype
        self.patterns = torch.zeros(0, n, dtype=dtype, device=device)

    @property
    def device(self) -> torch.device:
        """The device the stored patterns live on."""
        return self.patterns.device

    def store(self, patterns: Any) -> ModernHopfield:
        """Add ``patterns`` (``(M, n)`` or ``(n,)``, real) to the memory; returns ``self``."""
        x = as_real_patterns(patterns, self.n, what="patterns", dtype=self.dtype, device=self.device)
        self.patterns = torch.cat([self.patterns, x])
        return self

    def _require_patterns(self) -> None:
        if self.patterns.shape[0] == 0:
            raise ValueError("the memory is empty: store patterns before recalling (memory.store(patterns))")

    def recall(self, probes: Any, *, max_steps: int = 10, tol: float = 1e-6) -> RecallResult:
        """Iterate the softmax update from each probe until it moves by at most ``tol`` (max-norm) or
        ``max_steps`` updates; deterministic, so there is no seed.

        Returns:
            :class:`~lamina.memory.RecallResult`: ``states`` ``(B, n)``, ``steps`` (updates made), ``converged``.
        """
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"`max_steps` must be a positive integer, got {max_steps!r}")
        self._require_patterns()
        state = as_real_patterns(probes, self.n, what="probes", dtype=self.dtype, device=self.device)
        steps = torch.zeros(state.shape[0], dtype=torch.long, device=self.device)
        converged = torch.zeros(state.shape[0], dtype=torch.bool, device=self.device)
        for _ in range(max_steps):
            new = softmax_update(state, self.patterns, self.beta)
            moved = (new - state).abs().amax(dim=-1)
            steps += (~converged).long()
            state = torch.where(converged.unsqueeze(-1), state, new)
            converged |= moved <= tol
            if bool(converged.all()):
                break
        return RecallResult(state, steps, converged)

    def energy(self, states: Any) -> torch.Tensor:
        """The energy of each state ``(B, n)``: ``(B,)``."""
        self._require_patterns()
        x = as_real_patterns(states, self.n, what="states", dtype=self.dtype, device=self.device)
        return modern_energy(x, self.patterns, self.beta)

    def is_stable(self, patterns: Any = None, *, tol: float = 1e-3) -> torch.Tensor:
        """Whether one update moves each pattern (default: the stored ones) by at most ``tol`` times its largest
        entry (max-norm): the pattern is (close to) a fixed point. ``(B,)`` booleans."""
        self._require_patterns()
        x = (
            self.patterns
            if patterns is None
            else as_real_patterns(patterns, self.n, dtype=self.dtype, device=self.device)
        )
        moved = (softmax_update(x, self.patterns, self.beta) - x).abs().amax(dim=-1)
        return moved <= tol * x.abs().amax(dim=-1).clamp_min(1.0)

    def __repr__(self) -> str:
        return f"ModernHopfield(n={self.n}, beta={self.beta:g}, patterns={self.patterns.shape[0]})"
