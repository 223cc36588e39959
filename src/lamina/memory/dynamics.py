"""Retrieval dynamics of the Hopfield network and its energy, batched over probes (and over memories).

A state ``s in {-1, +1}^N`` evolves by ``s_i <- sgn(h_i)`` with the local field ``h_i = sum_j w_ij s_j``; a unit
whose field is zero keeps its state. Synchronous dynamics update every unit at once (``s <- sgn(W s)``); for a
symmetric ``W`` they end in a fixed point or a cycle of length two (Goles, 1985). Asynchronous dynamics update one
unit at a time, here every unit once per sweep in a fresh random order; for a symmetric ``W`` with ``w_ii >= 0``
each update lowers the energy ``E(s) = -1/2 s^T W s`` or leaves it (flipping unit ``i`` changes it by
``-2 |h_i| - 2 w_ii``), so they end in a fixed point (Hopfield, 1982).

Weights are ``(N, N)`` with states ``(B, N)``, or a stack of ``T`` memories ``(T, N, N)`` with states ``(T, B, N)``
(probe ``b`` of memory ``t`` runs on ``W[t]``), so experiments over many memories run in one batch.

References:
    J. J. Hopfield, "Neural networks and physical systems with emergent collective computational abilities", 1982.
    E. Goles, F. Fogelman-Soulie, D. Pellegrin, "Decreasing energy functions as a tool for studying threshold
    networks", 1985.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = [
    "RecallResult",
    "energy",
    "local_fields",
    "sign_keep",
    "tie_tolerance",
    "is_fixed_point",
    "sync_recall",
    "async_recall",
]


@dataclass(frozen=True)
class RecallResult:
    """What a recall returns.

    Attributes:
        states: the final states, shaped like the probes.
        steps: per probe, the updates that changed the state: synchronous steps, or asynchronous sweeps (one sweep
            visits every unit once).
        converged: per probe, whether the final state is a fixed point (a state left in a cycle, or still moving
            when ``max_steps`` ran out, is not).
    """

    states: torch.Tensor
    steps: torch.Tensor
    converged: torch.Tensor


def _check(weights: torch.Tensor, states: torch.Tensor) -> None:
    n = weights.shape[-1]
    if weights.dim() not in (2, 3) or weights.shape[-2] != n:
        raise ValueError(f"weights must be (N, N) or (T, N, N), got shape {tuple(weights.shape)}")
    if (
        states.dim() != weights.dim()
        or states.shape[-1] != n
        or (weights.dim() == 3 and states.shape[0] != weights.shape[0])
    ):
        expected = f"(B, {n})" if weights.dim() == 2 else f"({weights.shape[0]}, B, {n})"
        raise ValueError(
            f"states must be {expected} for weights of shape {tuple(weights.shape)}, got {tuple(states.shape)}"
        )
    if states.dtype != weights.dtype or states.device != weights.device:
        raise ValueError(
            f"states ({states.dtype} on {states.device}) must have the dtype and device of the weights "
            f"({weights.dtype} on {weights.device})"
        )


def local_fields(weights: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """``h_i = sum_j w_ij s_j`` for every probe: ``(B, N)`` or ``(T, B, N)``."""
    return states @ weights.transpose(-1, -2)


def energy(weights: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """``E(s) = -1/2 s^T W s`` per state: ``(B,)`` or ``(T, B)``."""
    _check(weights, states)
    return -0.5 * (states * local_fields(weights, states)).sum(dim=-1)


def tie_tolerance(weights: torch.Tensor) -> float:
    """Fields within ``N * eps * max|w_ij|`` of zero are ties: rounding cannot decide their sign, so the unit
    keeps its state rather than flip on noise."""
    if weights.numel() == 0:
        return 0.0
    return weights.shape[-1] * torch.finfo(weights.dtype).eps * float(weights.abs().max())


def sign_keep(fields: torch.Tensor, states: torch.Tensor, tol: float = 0.0) -> torch.Tensor:
    """``sgn(h)``, keeping the current state where ``|h| <= tol``."""
    return torch.where(fields > tol, 1.0, torch.where(fields < -tol, -1.0, states)).to(states.dtype)


def is_fixed_point(weights: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """Whether no unit of each state would change: ``sgn(h_i) = s_i`` (or a tie) for every ``i``."""
    _check(weights, states)
    new = sign_keep(local_fields(weights, states), states, tie_tolerance(weights))
    return (new == states).all(dim=-1)


def sync_recall(weights: torch.Tensor, probes: torch.Tensor, *, max_steps: int = 100) -> RecallResult:
    """Synchronous dynamics ``s(t+1) = sgn(W s(t))`` from each probe until a fixed point, a two-cycle (stopped
    as soon as seen) or ``max_steps`` steps. Costs one ``(B, N) x (N, N)`` product per step.

    Args:
        weights: ``(N, N)`` or ``(T, N, N)``.
        probes: bipolar ``(B, N)`` or ``(T, B, N)``.
        max_steps: the most synchronous updates.

    Returns:
        :class:`RecallResult`.
    """
    _check(weights, probes)
    tol = tie_tolerance(weights)
    state, previous = probes.clone(), None
    steps = torch.zeros(probes.shape[:-1], dtype=torch.long, device=probes.device)
    active = torch.ones_like(steps, dtype=torch.bool)
    for _ in range(max_steps):
        new = sign_keep(local_fields(weights, state), state, tol)
        changed = (new != state).any(dim=-1) & active
        if not bool(changed.any()):
            break
        steps += changed
        cycling = changed & (new == previous).all(dim=-1) if previous is not None else torch.zeros_like(changed)
        previous = state
        state = torch.where(changed.unsqueeze(-1), new, state)
        active = changed & ~cycling  # a two-cycle never ends: stop it
    return RecallResult(state, steps, is_fixed_point(weights, state))


def async_recall(
    weights: torch.Tensor, probes: torch.Tensor, *, max_steps: int = 100, generator: torch.Generator | None = None
) -> RecallResult:
    """Asynchronous dynamics: sweeps in which every unit of a probe is updated once, one at a time, in an order
    drawn afresh for each probe and sweep, until a sweep changes nothing or ``max_steps`` sweeps.

    All probes advance in lockstep and the local fields are kept up to date incrementally (a flip of unit ``j``
    adds ``2 s_j W[:, j]``), so a flip costs ``O(N)``. Probes at a fixed point drop out of later sweeps. A sweep runs
    in one of two equivalent ways, whichever is cheaper: moment by moment (``N`` steps in which every probe updates
    its next unit), or flip by flip (each probe jumps to the next unit in its order whose field opposes it: the units
    in between would not change), which takes as many steps as the most flips any probe makes.

    Args:
        weights: ``(N, N)`` or ``(T, N, N)``.
        probes: bipolar ``(B, N)`` or ``(T, B, N)``.
        max_steps: the most sweeps.
        generator: draws the update orders (``None``: torch's default generator).

    Returns:
        :class:`RecallResult` (``steps`` counts sweeps that changed the state).
    """
    _check(weights, probes)
    n, tol = probes.shape[-1], tie_tolerance(weights)
    state = probes.reshape(-1, n).clone()  # (P, N), probes of memory t are rows t*B .. t*B + B - 1
    fields = local_fields(weights, probes).reshape(-1, n)
    count = state.shape[0]
    columns = weights.transpose(-1, -2).reshape(-1, n)  # row t*N + j = column j of memory t
    per_memory = count // weights.shape[0] if weights.dim() == 3 else count
    offset = torch.arange(count, device=state.device) // per_memory * n
    steps = torch.zeros(count, dtype=torch.long, device=state.device)
    active = torch.arange(count, device=state.device)
    for _ in range(max_steps):
        if active.numel() == 0:
            break
        s, h, base = state[active], fields[active], offset[active]
        start = s.clone()
        # each unit's moment of visit in [0, 1): sorting them gives a uniform random order (float64: no ties)
        keys = torch.rand(
            s.shape,
            generator=generator,
            dtype=torch.float64,
            device=generator.device if generator is not None else s.device,
        ).to(s.device)
        # the most units any probe has unstable now: a guess at the flips this sweep will make
        unstable = int(((h * s) < -tol).sum(dim=1).max())
        # on a GPU every step waits for the host (which probes flip), so the fewer steps the better
        if s.device.type != "cpu" or _flips_are_cheaper(unstable, *s.shape):
            _sweep_by_flips(s, h, keys, columns, base, tol)
        else:
            _sweep_by_moments(s, h, keys, columns, base, tol)
        changed = (s != start).any(dim=1)  # each unit is visited once a sweep, so a flip leaves it changed
        state[active], fields[active] = s, h
        steps[active] += changed.long()
        active = active[changed]
    final = state.reshape(probes.shape)
    return RecallResult(final, steps.reshape(probes.shape[:-1]), is_fixed_point(weights, final))


def _flips_are_cheaper(flips: int, probes: int, n: int) -> bool:
    # measured on a CPU: a torch call costs ~5 us, an element ~1 ns. By moments: n steps of ~12 calls on
    # `probes` elements. By flips: `flips` steps of ~12 calls plus ~6 passes over probes x n elements.
    by_moments = n * (12 * 5000 + 12 * probes)
    by_flips = (flips + 1) * (12 * 5000 + 6 * probes * n)
    return by_flips < by_moments


def _flip(
    s: torch.Tensor, h: torch.Tensor, which: torch.Tensor, unit: torch.Tensor, columns: torch.Tensor, base: torch.Tensor
) -> None:
    """Flip ``unit[k]`` of probe ``which[k]`` and add the change of every field: ``h += 2 s_new W[:, unit]``."""
    value = -s[which, unit]
    s[which, unit] = value
    # index_select / index_copy_ rather than advanced indexing and index_add_: the latter start thread pools
    # that cost ~100x more on a busy CPU for these small blocks (each probe appears once in `which`)
    column = columns.index_select(0, base.index_select(0, which) + unit)  # (F, N)
    h.index_copy_(0, which, torch.addcmul(h.index_select(0, which), column, (2 * value).unsqueeze(1)))


def _sweep_by_moments(
    s: torch.Tensor, h: torch.Tensor, keys: torch.Tensor, columns: torch.Tensor, base: torch.Tensor, tol: float
) -> None:
    """One sweep, in place: at moment ``t`` every probe updates its ``t``-th unit in the order of ``keys``."""
    a, n = s.shape
    order = keys.argsort(dim=1)  # (A, N)
    at = (order + torch.arange(a, device=s.device).unsqueeze(1) * n).t().contiguous()  # (N, A) flat indices
    flat_s, flat_h = s.view(-1), h.view(-1)
    for index in at:
        flip = (flat_h.take(index) * flat_s.take(index)) < -tol  # the field opposes the state beyond rounding
        which = flip.nonzero().squeeze(1)
        if which.numel():
            _flip(s, h, which, index[which] - which * n, columns, base)


def _sweep_by_flips(
    s: torch.Tensor, h: torch.Tensor, keys: torch.Tensor, columns: torch.Tensor, base: torch.Tensor, tol: float
) -> None:
    """One sweep, in place: each probe jumps to its next unit (in the order of ``keys``) whose field opposes its
    state; the units in between would keep their state, as their fields have not changed."""
    visited = torch.full((s.shape[0], 1), -1.0, dtype=keys.dtype, device=s.device)  # the sweep's moment, per probe
    while True:
        pending = ((h * s) < -tol) & (keys > visited)
        moment, unit = torch.where(pending, keys, 2.0).min(dim=1)  # 2.0: no unit left to flip
        which = (moment < 2.0).nonzero().squeeze(1)
        if which.numel() == 0:
            return
        _flip(s, h, which, unit[which], columns, base)
        visited[which, 0] = moment[which]
