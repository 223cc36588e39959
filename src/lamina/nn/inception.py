"""The inception module of GoogLeNet (Szegedy et al., 2015): parallel branches over one input, their outputs
concatenated along the channels.

GoogLeNet's module (v1, "with dimension reductions", Fig. 2b) has four branches::

    1x1 conv (conv1x1)
    1x1 conv (reduce3x3) -> 3x3 conv (conv3x3)
    1x1 conv (reduce5x5) -> 5x5 conv (conv5x5)
    3x3 max pool (stride 1) -> 1x1 conv (pool_proj)

each convolution followed by ReLU, so that ``{ type = "inception", conv1x1 = 64, reduce3x3 = 96, conv3x3 = 128,
reduce5x5 = 16, conv5x5 = 32, pool_proj = 32 }`` is inception (3a) with 256 output channels. Any other layout is
``branches = [[...], [...], ...]``, each branch a list of layer tables (an empty list passes the input through).
"""

from __future__ import annotations

import torch
from pydantic import Field, model_validator
from torch import nn

from lamina.config.component import spec_base, validated
from lamina.config.fields import component, count, raise_problems
from lamina.errors import ShapeError
from lamina.nn.nested import block_label, build_stack, nested_problems, stack_shapes
from lamina.nn.spec import LayerSpec, Shape, fmt_shape, require_rank
from lamina.registry import register, resolve

__all__ = ["Inception", "InceptionSpec", "GOOGLENET_FIELDS"]

GOOGLENET_FIELDS = ("conv1x1", "reduce3x3", "conv3x3", "reduce5x5", "conv5x5", "pool_proj")


class Inception(nn.Module):
    """``y = concat(b_1(x), ..., b_k(x))`` along ``dim`` (0: the channels of each example).

    Args:
        branches: modules taking the same input, whose outputs agree in every dimension but ``dim``.
        dim: the per-example dimension the branches are joined along (0: channels).

    Shape: ``(N, C, *spatial) -> (N, C_1 + ... + C_k, *spatial)``.

    References:
        Szegedy, Liu, Jia, Sermanet, Reed, Anguelov, Erhan, Vanhoucke & Rabinovich (2015), "Going Deeper with
        Convolutions", CVPR.
    """

    @validated
    def __init__(self, branches: list[nn.Module], dim: int = 0) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([branch(x) for branch in self.branches], dim=self.dim + 1 if self.dim >= 0 else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


@register("layer", "inception", aliases=("inception_module",))
class InceptionSpec(spec_base(Inception, LayerSpec, exclude=("branches",))):  # type: ignore[misc]  # spec_base's base
    """Parallel branches concatenated along the channels (Szegedy et al., 2015). ``dim`` is :class:`Inception`'s,
    with its default; the other options say how to build its branches.

    Args:
        branches: each a list of layer tables; or the GoogLeNet v1 module's widths:
        conv1x1, reduce3x3, conv3x3, reduce5x5, conv5x5, pool_proj: output channels of its convolutions.
        activation: after each generated convolution (GoogLeNet: ReLU; `identity` for none).
        batchnorm: batch norm before each generated activation (as in BN-Inception; Ioffe & Szegedy, 2015).
        init: initializer of the generated convolutions.

    Shape: ``(N, C, H, W) -> (N, sum of the branches' channels, H, W)``.
    """

    branches: list[list[component("layer")]] | None = None
    conv1x1: count() | None = None
    reduce3x3: count() | None = None
    conv3x3: count() | None = None
    reduce5x5: count() | None = None
    conv5x5: count() | None = None
    pool_proj: count() | None = None
    activation: component("activation") = Field("relu", validate_default=True)  # GoogLeNet's
    batchnorm: bool = False
    init: component("initializer") | None = None

    @model_validator(mode="after")
    def _check(self) -> InceptionSpec:
        problems = []
        widths = {f: getattr(self, f) for f in GOOGLENET_FIELDS}
        given = [f for f, v in widths.items() if v is not None]
        if self.branches is not None and given:
            problems.append(((given[0],), "give either `branches` or the GoogLeNet widths, not both"))
        elif self.branches is None and len(given) != len(GOOGLENET_FIELDS):
            missing = [f for f in GOOGLENET_FIELDS if widths[f] is None]
            problems.append(
                ((), f"needs `branches = [[...], ...]` or all six GoogLeNet widths; missing: {', '.join(missing)}")
            )
        if self.branches is not None and len(self.branches) < 2:
            problems.append((("branches",), f"an inception block joins two or more branches, got {len(self.branches)}"))
        for b, branch in enumerate(self.branches or []):
            problems += nested_problems(branch, ("branches", b))
        raise_problems("inception", problems)
        return self

    def _conv(self, filters: int, kernel: int) -> list[dict]:
        conv = {
            "type": "conv2d",
            "filters": filters,
            "kernel_size": kernel,
            "padding": kernel // 2,
            "bias": not self.batchnorm,
        }
        if self.init is not None:
            conv["init"] = self.init
        layers = [conv] + ([{"type": "batchnorm"}] if self.batchnorm else [])
        return layers + [self.activation.to_config()]

    def branch_specs(self) -> list[list[LayerSpec]]:
        """The branches as layer specs (GoogLeNet's four when built from widths)."""
        if self.branches is not None:
            return [list(b) for b in self.branches]
        tables = [
            self._conv(self.conv1x1, 1),
            self._conv(self.reduce3x3, 1) + self._conv(self.conv3x3, 3),
            self._conv(self.reduce5x5, 1) + self._conv(self.conv5x5, 5),
            [{"type": "max_pool2d", "kernel_size": 3, "stride": 1, "padding": 1}] + self._conv(self.pool_proj, 1),
        ]
        return [[resolve("layer", t) for t in branch] for branch in tables]

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(C, *spatial) -> (C_1 + ... + C_k, *spatial)`` (joined along ``dim``); checks that the branch
        outputs agree in every other dimension."""
        if self.branches is None:
            require_rank(input_shape, 3, "GoogLeNet's inception module (set `branches` for other inputs)")
        outs = []
        for b, branch in enumerate(self.branch_specs()):
            shapes = stack_shapes(branch, input_shape, where=f"branches[{b}]")
            outs.append(shapes[-1] if shapes else tuple(input_shape))
        ranks = {len(s) for s in outs}
        rank = max(ranks)
        if len(ranks) != 1 or not -rank <= self.dim < rank:
            raise ShapeError(
                f"{block_label(self)}: cannot join branch outputs "
                + ", ".join(f"{fmt_shape(s)} (branch {b})" for b, s in enumerate(outs))
                + f" along dim {self.dim}"
            )
        d = self.dim % rank
        if len({s[:d] + s[d + 1 :] for s in outs}) != 1:
            raise ShapeError(
                f"{block_label(self)}: branch outputs must agree in every dimension but dim {self.dim} "
                "(the channels) to be concatenated, got "
                + ", ".join(f"{fmt_shape(s)} (branch {b})" for b, s in enumerate(outs))
            )
        joined = list(outs[0])
        joined[d] = sum(s[d] for s in outs)
        return tuple(joined)

    def build(self, input_shape: Shape) -> nn.Module:
        """An :class:`Inception` of the branches, each built as a layer stack on the input."""
        self.output_shape(input_shape)
        branches = [
            build_stack(branch, input_shape, where=f"branches[{b}]") for b, branch in enumerate(self.branch_specs())
        ]
        return Inception(**self.options(branches=branches))
