"""The Neural Turing Machine's memory operations as pure functions (Graves, Wayne & Danihelka, 2014).

A memory ``M`` holds ``N`` rows (locations) of width ``W``; a head addresses it by a weighting ``w`` over the rows
(non-negative, summing to 1), built in four steps from what the controller emits (section 3.3):

1. content addressing (eq. 5): ``w^c_i = softmax_i(beta K(k, M_i))`` with ``K`` the cosine similarity (eq. 6);
2. interpolation (eq. 7): ``w^g = g w^c + (1 - g) w_{t-1}``;
3. convolutional shift (eq. 8): ``w~_i = sum_j w^g_j s_{(i - j) mod N}``, a circular convolution with a
   distribution ``s`` over the shifts ``-R .. R``;
4. sharpening (eq. 9): ``w_i = w~_i^gamma / sum_j w~_j^gamma`` with ``gamma >= 1``.

Reading (eq. 2) is ``r = sum_i w_i M_i``; writing is an erase then an add (eqs. 3-4):
``M_t = M_{t-1} (1 - w e^T) + w a^T``, with the erase vector ``e`` in ``[0, 1]^W`` and the add vector ``a``.

Every function is batched: the leading dimension ``B`` is the batch. :class:`lamina.memory.ntm_layer.NTM` runs them.

References:
    A. Graves, G. Wayne & I. Danihelka, "Neural Turing Machines", arXiv:1410.5401, 2014.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "address",
    "content_weights",
    "cosine_similarity",
    "head_activations",
    "interpolate",
    "read",
    "sharpen",
    "shift",
    "write",
]


def cosine_similarity(key: torch.Tensor, memory: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``K(k, M_i) = k . M_i / (||k|| ||M_i||)`` for every row ``i`` (Graves et al., 2014, eq. 6).

    Args:
        key: ``(B, W)``.
        memory: ``(B, N, W)``.
        eps: added to the product of the norms, so that a zero row or key gives 0, not NaN.

    Returns: ``(B, N)``.
    """
    dots = torch.einsum("bw,bnw->bn", key, memory)
    norms = key.norm(dim=-1, keepdim=True) * memory.norm(dim=-1)  # (B, 1) * (B, N)
    return dots / (norms + eps)


