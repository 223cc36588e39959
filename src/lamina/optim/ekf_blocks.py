"""The blocks of a decoupled extended Kalman filter (DEKF): which weights share a covariance block.

The global filter (GEKF) keeps one ``n x n`` covariance over all ``n`` weights. The decoupled filter keeps a
block-diagonal one: one block per layer (a weight matrix with its bias) or per neuron (the weights into one unit,
with its bias: node-decoupled EKF, Puskorius & Feldkamp, 1991), so that memory and time grow with
``sum(block_size^2)`` instead of ``n^2``. Blocks of equal size are stacked, so that one batched matrix product
updates a whole layer's neurons at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["DECOUPLINGS", "decoupled_blocks", "covariance_bytes", "format_bytes"]

DECOUPLINGS = ("global", "layer", "neuron")


def _units(params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Per layer, a ``(units, fan_in + 1)`` tensor of flat indices: each row of a weight matrix with the entry of the
    bias after it (the order nn.Linear, nn.Conv*d and nn.RNN give); a lone tensor is one row."""
    layers, offsets, i = [], [0], 0
    for p in params:
        offsets.append(offsets[-1] + p.numel())
    while i < len(params):
        p, start = params[i], offsets[i]
        if p.dim() >= 2:
            rows, size = p.shape[0], p[0].numel()
            unit = torch.arange(start, start + p.numel()).view(rows, size)  # (units, fan-in)
            parts = [unit]
            nxt = params[i + 1] if i + 1 < len(params) else None
            if nxt is not None and nxt.dim() == 1 and nxt.numel() == rows:
                parts.append(torch.arange(offsets[i + 1], offsets[i + 1] + rows).view(rows, 1))  # its bias
                i += 1
            layers.append(torch.cat(parts, dim=1))  # (units, fan-in + 1)
        else:
            layers.append(torch.arange(start, start + p.numel()).view(1, -1))  # a lone vector: one block
        i += 1
    return layers


def decoupled_blocks(params: Sequence[torch.Tensor], decoupling: str) -> list[torch.Tensor]:
    """Index families into the flat weight vector: a list of ``(B, s)`` long tensors, ``B`` blocks of ``s`` weights.

    Args:
        params: the weights, in the order they are flattened.
        decoupling: ``"global"`` (one block: GEKF), ``"layer"`` (a weight matrix and the bias that follows it, or a
            lone tensor) or ``"neuron"`` (each row of a weight matrix with its bias entry: one unit's incoming
            weights; NDEKF).

    Returns:
        Families covering every weight exactly once; blocks of equal size in one family.
    """
    if decoupling not in DECOUPLINGS:
        raise ValueError(f"Invalid decoupling: {decoupling!r} (one of {', '.join(map(repr, DECOUPLINGS))})")
    n = sum(p.numel() for p in params)
    if decoupling == "global":
        return [torch.arange(n).view(1, n)]
    units = _units(params)
    if decoupling == "layer":
        units = [u.reshape(1, -1) for u in units]
    families: dict[int, list[torch.Tensor]] = {}
    for u in units:
        families.setdefault(u.shape[1], []).append(u)
    return [torch.cat(blocks) for blocks in families.values()]


def covariance_bytes(blocks: Sequence[torch.Tensor], dtype: torch.dtype) -> int:
    """Bytes of the (block-diagonal) covariance over ``blocks``: ``sum(B s^2) * itemsize``."""
    itemsize = torch.empty((), dtype=dtype).element_size()
    return sum(b.shape[0] * b.shape[1] ** 2 for b in blocks) * itemsize


def format_bytes(size: float) -> str:
    """``1536 -> '1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.3g} {unit}"
        size /= 1024
    return f"{size:.3g} TiB"  # pragma: no cover
