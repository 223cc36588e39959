"""The simple recurrent network of Elman (1990) as a forecaster, trained by truncated back-propagation through time.

``h_t = f(W x_t + U h_{t-1} + b)`` (the context units ``h_{t-1}`` are a copy of the previous hidden state),
``yhat = V h_L + c`` read out after the last step of the window.

Elman used logistic units; ``tanh(z) = 2 sigma(2z) - 1``, so a tanh network is the same function class up to a
rescaling of the weights, and it is what cuDNN's fused RNN kernel (``torch.nn.RNN``, used here) runs.
"""

from __future__ import annotations

from typing import Annotated

import torch
from torch import nn

from lamina.config.component import Bounds, Choices, spec_base, validated
from lamina.errors import ShapeError
from lamina.nn.spec import LayerSpec, Shape, require_rank
from lamina.registry import register
from lamina.timeseries.windows import WindowSpec

__all__ = ["Elman", "ElmanSpec"]


class Elman(nn.Module):
    """Elman's simple recurrent network with a linear read-out of the last context.

    Truncated BPTT (Williams & Peng, 1990): the context is reset to zero at the start of each window; with
    ``bptt = k`` shorter than the window, the first ``L - k`` steps only build up the context (no gradient flows
    through them) and the error is back-propagated through the last ``k`` steps. ``bptt = 1`` is Elman's own
    scheme, the context treated as a fixed extra input; ``bptt = None`` back-propagates through the whole window.

    Args:
        input_size: features per time step (1 for a univariate series).
        units: context (hidden) units.
        outputs: values predicted (the dataset's ``horizon``).
        bptt: steps of truncated back-propagation through time, the gradient flowing back through them (``None``:
            the whole window).
        nonlinearity: ``"tanh"`` or ``"relu"``.
        lags: the window length it is trained on; sets :attr:`window` for :func:`~lamina.timeseries.forecast`.
        device, dtype: of the parameters.

    Shape:
        ``(N, L)`` (univariate) or ``(N, L, input_size)`` -> ``(N, outputs)``.

    ``units`` was ``hidden``: the keyword is the experiment file's key.

    References:
        Elman (1990), Finding structure in time. Cognitive Science 14.
        Williams & Peng (1990), An efficient gradient-based algorithm for on-line training of recurrent network
        trajectories. Neural Computation 2.
    """

    @validated(renamed={"hidden": "units"})
    def __init__(
        self,
        input_size: Annotated[int, Bounds(ge=1)] = 1,
        units: Annotated[int, Bounds(ge=1)] = 8,
        *,
        outputs: Annotated[int, Bounds(ge=1)] = 1,
        bptt: Annotated[int | None, Bounds(ge=1)] = None,
        nonlinearity: Annotated[str, Choices("tanh", "relu")] = "tanh",
        lags: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.outputs, self.bptt = input_size, units, outputs, bptt
        self.rnn = nn.RNN(input_size, units, nonlinearity=nonlinearity, batch_first=True, device=device, dtype=dtype)
        self.readout = nn.Linear(units, outputs, device=device, dtype=dtype)
        self.window = (
            None if lags is None else WindowSpec(lags, outputs, 1, lags if input_size > 1 else 0, 1, "sequence")
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2 and self.input_size == 1:
            x = x.unsqueeze(-1)  # (N, L) -> (N, L, 1)
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ShapeError(
                f"Elman expects windows of shape (N, L, {self.input_size})"
                + (" or (N, L)" if self.input_size == 1 else "")
                + f", got {tuple(x.shape)}"
            )
        steps = x.shape[1]
        k = steps if self.bptt is None else min(self.bptt, steps)
        h = None
        if k < steps:
            with torch.no_grad():  # the truncated part: it sets the context, no gradient flows through it
                _, h = self.rnn(x[:, : steps - k])
        out, _ = self.rnn(x[:, steps - k :], h)  # (N, k, H)
        return self.readout(out[:, -1])

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, units={self.hidden_size}, outputs={self.outputs}, bptt={self.bptt}"


@register("layer", "elman")
class ElmanSpec(spec_base(Elman, LayerSpec, exclude=("input_size", "lags", "device", "dtype"))):  # type: ignore[misc]  # spec_base's base
    """Elman's simple recurrent network with a linear read-out, as one layer
    (``{ type = "elman", units = 8, bptt = 4 }``) on the dataset's windows (``layout = "sequence"``, or a flat
    univariate window). ``units``, ``outputs``, ``bptt`` and ``nonlinearity`` are :class:`Elman`'s, with its
    defaults and bounds; the window gives ``input_size`` and ``lags``.

    Shape: ``(N, L)`` or ``(N, L, features)`` -> ``(N, outputs)``.
    """

    def output_shape(self, input_shape: Shape) -> Shape:
        """``(L,)`` or ``(L, features)`` -> ``(outputs,)``."""
        require_rank(input_shape, (1, 2), "an elman layer: (steps,) or (steps, features)")
        return (self.outputs,)

    def build(self, input_shape: Shape) -> nn.Module:
        """An :class:`Elman` network over the window's features, trained on windows of the input's length."""
        self.output_shape(input_shape)
        features = input_shape[1] if len(input_shape) == 2 else 1
        return Elman(features, lags=input_shape[0], **self.options())