def content_weights(key: torch.Tensor, beta: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
    """Content addressing ``w^c_i = exp(beta K(k, M_i)) / sum_j exp(beta K(k, M_j))`` (Graves et al., 2014, eq. 5).

    Args:
        key: ``(B, W)``, the key vector ``k``.
        beta: ``(B,)`` or ``(B, 1)``, the key strength (``>= 0``; larger is sharper).
        memory: ``(B, N, W)``.

    Returns: ``(B, N)``, rows summing to 1.
    """
    return torch.softmax(beta.reshape(-1, 1) * cosine_similarity(key, memory), dim=-1)


def interpolate(content: torch.Tensor, previous: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
    """``w^g = g w^c + (1 - g) w_{t-1}`` (Graves et al., 2014, eq. 7): ``g = 1`` addresses by content only,
    ``g = 0`` keeps the previous weighting (to shift it, iterating through memory).

    Args:
        content: ``(B, N)``, the content weights.
        previous: ``(B, N)``, the head's weights at the previous step.
        gate: ``(B,)`` or ``(B, 1)`` in ``[0, 1]``.

    Returns: ``(B, N)``.
    """
    g = gate.reshape(-1, 1)
    return g * content + (1.0 - g) * previous


def shift(weights: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Circular convolution ``w~_i = sum_j w_j s_{(i - j) mod N}`` (Graves et al., 2014, eq. 8).

    ``shifts`` is a distribution over the offsets ``-R, ..., 0, ..., R`` (its column ``R + k`` is the
    probability of moving the focus by ``+k`` rows), so the result is ``sum_k s_k roll(w, k)``.

    Args:
        weights: ``(B, N)``.
        shifts: ``(B, 2R + 1)``, rows summing to 1, with ``2R + 1 <= N``.

    Returns: ``(B, N)``.
    """
    n, width = weights.shape[-1], shifts.shape[-1]
    if width % 2 != 1 or width > n:
        raise ValueError(f"ntm shift: the shift distribution needs an odd width <= {n} rows, got {width}")
    radius = width // 2
    # rows i - R .. i + R of w, wrapping around: the window for offset +k at row i is w_{i - k}
    padded = torch.cat([weights[:, n - radius :], weights, weights[:, :radius]], dim=-1)  # (B, N + 2R)
    windows = padded.unfold(-1, width, 1)  # (B, N, 2R + 1): windows[b, i, m] = w_{i - R + m}
    return torch.einsum("bnm,bm->bn", windows, shifts.flip(-1))  # offset +k pairs with w_{i - k}, column R - k


def sharpen(weights: torch.Tensor, gamma: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """``w_i = w~_i^gamma / sum_j w~_j^gamma`` (Graves et al., 2014, eq. 9), undoing the blur of the shift.

    Args:
        weights: ``(B, N)``, non-negative.
        gamma: ``(B,)`` or ``(B, 1)``, ``>= 1``.
        eps: added to the sum, so an all-zero row does not divide by zero.

    Returns: ``(B, N)``, rows summing to 1.
    """
    powered = weights.clamp_min(0.0) ** gamma.reshape(-1, 1)
    return powered / (powered.sum(dim=-1, keepdim=True) + eps)


def address(
    memory: torch.Tensor,
    previous: torch.Tensor,
    key: torch.Tensor,
    beta: torch.Tensor,
    gate: torch.Tensor,
    shifts: torch.Tensor,
    gamma: torch.Tensor,
) -> torch.Tensor:
    """A head's weighting: content, interpolation, shift and sharpening in turn (Graves et al., 2014, fig. 2).

    Args:
        memory: ``(B, N, W)``.
        previous: ``(B, N)``, the head's weights at the previous step.
        key, beta, gate, shifts, gamma: as in :func:`content_weights`, :func:`interpolate`, :func:`shift` and
            :func:`sharpen`.

    Returns: ``(B, N)``.
    """
    w = interpolate(content_weights(key, beta, memory), previous, gate)
    return sharpen(shift(w, shifts), gamma)


def read(memory: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The read vector ``r = sum_i w_i M_i`` (Graves et al., 2014, eq. 2).

    Args:
        memory: ``(B, N, W)``.
        weights: ``(B, N)``.

    Returns: ``(B, W)``.
    """
    return torch.einsum("bn,bnw->bw", weights, memory)


def write(memory: torch.Tensor, weights: torch.Tensor, erase: torch.Tensor, add: torch.Tensor) -> torch.Tensor:
    """Erase then add: ``M_t = M_{t-1} (1 - w e^T) + w a^T`` (Graves et al., 2014, eqs. 3-4).

    Args:
        memory: ``(B, N, W)``, ``M_{t-1}`` (not changed: a new tensor is returned).
        weights: ``(B, N)``, the write head's ``w``.
        erase: ``(B, W)`` in ``[0, 1]``: a location is wiped where both ``w_i`` and ``e_j`` are 1.
        add: ``(B, W)``.

    Returns: ``(B, N, W)``.
    """
    w = weights.unsqueeze(-1)  # (B, N, 1)
    return memory * (1.0 - w * erase.unsqueeze(1)) + w * add.unsqueeze(1)


def head_activations(raw: torch.Tensor, width: int, shift_width: int) -> dict[str, torch.Tensor]:
    """Split a head's raw controller output into its addressing parameters, each mapped to its domain.

    ``key = tanh`` (the memory's rows are bounded by the adds, also tanh), ``beta = softplus >= 0``,
    ``gate = sigmoid`` in ``[0, 1]``, ``shifts = softmax`` (a distribution), ``gamma = 1 + softplus >= 1``.

    Args:
        raw: ``(B, W + 3 + shift_width)``, laid out as key, beta, gate, shift logits, gamma.
        width: the memory width ``W``.
        shift_width: ``2R + 1``.

    Returns: a dict with ``key (B, W)``, ``beta (B,)``, ``gate (B,)``, ``shifts (B, 2R + 1)`` and ``gamma (B,)``.
    """
    key, beta, gate, shifts, gamma = torch.split(raw, [width, 1, 1, shift_width, 1], dim=-1)
    return {
        "key": torch.tanh(key),
        "beta": F.softplus(beta).squeeze(-1),
        "gate": torch.sigmoid(gate).squeeze(-1),
        "shifts": torch.softmax(shifts, dim=-1),
        "gamma": 1.0 + F.softplus(gamma).squeeze(-1),
    }
