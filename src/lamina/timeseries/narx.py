"""NARX: the nonlinear autoregressive network with exogenous inputs.

``y(t+1) = F(y(t), ..., y(t-n_y+1), u(t+1-d), ..., u(t-d-n_u+2))`` with ``F`` a multilayer perceptron.

It is trained open-loop (the *series-parallel* configuration of Narendra & Parthasarathy, 1990): the fed-back
lags are the measured values (teacher forcing), so training is plain regression on lag windows. It is run
closed-loop (*parallel*) to forecast several steps: :func:`~lamina.timeseries.forecast` feeds each prediction
back into the output lags. Without exogenous inputs it is a nonlinear autoregression (NAR), the same function
class as a :class:`~lamina.timeseries.TDNN`; with no hidden layer and linear units it is a linear ARX model whose
least-squares fit is ``numpy.linalg.lstsq`` on the lag matrix (``tests/timeseries/test_narx.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import torch
from pydantic import Field
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import component
from lamina.errors import ShapeError
from lamina.nn.spec import LayerSpec, Shape, fmt_shape, require_rank
from lamina.registry import register
from lamina.timeseries.tdnn import mlp
from lamina.timeseries.windows import WindowSpec

__all__ = ["NARX", "NARXSpec"]


class NARX(nn.Module):
    """A NARX network: an MLP on the output lags and the exogenous lags.

    Args:
        output_lags: fed-back lags of the series ``n_y``.
        exogenous_lags: lags of the exogenous inputs ``n_u`` (0: a NAR model).
        exogenous_features: values of ``u`` per time step.
        hidden: units of each hidden layer; ``()`` gives a linear ARX model.
        outputs: values predicted at once (the dataset's ``horizon``).
        delay: 1 (the newest exogenous lag is ``u(t)``) or 0 (``u(t+1)``, the input at the predicted step); the
            dataset's exogenous ``delay``.
        activation: of the hidden units (``"tanh"``; ``"identity"`` for a linear network).
        device, dtype: of the parameters.

    Shape:
        ``forward(x)``: ``x`` the flat window ``(N, n_y + n_u * features)`` (``[data] layout = "flat"``), or
        ``forward(y_lags, u_lags)`` with ``(N, n_y)`` and ``(N, n_u, features)``; returns ``(N, outputs)``.

    ``outputs`` was ``horizon``: the keyword is the experiment file's key.

    Attributes:
        window: the :class:`~lamina.timeseries.WindowSpec` of its inputs.

    Example:
        >>> model = NARX(output_lags=4, exogenous_lags=2, exogenous_features=1, hidden=(10,))
        >>> forecast(model, y_past, steps=20, exogenous=u_past, future_exogenous=u_next)

    References:
        Leontaritis & Billings (1985), Input-output parametric models for non-linear systems. Int. J. Control 41.
        Narendra & Parthasarathy (1990), Identification and control of dynamical systems using neural networks.
        IEEE Trans. Neural Networks 1(1).
        Lin, Horne, Tino & Giles (1996), Learning long-term dependencies in NARX recurrent neural networks. IEEE TNN 7.
    """

    @validated(renamed={"horizon": "outputs"})
    def __init__(
        self,
        output_lags: Annotated[int, Bounds(ge=1)],
        *,
        exogenous_lags: Annotated[int, Bounds(ge=0)] = 0,
        exogenous_features: Annotated[int, Bounds(ge=1)] = 1,
        hidden: Annotated[Sequence[int], Bounds(ge=1)] = (8,),
        outputs: Annotated[int, Bounds(ge=1)] = 1,
        delay: Annotated[int, Bounds(ge=0, le=1)] = 1,
        activation: str | nn.Module | None = "tanh",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.window = WindowSpec(output_lags, outputs, 1, exogenous_lags, delay, "flat")
        self.output_lags, self.exogenous_lags = output_lags, exogenous_lags
        self.exogenous_features = exogenous_features if exogenous_lags else 0
        self.hidden, self.horizon = tuple(hidden), outputs
        self.in_features = output_lags + exogenous_lags * self.exogenous_features
        self.net = mlp(self.in_features, self.hidden, outputs, activation, device=device, dtype=dtype)

    def forward(self, x: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        if u is not None:
            if x.dim() != 2 or x.shape[1] != self.output_lags:
                raise ShapeError(f"NARX expects output lags of shape (N, {self.output_lags}), got {tuple(x.shape)}")
            x = torch.cat([x, u.reshape(len(u), -1)], dim=1)
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ShapeError(
                f"NARX expects a flat window of {self.output_lags} output lags + {self.exogenous_lags} exogenous lags "
                f"x {self.exogenous_features} feature(s) = {self.in_features} values, shape (N, {self.in_features}), "
                f"got {tuple(x.shape)}"
            )
        return self.net(x)

    def extra_repr(self) -> str:
        return (
            f"output_lags={self.output_lags}, exogenous_lags={self.exogenous_lags}, "
            f"exogenous_features={self.exogenous_features}, hidden={self.hidden}, outputs={self.horizon}"
        )


@register("layer", "narx")
class NARXSpec(spec_base(NARX, LayerSpec, exclude=("exogenous_features", "activation", "device", "dtype"))):  # type: ignore[misc]  # spec_base's base
    """A NARX network as one layer, on the dataset's flat windows
    (``{ type = "narx", output_lags = 12, exogenous_lags = 2, hidden = [10] }``); the lags must match the
    dataset's ``lags`` and ``exogenous_lags``, and the window's width gives ``exogenous_features``.
    ``output_lags``, ``exogenous_lags``, ``hidden``, ``outputs`` and ``delay`` are :class:`NARX`'s, with its
    defaults and bounds (``delay`` is kept for forecasting from Python).

    Args:
        activation: of the hidden units; the network gets its module.

    Shape: ``(N, output_lags + exogenous_lags * features)`` -> ``(N, outputs)``.
    """

    activation: component("activation") = Field("tanh", validate_default=True)

    def _features(self, input_shape: Shape) -> int:
        require_rank(input_shape, 1, "a narx layer (a flat window)", hint='; use [data] layout = "flat"')
        width, extra = input_shape[0], input_shape[0] - self.output_lags
        if self.exogenous_lags == 0:
            if extra != 0:
                raise ShapeError(
                    f"expects {self.output_lags} output lags and no exogenous ones, a window of "
                    f"shape ({self.output_lags},), got {fmt_shape(input_shape)}"
                )
            return 1
        if extra <= 0 or extra % self.exogenous_lags:
            raise ShapeError(
                f"expects {self.output_lags} output lags + {self.exogenous_lags} exogenous lags x "
                f"features, got a window of {width} values, which does not split so"
            )
        return extra // self.exogenous_lags

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(output_lags + exogenous_lags * features,) -> (outputs,)``; checks that the window splits so."""
        self._features(input_shape)
        return (self.outputs,)

    def build(self, input_shape: Shape) -> nn.Module:
        """A :class:`NARX` network for these lags, with the exogenous features per step read off the window width."""
        features = self._features(input_shape)
        return NARX(exogenous_features=features, **self.options(activation=self.activation.module()))
