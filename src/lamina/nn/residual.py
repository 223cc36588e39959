"""Residual blocks ``y = f(x + F(x))`` (He, Zhang, Ren & Sun, 2015) and their pre-activation variant
``y = x + F(x)`` with ``F`` starting by batch norm and ReLU (He et al., 2016).

``F`` is either any layer list (``layers = [...]``) or the basic block of the paper (``filters = 64``): two
``kernel_size`` convolutions, each followed by batch norm, the first with ``stride``. The shortcut is the identity
when ``F`` keeps the shape, else a projection (a strided 1x1 convolution, or a dense map for vectors; He et al.'s
option B, with batch norm).

::

    { type = "residual", filters = 32, stride = 2, drop_path = 0.1 }           # basic block, projection shortcut
    { type = "residual", preactivation = true, filters = 32 }                 # He et al. (2016), "identity mappings"
    { type = "residual", layers = [{ type = "dense", units = 64, activation = "relu" },
                                   { type = "dense", units = 64 }] }
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import model_validator
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import choice, component, count, raise_problems
from lamina.errors import ShapeError
from lamina.nn.activations import activation_module
from lamina.nn.convolution import conv_output_length
from lamina.nn.drop_path import DropPath
from lamina.nn.init import initialize
from lamina.nn.nested import block_label, build_stack, nested_problems, stack_shapes
from lamina.nn.spec import LayerSpec, Shape, fmt_shape, require_rank
from lamina.registry import register, resolve

__all__ = ["Residual", "ResidualSpec", "projection_shortcut"]


class Residual(nn.Module):
    """``y = post(shortcut(x) + drop_path(branch(pre(x))))``.

    Args:
        branch: the residual function ``F``.
        shortcut: ``None`` for the identity, else a module mapping the (pre-activated) input to ``F``'s shape.
        pre: the pre-activation (batch norm, ReLU) shared by the branch and a projection shortcut; an identity
            shortcut skips it, so the signal path stays clean (He et al., 2016, Fig. 4e).
        post: the activation after the sum (ReLU in the original ResNet; none in the pre-activation variant).
        drop_path: stochastic depth: drop the branch per example with this probability (Huang et al., 2016).

    Shape: ``(N, *in) -> (N, *out)``, ``out`` the branch's output shape.

    References:
        He, Zhang, Ren & Sun (2015), "Deep Residual Learning for Image Recognition", CVPR 2016.
        He, Zhang, Ren & Sun (2016), "Identity Mappings in Deep Residual Networks", ECCV.
    """

    @validated
    def __init__(
        self,
        branch: nn.Module,
        shortcut: nn.Module | None = None,
        *,
        pre: nn.Module | None = None,
        post: nn.Module | None = None,
        drop_path: Annotated[float, Bounds(ge=0, lt=1)] = 0.0,
    ) -> None:
        super().__init__()
        self.pre = pre
        self.branch = branch
        self.shortcut = shortcut
        self.drop_path = DropPath(drop_path) if drop_path > 0 else None
        self.post = post

    def forward(self, x):
        h = x if self.pre is None else self.pre(x)
        out = self.branch(h)
        if self.drop_path is not None:
            out = self.drop_path(out)
        out = out + (x if self.shortcut is None else self.shortcut(h))
        return out if self.post is None else self.post(out)


def projection_shortcut(
    in_shape: Shape, out_shape: Shape, *, batchnorm: bool, label: str = "residual", init: Any = None
) -> nn.Module:
    """A map from ``in_shape`` to ``out_shape``: a dense layer for vectors, a 1x1 convolution with the stride
    that gives the output's length (1-D) or height and width (2-D), followed by batch norm if asked.

    Raises:
        ShapeError: the ranks differ, or no stride maps the input's spatial size onto the output's.
    """
    if len(in_shape) != len(out_shape) or len(in_shape) not in (1, 2, 3):
        raise ShapeError(
            f"{label}: cannot project the shortcut from {fmt_shape(in_shape)} to the branch output "
            f"{fmt_shape(out_shape)}; the branch must keep the input's rank (vectors, (C, L) or "
            "(C, H, W))"
        )
    if len(in_shape) == 1:
        proj = initialize(nn.Linear(in_shape[0], out_shape[0], bias=not batchnorm), init)
        norm = nn.BatchNorm1d(out_shape[0]) if batchnorm else None
    else:
        strides = [-(-n // m) for n, m in zip(in_shape[1:], out_shape[1:])]  # ceil(n / m)
        if any(conv_output_length(n, 1, s, 0) != m for n, s, m in zip(in_shape[1:], strides, out_shape[1:])):
            raise ShapeError(
                f"{label}: cannot project the shortcut from {fmt_shape(in_shape)} to the branch output "
                f"{fmt_shape(out_shape)}: no stride of a 1x1 convolution maps spatial size "
                f"{fmt_shape(in_shape[1:])} onto {fmt_shape(out_shape[1:])}"
            )
        conv = nn.Conv1d if len(in_shape) == 2 else nn.Conv2d
        proj = initialize(conv(in_shape[0], out_shape[0], 1, stride=strides, bias=not batchnorm), init)
        norm = (nn.BatchNorm1d if len(in_shape) == 2 else nn.BatchNorm2d)(out_shape[0]) if batchnorm else None
    return proj if norm is None else nn.Sequential(proj, norm)


# the modules the spec builds from its options (the branch from `layers` or the basic block, the shortcut from its
# rule, the pre-activation, the activation after the sum)
_BUILT_HERE = ("branch", "shortcut", "pre", "post")


@register("layer", "residual", aliases=("residual_block",))
class ResidualSpec(spec_base(Residual, LayerSpec, exclude=_BUILT_HERE)):  # type: ignore[misc]  # spec_base's base
    """A residual block ``y = f(shortcut(x) + F(x))`` (He et al., 2015; pre-activation: He et al., 2016).
    ``drop_path`` is :class:`Residual`'s, with its default and bounds; the other options say how to build the
    modules it takes.

    Args:
        layers: the residual branch ``F``, any layer tables; or
        filters, kernel_size, stride: the paper's basic block (two convolutions with batch norm; 1-D or 2-D from
            the input's rank).
        preactivation: batch norm and ReLU before each convolution, nothing after the sum (He et al., 2016).
        shortcut: ``auto`` (identity when ``F`` keeps the shape, else projection), ``identity`` (an error if
            the shapes differ) or ``projection``.
        batchnorm: batch norm in the generated basic block and after a projection.
        activation: after the sum; default ``relu``, or none with ``preactivation``.
        init: initializer of the generated convolutions and of the projection (``None``: torch's default).

    Shape: ``(N, *in) -> (N, *out)`` with ``out`` the branch's output shape.
    """

    layers: list[component("layer")] | None = None
    filters: count() | None = None
    kernel_size: count() = 3
    stride: count() = 1
    preactivation: bool = False
    shortcut: choice("auto", "identity", "projection") = "auto"
    batchnorm: bool = True
    activation: component("activation") | None = None
    init: component("initializer") | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_activation(cls, data: Any) -> Any:
        # ReLU after the sum in the original block; the pre-activation block has nothing there (He et al., 2016)
        if isinstance(data, dict) and "activation" not in data and not data.get("preactivation", False):
            data = {**data, "activation": "relu"}
        return data

    @model_validator(mode="after")
    def _check(self) -> ResidualSpec:
        problems = []
        if (self.layers is None) == (self.filters is None):
            problems.append(((), "give either `layers` (the residual branch) or `filters` (the basic block)"))
        if self.layers is not None and self.stride != 1:
            problems.append(
                (
                    ("stride",),
                    "`stride` shapes the generated basic block; with `layers`, put the stride in a layer of the branch",
                )
            )
        problems += nested_problems(self.layers, ("layers",))
        raise_problems("residual", problems)
        return self

    # -- the branch ---------------------------------------------------------------------------------------------

    def _basic_block(self, input_shape: Shape) -> tuple[list[LayerSpec], list[LayerSpec]]:
        """``(pre, branch)`` layer specs of the generated block."""
        require_rank(input_shape, (2, 3), "a generated residual block (set `layers` for vectors)")
        conv = "conv1d" if len(input_shape) == 2 else "conv2d"
        pad = self.kernel_size // 2
        common = {"filters": self.filters, "kernel_size": self.kernel_size, "padding": pad, "bias": not self.batchnorm}
        if self.init is not None:
            common["init"] = self.init
        first = {"type": conv, **common, "stride": self.stride}
        second = {"type": conv, **common}
        norm = [{"type": "batchnorm"}] if self.batchnorm else []
        if self.preactivation:  # BN-ReLU-conv-BN-ReLU-conv, the first BN-ReLU shared with a projection
            pre, branch = [*norm, {"type": "relu"}], [first, *norm, {"type": "relu"}, second]
        else:  # conv-BN-ReLU-conv-BN
            pre, branch = [], [first, *norm, {"type": "relu"}, second, *norm]
        return [resolve("layer", t) for t in pre], [resolve("layer", t) for t in branch]

    def _parts(self, input_shape: Shape) -> tuple[list[LayerSpec], list[LayerSpec], Shape]:
        """``(pre, branch, branch output shape)``, raising :class:`ShapeError` for a bad shortcut."""
        pre, branch = ([], list(self.layers)) if self.layers is not None else self._basic_block(input_shape)
        shapes = stack_shapes(branch, input_shape)
        out = shapes[-1] if shapes else tuple(input_shape)
        if self.shortcut == "identity" and tuple(out) != tuple(input_shape):
            raise ShapeError(
                f"{block_label(self)}: the identity shortcut needs the branch to keep the input's shape, "
                f"but it maps {fmt_shape(input_shape)} to {fmt_shape(out)}; set shortcut = "
                f'"projection" (or "auto")'
            )
        return pre, branch, out

    def _projects(self, input_shape: Shape, out: Shape) -> bool:
        return self.shortcut == "projection" or (self.shortcut == "auto" and tuple(out) != tuple(input_shape))

    def output_shape(self, input_shape: Shape) -> Shape:
        """The branch's output shape; checks the shortcut (identity, or a projection that exists for these shapes)."""
        _, _, out = self._parts(input_shape)
        if self._projects(input_shape, out):  # checks that a projection exists
            projection_shortcut(input_shape, out, batchnorm=False, label=block_label(self))
        return out

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`Residual` block: the branch, the shortcut (a projection where needed), the pre-activation
        layers and the activation after the sum."""
        pre, branch, out = self._parts(input_shape)
        shortcut = (
            projection_shortcut(input_shape, out, batchnorm=self.batchnorm, label=block_label(self), init=self.init)
            if self._projects(input_shape, out)
            else None
        )
        return Residual(
            build_stack(branch, input_shape),
            **self.options(
                shortcut=shortcut,
                pre=build_stack(pre, input_shape) if pre else None,
                post=activation_module(self.activation),
            ),
        )
