"""Tensor-train (TT) dense layers (Novikov, Podoprikhin, Osokin & Vetrov, 2015).

With ``in_features = in_1 ... in_d`` and ``units = out_1 ... out_d``, the weight is held as ``d`` cores
``G_k`` of shape ``(r_{k-1}, in_k, out_k, r_k)`` (``r_0 = r_d = 1``), and

    W[(o_1, ..., o_d), (i_1, ..., i_d)] = G_1[:, i_1, o_1, :] G_2[:, i_2, o_2, :] ... G_d[:, i_d, o_d, :],

a product of ``r_{k-1} x r_k`` matrices (row and column indices in row-major order, as ``x.reshape(N, in_1, ...,
in_d)`` reads them). The layer has ``sum_k r_{k-1} in_k out_k r_k`` weights; the forward pass contracts the input
with one core at a time and never forms ``W``. :func:`tt_svd` finds the cores of a given matrix (Oseledets, 2011).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated

import torch
from pydantic import model_validator
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import component
from lamina.errors import ShapeError
from lamina.nn.layers import with_activation
from lamina.nn.spec import LayerSpec, Shape, require_rank
from lamina.registry import register

__all__ = ["TTDenseSpec", "TTLinear", "tt_full", "tt_linear", "tt_ranks", "tt_svd"]


def tt_ranks(ranks: int | Sequence[int], d: int) -> list[int]:
    """The ``d + 1`` TT ranks ``[1, r_1, ..., r_{d-1}, 1]``: one int ``r`` stands for ``[1, r, ..., r, 1]``.

    Raises:
        ValueError: for a list of the wrong length, not starting and ending with 1, or with a rank below 1.
    """
    full = [1, *[ranks] * (d - 1), 1] if isinstance(ranks, int) else list(ranks)
    if len(full) != d + 1 or full[0] != 1 or full[-1] != 1 or min(full) < 1:
        raise ValueError(
            f"`ranks`: expected one positive int or {d + 1} positive ints starting and ending with 1 "
            f"(r_0 = r_{d} = 1) for {d} modes, got {list(full) if not isinstance(ranks, int) else ranks!r}"
        )
    return full


def tt_full(cores: Sequence[torch.Tensor]) -> torch.Tensor:
    """The dense matrix ``(prod out_k, prod in_k)`` of TT cores ``G_k`` of shape ``(r_{k-1}, in_k, out_k, r_k)``."""
    w = cores[0].reshape(cores[0].shape[1], cores[0].shape[2], cores[0].shape[3])  # (in_1, out_1, r_1)
    for core in cores[1:]:
        merged = torch.einsum("ior,rjps->ijops", w, core)  # (I, in_k, O, out_k, r_k)
        w = merged.reshape(merged.shape[0] * merged.shape[1], merged.shape[2] * merged.shape[3], merged.shape[4])
    return w[..., 0].T


def tt_linear(x: torch.Tensor, cores: Sequence[torch.Tensor], bias: torch.Tensor | None = None) -> torch.Tensor:
    """``x W^T + b`` for the TT matrix ``W`` of ``cores``, one core at a time: ``(N, prod in_k) -> (N, prod out_k)``.

    The running tensor is ``(N, O, r, I)``: the outputs made so far, the current rank, the inputs not yet
    contracted; each core turns ``(r_{k-1}, in_k)`` into ``(out_k, r_k)``. The cost is ``sum_k N O_k I_k
    r_{k-1} r_k`` multiplications instead of ``N prod in_k prod out_k``.
    """
    n = x.shape[0]
    t = x.reshape(n, 1, 1, x.shape[1])  # (N, O = 1, r_0 = 1, I = in_features)
    for core in cores:
        r, i_k, o_k, r_next = core.shape
        t = t.reshape(n, t.shape[1], r, i_k, t.shape[3] // i_k)  # split in_k off the remaining inputs
        t = torch.einsum("noaib,aijc->nojcb", t, core)  # (N, O, out_k, r_k, I / in_k)
        t = t.reshape(n, t.shape[1] * o_k, r_next, t.shape[4])
    y = t.reshape(n, -1)
    return y if bias is None else y + bias


def tt_svd(
    matrix: torch.Tensor, in_modes: Sequence[int], out_modes: Sequence[int], max_rank: int | None = None
) -> list[torch.Tensor]:
    """TT cores of a dense ``(prod out_modes, prod in_modes)`` matrix by TT-SVD (Oseledets, 2011, Algorithm 1).

    The matrix is reshaped to the ``d``-way tensor ``T[(i_1, o_1), ..., (i_d, o_d)]`` and split by ``d - 1``
    truncated SVDs, left to right; ranks are capped at ``max_rank`` (``None``: exact, up to the matrix's own TT
    ranks). A matrix of TT ranks ``<= max_rank`` is reconstructed exactly (up to rounding).

    Returns:
        cores ``G_k`` of shape ``(r_{k-1}, in_k, out_k, r_k)``, ready for :meth:`TTLinear.from_cores`.

    Raises:
        ValueError: if the matrix's shape does not match the modes.
    """
    d = len(in_modes)
    if len(out_modes) != d or tuple(matrix.shape) != (math.prod(out_modes), math.prod(in_modes)):
        raise ValueError(
            f"tt_svd: a matrix of shape {tuple(matrix.shape)} does not fit out_modes {list(out_modes)} x in_modes "
            f"{list(in_modes)} (expected ({math.prod(out_modes)}, {math.prod(in_modes)}))"
        )
    order = [p for k in range(d) for p in (d + k, k)]  # (o_1..o_d, i_1..i_d) -> (i_1, o_1, ..., i_d, o_d)
    rest = matrix.reshape(*out_modes, *in_modes).permute(*order).contiguous()
    cores, r = [], 1
    for k in range(d - 1):
        rest = rest.reshape(r * in_modes[k] * out_modes[k], -1)
        u, s, vh = torch.linalg.svd(rest, full_matrices=False)
        tol = s[0] * max(rest.shape) * torch.finfo(s.dtype).eps if s.numel() else 0.0
        keep = max(1, int((s > tol).sum()))  # drop the numerically zero singular values
        if max_rank is not None:
            keep = min(keep, max_rank)
        cores.append(u[:, :keep].reshape(r, in_modes[k], out_modes[k], keep))
        rest, r = s[:keep, None] * vh[:keep], keep
    cores.append(rest.reshape(r, in_modes[-1], out_modes[-1], 1))
    return cores


class TTLinear(nn.Module):
    """A fully connected layer whose ``(prod out_modes, prod in_modes)`` weight is a tensor train (see the module
    docstring).

    Args:
        in_modes: ``in_1, ..., in_d``, whose product is the input size.
        out_modes: ``out_1, ..., out_d``, whose product is the output size (the same ``d``).
        ranks: the TT ranks ``[1, r_1, ..., r_{d-1}, 1]``, or one int for every inner rank.
        bias: whether to learn ``b``.

    Shape: ``(N, prod in_modes) -> (N, prod out_modes)``.

    Attributes:
        cores: the ``d`` cores ``G_k``, ``(r_{k-1}, in_k, out_k, r_k)``.
        bias: ``(prod out_modes,)`` or ``None``.

    Initialisation: every core entry i.i.d. ``N(0, s^2)`` with ``s^(2d) prod_{k<d} r_k = 2 / (in + out)``, so each
    entry of the reconstructed ``W`` (a sum of ``prod r_k`` products of ``d`` core entries) has Glorot's variance
    ``2 / (in_features + out_features)`` (Glorot & Bengio, 2010), as Glorot initialisation gives a dense layer of
    that size; the bias starts at 0.

    References:
        Novikov, Podoprikhin, Osokin & Vetrov (2015), "Tensorizing Neural Networks", NeurIPS.
    """

    @validated
    def __init__(
        self,
        in_modes: Annotated[list[int], Bounds(ge=1)],
        out_modes: Annotated[list[int], Bounds(ge=1)],
        ranks: Annotated[int | list[int], Bounds(ge=1)] = 8,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if len(in_modes) != len(out_modes) or not in_modes:
            raise ValueError(
                f"`in_modes` and `out_modes` must have the same number (>= 1) of modes, got {list(in_modes)} and "
                f"{list(out_modes)}"
            )
        self.in_modes, self.out_modes = list(in_modes), list(out_modes)
        self.ranks = tt_ranks(ranks, len(in_modes))
        self.in_features, self.out_features = math.prod(in_modes), math.prod(out_modes)
        d = len(in_modes)
        target = 2.0 / (self.in_features + self.out_features)
        std = (target / math.prod(self.ranks)) ** (1.0 / (2 * d))
        self.cores = nn.ParameterList(
            nn.Parameter(torch.randn(self.ranks[k], in_modes[k], out_modes[k], self.ranks[k + 1]) * std)
            for k in range(d)
        )
        self.bias = nn.Parameter(torch.zeros(self.out_features)) if bias else None

    @classmethod
    def from_cores(cls, cores: Sequence[torch.Tensor], bias: torch.Tensor | None = None) -> TTLinear:
        """A layer holding copies of given cores ``(r_{k-1}, in_k, out_k, r_k)`` (from :func:`tt_svd`, say)."""
        layer = cls(
            [c.shape[1] for c in cores],
            [c.shape[2] for c in cores],
            [1, *[c.shape[3] for c in cores]],
            bias=bias is not None,
        )
        with torch.no_grad():
            for mine, given in zip(layer.cores, cores):
                mine.copy_(given)
            if bias is not None and layer.bias is not None:
                layer.bias.copy_(bias)
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return tt_linear(x, list(self.cores), self.bias)

    def full_weight(self) -> torch.Tensor:
        """The dense weight ``(out_features, in_features)`` the cores stand for, as ``nn.Linear`` holds it."""
        return tt_full(list(self.cores))

    def extra_repr(self) -> str:
        return f"in_modes={self.in_modes}, out_modes={self.out_modes}, ranks={self.ranks}, bias={self.bias is not None}"


@register("layer", "tt_dense", aliases=("tensor_train_dense",))
class TTDenseSpec(spec_base(TTLinear, LayerSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Tensor-train dense layer (Novikov et al., 2015): the ``prod(out_modes) x prod(in_modes)`` weight held as TT
    cores, ``sum r_{k-1} in_k out_k r_k`` weights (a 1024 x 1024 layer with modes 4x8x4x8 and rank 8: 5,760
    instead of 1,048,576). ``in_modes``, ``out_modes``, ``ranks`` and ``bias``: :class:`TTLinear`'s.

    Args:
        activation: applied after the affine map (``None``: linear).

    Shape: ``(N, prod in_modes) -> (N, prod out_modes)``.
    """

    activation: component("activation") | None = None

    @model_validator(mode="after")
    def _modes_and_ranks_agree(self) -> TTDenseSpec:
        if len(self.in_modes) != len(self.out_modes):
            raise ValueError(
                f"in_modes {self.in_modes} and out_modes {self.out_modes} must have the same number of modes"
            )
        tt_ranks(self.ranks, len(self.in_modes))
        return self

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(prod in_modes,) -> (prod out_modes,)``; an image must be flattened first."""
        require_rank(input_shape, 1, "a tt_dense layer", hint='; add { type = "flatten" } before it')
        if input_shape[0] != math.prod(self.in_modes):
            raise ShapeError(
                f"a tt_dense layer with in_modes {self.in_modes} takes {math.prod(self.in_modes)} features, got "
                f"{input_shape[0]}; choose in_modes whose product is {input_shape[0]}"
            )
        return (math.prod(self.out_modes),)

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`TTLinear`, then the activation."""
        self.output_shape(input_shape)
        return with_activation(TTLinear(**self.options()), self.activation)
