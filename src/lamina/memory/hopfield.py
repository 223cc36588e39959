"""The Hopfield associative memory: store bipolar patterns, recall them from corrupted probes."""

from __future__ import annotations

from typing import Any

import torch

from lamina.errors import did_you_mean
from lamina.memory.dynamics import RecallResult, async_recall, energy, is_fixed_point, sync_recall
from lamina.memory.learning import desaturate, projection_update
from lamina.memory.patterns import PatternError, as_bipolar

__all__ = ["Hopfield", "RULES", "MODES"]

RULES = ("hebbian", "pseudoinverse")
MODES = ("async", "sync")
_BLOCK = 64  # patterns per Greville block update: BLAS-3 speed, and the SVD of a (64, N) block is cheap


def _choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        listed = ", ".join(repr(o) for o in options)
        hint = did_you_mean(value, options) if isinstance(value, str) else ""
        raise ValueError(f"`{name}` must be one of {listed}, got {value!r};{hint}".rstrip(";"))
    return value


class Hopfield:
    """A Hopfield network of ``n`` bipolar units used as an associative (content-addressable) memory.

    ``store`` writes patterns into the synaptic matrix ``W``; ``recall`` runs the dynamics ``s_i <- sgn(sum_j w_ij
    s_j)`` from each probe to a fixed point, which for a probe near a stored pattern is that pattern while the memory
    is below capacity. The rules (see :mod:`lamina.memory.learning`):

    - ``"hebbian"``: ``W = (1/N) sum_mu xi^mu xi^mu^T``, ``w_ii = 0``; capacity ``M ~ 0.138 N``.
    - ``"pseudoinverse"``: ``W = X^+ X``, the projection onto the stored patterns, grown one pattern at a time by
      Greville's recursion (``O(N^2)`` per pattern, no re-inversion); every set of ``M <= N`` linearly independent
      patterns is stored exactly as fixed points. With ``desaturation=k`` (``0 < k < 1``, about 0.1-0.2) the
      diagonal is scaled by ``k`` and noisy probes are retrieved up to ``M ~ 0.7 N``.

    Args:
        n: number of units ``N``.
        rule: ``"hebbian"`` or ``"pseudoinverse"``.
        desaturation: ``k`` in ``(0, 1]``: the diagonal ``w_ii`` becomes ``k`` times the rule's own (``M/N`` for
            Hebbian, ``(X^+ X)_ii`` for pseudo-inverse). ``None``: Hopfield's ``w_ii = 0`` for Hebbian, the full
            projection (``k = 1``) for pseudo-inverse.
        device, dtype: where the weights live (float32 is enough for ``N`` in the thousands: the projection is
            re-orthogonalised at each update).

    Attributes:
        weights: ``(N, N)`` the synaptic matrix, desaturation applied.
        patterns: ``(M, N)`` the stored patterns, bipolar.
        rank: the dimension of their span (pseudo-inverse rule; a dependent pattern adds nothing to ``W``).

    Example::

        memory = Hopfield(100, rule="pseudoinverse", desaturation=0.15)
        memory.store(patterns)                      # (M, 100) of +-1 or of 0/1
        result = memory.recall(noisy, seed=0)       # async; result.states, result.steps, result.converged

    References:
        J. J. Hopfield, "Neural networks and physical systems with emergent collective computational abilities", 1982.
        L. Personnaz, I. Guyon, G. Dreyfus, "Collective computational properties of neural networks: new learning
        mechanisms", 1986.
        D. O. Gorodnichy, A. M. Reznik, "Increasing attraction of pseudo-inverse autoassociative networks", 1997.
    """

    def __init__(
        self,
        n: int,
        rule: str = "hebbian",
        *,
        desaturation: float | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"`n` must be a positive integer (the number of units), got {n!r}")
        self.rule = _choice("rule", rule, RULES)
        if desaturation is not None and (
            isinstance(desaturation, bool)
            or not isinstance(desaturation, (int, float))
            or not 0.0 < desaturation <= 1.0
        ):
            raise ValueError(
                f"`desaturation` must be a number k in (0, 1] (the factor on the diagonal), got {desaturation!r}"
            )
        if not dtype.is_floating_point:
            raise ValueError(f"`dtype` must be a floating-point type, got {dtype}")
        self.n = n
        self.desaturation = None if desaturation is None else float(desaturation)
        self.dtype = dtype
        self.clear(device=device)

    @property
    def device(self) -> torch.device:
        """The device the weights and patterns live on."""
        return self._raw.device

    def clear(self, *, device: torch.device | str | None = None) -> Hopfield:
        """Forget every pattern (optionally moving the memory to ``device``)."""
        device = self._raw.device if device is None and hasattr(self, "_raw") else device
        # the rule's own matrix before the diagonal is touched: (1/N) X^T X, or the projection X^+ X
        self._raw = torch.zeros(self.n, self.n, dtype=self.dtype, device=device)
        self.patterns = torch.zeros(0, self.n, dtype=self.dtype, device=device)
        self.rank = 0
        self._weights: torch.Tensor | None = None
        return self

    @property
    def diagonal_factor(self) -> float:
        """The factor on the rule's own diagonal: ``k``, or the default (0 for Hebbian, 1 for pseudo-inverse)."""
        if self.desaturation is not None:
            return self.desaturation
        return 0.0 if self.rule == "hebbian" else 1.0

    @property
    def weights(self) -> torch.Tensor:
        """``(N, N)`` the synaptic matrix with the diagonal scaled by :attr:`diagonal_factor` (computed once per
        change of the memory, then cached)."""
        if self._weights is None:
            self._weights = desaturate(self._raw, self.diagonal_factor)
        return self._weights

    @property
    def load(self) -> float:
        """``M / N``: the stored patterns per unit."""
        return self.patterns.shape[0] / self.n

    def store(self, patterns: Any) -> Hopfield:
        """Add ``patterns`` (``(M, n)`` or one ``(n,)``, bipolar or ``{0, 1}``) to the memory; returns ``self``.

        Patterns add up: storing ``A`` then ``B`` gives the weights of storing ``[A; B]`` at once. The
        pseudo-inverse rule takes at most ``n`` patterns in all.

        Raises:
            ShapeError: a row of the wrong length.
            PatternError: a value neither bipolar nor binary (the row is named), or more than ``n`` patterns for the
                pseudo-inverse rule.
        """
        x = as_bipolar(patterns, self.n, what="patterns", dtype=self.dtype, device=self.device)
        stored = self.patterns.shape[0]
        if self.rule == "pseudoinverse" and stored + x.shape[0] > self.n:
            raise PatternError(
                f"the pseudo-inverse rule stores at most n = {self.n} patterns (one per unit): {stored} stored, "
                f"{x.shape[0]} more given; use a larger network or the Hebbian rule"
            )
        if self.rule == "hebbian":
            self._raw += x.transpose(0, 1) @ x / self.n
        else:
            for start in range(0, x.shape[0], _BLOCK):
                self._raw, added = projection_update(self._raw, x[start : start + _BLOCK])
                self.rank += int(added)
        self.patterns = torch.cat([self.patterns, x])
        self._weights = None
        return self

    def recall(
        self,
        probes: Any,
        *,
        mode: str = "async",
        max_steps: int = 100,
        seed: int | None = None,
        generator: torch.Generator | None = None,
    ) -> RecallResult:
        """Run the dynamics from each probe.

        Args:
            probes: ``(B, n)`` or one ``(n,)``, bipolar or ``{0, 1}``.
            mode: ``"async"`` (one unit at a time, random order; energy never rises, always ends in a fixed point)
                or ``"sync"`` (all units at once; may end in a two-cycle).
            max_steps: the most sweeps (async) or steps (sync).
            seed: seeds the asynchronous update order (or pass ``generator``).

        Returns:
            :class:`RecallResult`: ``states`` ``(B, n)`` bipolar, ``steps`` ``(B,)``, ``converged`` ``(B,)``.
        """
        _choice("mode", mode, MODES)
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"`max_steps` must be a positive integer, got {max_steps!r}")
        if seed is not None and generator is not None:
            raise ValueError("give `seed` or `generator`, not both")
        x = as_bipolar(probes, self.n, what="probes", dtype=self.dtype, device=self.device)
        if mode == "sync":
            return sync_recall(self.weights, x, max_steps=max_steps)
        if seed is not None:
            generator = torch.Generator(device=self.device).manual_seed(seed)
        return async_recall(self.weights, x, max_steps=max_steps, generator=generator)

    def energy(self, states: Any) -> torch.Tensor:
        """``E(s) = -1/2 s^T W s`` for each state ``(B, n)`` (bipolar or ``{0, 1}``): ``(B,)``."""
        return energy(self.weights, as_bipolar(states, self.n, what="states", dtype=self.dtype, device=self.device))

    def is_stable(self, patterns: Any = None) -> torch.Tensor:
        """Whether each pattern (default: the stored ones) is a fixed point of the dynamics: ``(B,)`` booleans."""
        x = self.patterns if patterns is None else as_bipolar(patterns, self.n, dtype=self.dtype, device=self.device)
        return is_fixed_point(self.weights, x)

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> Hopfield:
        """Move the memory (weights and patterns) to ``device`` and/or ``dtype``; returns ``self``."""
        self.dtype = dtype or self.dtype
        self._raw = self._raw.to(device=device, dtype=self.dtype)
        self.patterns = self.patterns.to(device=device, dtype=self.dtype)
        self._weights = None
        return self

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild the memory (tensors and plain values; ``torch.save``-able)."""
        return {
            "n": self.n,
            "rule": self.rule,
            "desaturation": self.desaturation,
            "raw": self._raw,
            "patterns": self.patterns,
            "rank": self.rank,
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any], *, device: torch.device | str | None = None) -> Hopfield:
        """The memory :meth:`state_dict` described."""
        missing = sorted({"n", "rule", "desaturation", "raw", "patterns", "rank"} - set(state))
        if missing:
            raise ValueError(f"a Hopfield state needs the keys {', '.join(missing)}; got {', '.join(sorted(state))}")
        n = state["n"]
        if tuple(state["raw"].shape) != (n, n) or state["patterns"].dim() != 2 or state["patterns"].shape[1] != n:
            raise ValueError(
                f"a Hopfield state of n = {n} units needs raw weights ({n}, {n}) and patterns (M, {n}), "
                f"got {tuple(state['raw'].shape)} and {tuple(state['patterns'].shape)}"
            )
        memory = cls(
            state["n"], state["rule"], desaturation=state["desaturation"], dtype=state["raw"].dtype, device=device
        )
        memory._raw = state["raw"].to(memory.device)
        memory.patterns = state["patterns"].to(memory.device)
        memory.rank = int(state["rank"])
        return memory

    def __repr__(self) -> str:
        k = "" if self.desaturation is None else f", desaturation={self.desaturation:g}"
        return f"Hopfield(n={self.n}, rule={self.rule!r}{k}, patterns={self.patterns.shape[0]})"
