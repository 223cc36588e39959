"""The time-delay neural network as a forecaster: a multilayer perceptron reading a tapped delay line of the series.

``yhat(t+1..t+h) = W_L f(... f(W_1 [y(t-(p-1)s), ..., y(t-s), y(t)] + b_1) ...) + b_L``

This is the network of Lapedes & Farber (1987) and Weigend, Huberman & Rumelhart (1990) (12-8-1 on the
sunspots); Waibel et al. (1989) gave the name to the same tapped delay line shared across time.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Annotated

import torch
from pydantic import Field
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import component
from lamina.errors import ShapeError
from lamina.nn.spec import LayerSpec, Shape, fmt_shape, require_rank
from lamina.registry import register, resolve
from lamina.timeseries.windows import WindowSpec

__all__ = ["TDNN", "TDNNSpec", "mlp", "activation_of"]


def activation_of(activation: str | nn.Module | None) -> nn.Module:
    """An activation module from a registered name (``"tanh"``, ``"sigmoid"``, ``"identity"``/``"linear"``, ...),
    a module (used as is), or ``None`` (the identity)."""
    if activation is None:
        return nn.Identity()
    if isinstance(activation, nn.Module):
        return activation
    return resolve("activation", activation, path="activation").module()


def mlp(
    in_features: int,
    hidden: Sequence[int],
    out_features: int,
    activation: str | nn.Module | None,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> nn.Sequential:
    """``Linear -> f -> ... -> Linear``: hidden layers of ``hidden`` units with activation ``f``, a linear output.
    ``hidden = ()`` is one affine map (a linear autoregression)."""
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    width = in_features
    for i, units in enumerate(hidden):
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"`hidden` sizes must be positive integers, got {list(hidden)!r}")
        layers[f"hidden{i}"] = nn.Linear(width, units, device=device, dtype=dtype)
        layers[f"act{i}"] = activation_of(activation)
        width = units
    layers["output"] = nn.Linear(width, out_features, device=device, dtype=dtype)
    return nn.Sequential(layers)


class TDNN(nn.Module):
    """A multilayer perceptron on a tapped delay line.

    Args:
        lags: taps of the delay line ``p``.
        hidden: units of each hidden layer (``(8,)``: Weigend's 12-8-1 with ``lags=12``).
        outputs: values predicted at once ``h``, the next ``h`` steps (the dataset's ``horizon``).
        spacing: time steps between taps ``s`` (only used to cut windows and forecast; the network sees ``p``
            values either way).
        features: values per tap (1 for a univariate series).
        activation: of the hidden units (a registered name; ``"tanh"`` by default).
        device, dtype: of the parameters.

    Shape:
        ``(N, lags)`` or ``(N, lags, features)`` -> ``(N, outputs)``.

    ``outputs`` was ``horizon``: the keyword is the experiment file's key.

    Attributes:
        window: the :class:`~lamina.timeseries.WindowSpec` that :func:`~lamina.timeseries.forecast` cuts inputs with.

    Example:
        >>> model = TDNN(lags=12, hidden=(8,))
        >>> model(torch.zeros(5, 12)).shape
        torch.Size([5, 1])

    References:
        Lapedes & Farber (1987), Nonlinear signal processing using neural networks. LA-UR-87-2662.
        Waibel, Hanazawa, Hinton, Shikano & Lang (1989), Phoneme recognition using time-delay neural networks.
        Weigend, Huberman & Rumelhart (1990), Predicting the future: a connectionist approach. IJNS 1(3).
    """

    @validated(renamed={"horizon": "outputs"})
    def __init__(
        self,
        lags: Annotated[int, Bounds(ge=1)],
        hidden: Annotated[Sequence[int], Bounds(ge=1)] = (8,),
        *,
        outputs: Annotated[int, Bounds(ge=1)] = 1,
        spacing: Annotated[int, Bounds(ge=1)] = 1,
        features: Annotated[int, Bounds(ge=1)] = 1,
        activation: str | nn.Module | None = "tanh",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.window = WindowSpec(
            lags, outputs, spacing, lags if features > 1 else 0, 1, "sequence" if features > 1 else "flat"
        )
        self.lags, self.features, self.horizon = lags, features, outputs
        self.hidden = tuple(hidden)
        self.net = mlp(lags * features, self.hidden, outputs, activation, device=device, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() not in (2, 3) or math.prod(x.shape[1:]) != self.lags * self.features:
            per = f"(N, {self.lags})" if self.features == 1 else f"(N, {self.lags}, {self.features})"
            raise ShapeError(
                f"TDNN expects windows of {self.lags} lags x {self.features} feature(s), shape {per}, "
                f"got {tuple(x.shape)}"
            )
        return self.net(x.reshape(len(x), -1))

    def extra_repr(self) -> str:
        return f"lags={self.lags}, features={self.features}, hidden={self.hidden}, outputs={self.horizon}"


# what the dataset's window gives (spacing only cuts windows, which the dataset does), and what is not a number
_FROM_THE_WINDOW = ("lags", "spacing", "features", "activation", "device", "dtype")


@register("layer", "tdnn")
class TDNNSpec(spec_base(TDNN, LayerSpec, exclude=_FROM_THE_WINDOW)):  # type: ignore[misc]  # spec_base's base
    """A tapped-delay-line MLP forecaster as one layer (``{ type = "tdnn", hidden = [8] }``); the delay line is the
    dataset's window (``[data] lags = 12``), which gives ``lags`` and ``features``. ``hidden`` and ``outputs`` are
    :class:`TDNN`'s, with its defaults and bounds.

    Args:
        activation: of the hidden units; the network gets its module.

    Shape: ``(N, lags)`` or ``(N, lags, features)`` -> ``(N, outputs)``.
    """

    activation: component("activation") = Field("tanh", validate_default=True)

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(lags,)`` or ``(lags, features)`` -> ``(outputs,)``."""
        require_rank(input_shape, (1, 2), "a tdnn layer: (lags,) or (lags, features)")
        return (self.outputs,)

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`TDNN` over the window's lags and features."""
        self.output_shape(input_shape)
        features = input_shape[1] if len(input_shape) == 2 else 1
        if input_shape[0] < 1 or features < 1:
            raise ShapeError(f"expects at least one lag, got {fmt_shape(input_shape)}")
        return TDNN(input_shape[0], features=features, **self.options(activation=self.activation.module()))
