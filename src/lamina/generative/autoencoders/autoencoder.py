"""The autoencoder: a one-hidden-layer network trained to reproduce its input (Rumelhart, Hinton & Williams,
1986; Bourlard & Kamp, 1988; Bengio, Lamblin, Popovici & Larochelle, 2007).

    h = f(W x + c)                  encoder, W: (n_hidden, n_visible)
    r = g(W' h + b)                 decoder, W' = W^T (tied) or a matrix of its own (untied)
    L(x) = ||r - x||^2              squared error, or
    L(x) = -sum_i x_i log r_i + (1 - x_i) log(1 - r_i)     cross-entropy (g = sigmoid, x in [0, 1])

summed over the inputs and averaged over the batch. The regularised variants (denoising, sparse, contractive) add
a corruption or a penalty through two hooks, :meth:`Autoencoder.corrupt` and :meth:`Autoencoder.penalty`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import torch
import torch.nn.functional as F
from torch import nn

from lamina.config.component import Bounds, Choices, validated
from lamina.errors import DataError, ShapeError
from lamina.pretrain.greedy import GreedyLayer

__all__ = [
    "Autoencoder",
    "CODE_ACTIVATIONS",
    "activate",
    "activation_derivative",
    "reconstruction_error",
    "check_unit_interval",
]

# the code (and decoder) nonlinearities the autoencoders implement in closed form; "linear" is "identity"
CODE_ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity", "linear")
_LOSSES = ("auto", "cross_entropy", "mse")


def activate(a: torch.Tensor, activation: str) -> torch.Tensor:
    """``f(a)`` for ``sigmoid``, ``tanh``, ``relu`` or ``identity`` (``linear``)."""
    if activation == "sigmoid":
        return torch.sigmoid(a)
    if activation == "tanh":
        return torch.tanh(a)
    if activation == "relu":
        return torch.relu(a)
    return a


def activation_derivative(a: torch.Tensor, h: torch.Tensor, activation: str) -> torch.Tensor:
    """``f'(a)`` from the pre-activation ``a`` and the unit's output ``h = f(a)``:
    sigmoid ``h (1 - h)``, tanh ``1 - h^2``, relu ``1[a > 0]``, identity ``1``."""
    if activation == "sigmoid":
        return h * (1 - h)
    if activation == "tanh":
        return 1 - h * h
    if activation == "relu":
        return (a > 0).to(a.dtype)
    return torch.ones_like(a)


def reconstruction_error(
    decoder_preactivation: torch.Tensor, x: torch.Tensor, *, loss: str, output_activation: str
) -> torch.Tensor:
    """The reconstruction loss of each example, ``(N,)``: summed over the inputs.

    ``cross_entropy`` is computed from the decoder's pre-activation (``binary_cross_entropy_with_logits``), which
    is exact where ``log sigmoid`` of a large negative number would underflow.
    """
    if loss == "cross_entropy":
        return F.binary_cross_entropy_with_logits(decoder_preactivation, x, reduction="none").sum(dim=1)
    return (activate(decoder_preactivation, output_activation) - x).pow(2).sum(dim=1)


def check_unit_interval(x: torch.Tensor, what: str = "a cross-entropy reconstruction loss") -> None:
    """Refuse data outside [0, 1]: cross-entropy treats each input as the probability of a binary pixel."""
    lo, hi = torch.aminmax(x.detach())
    if lo < 0 or hi > 1:
        raise DataError(
            f"{what} needs inputs in [0, 1] (each read as the probability that a binary input is on), got values "
            f'in [{float(lo):.4g}, {float(hi):.4g}]; scale the data to [0, 1] (datasets: scale = "unit"), or use '
            'loss = "mse" with a linear decoder for real-valued inputs (e.g. the output of ReLU or linear units)'
        )


def _glorot_(weight: torch.Tensor, activation: str) -> torch.Tensor:
    # U(-a, a), a = sqrt(6 / (fan_in + fan_out)), four times wider for logistic units (Glorot & Bengio, 2010)
    bound = math.sqrt(6.0 / sum(weight.shape)) * (4.0 if activation == "sigmoid" else 1.0)
    with torch.no_grad():
        return weight.uniform_(-bound, bound)


class Autoencoder(GreedyLayer):
    """An autoencoder with tied or untied weights: ``h = f(W x + c)``, ``r = g(W' h + b)``.

    Args:
        n_visible: inputs (and reconstructed outputs).
        n_hidden: code units.
        tied: decode with ``W^T`` (Bengio et al., 2007; Vincent et al., 2008) instead of a matrix of its own.
        activation: the code's nonlinearity ``f``: ``sigmoid``, ``tanh``, ``relu`` or ``identity`` (``linear``).
        loss: ``cross_entropy`` (inputs in [0, 1], sigmoid decoder), ``mse`` (squared error), or ``auto`` (the
            default): cross-entropy if the training inputs lie in [0, 1], else squared error with a linear decoder,
            decided by :meth:`prepare` (the greedy driver calls it with each layer's training set) or the first
            batch.
        output_activation: the decoder's nonlinearity ``g``; default: ``sigmoid`` for cross-entropy, ``identity``
            for squared error.
        device, dtype: of the parameters.

    Shape: ``transform``: ``(N, n_visible) -> (N, n_hidden)``; ``reconstruct`` and ``forward``:
    ``(N, n_visible) -> (N, n_visible)``. Inputs of any shape with ``n_visible`` values per example
    (``(N, 1, 28, 28)``) are flattened.

    Attributes:
        weight: ``(n_hidden, n_visible)``, U(-a, a) with Glorot's ``a`` (times 4 for sigmoid codes).
        hidden_bias, visible_bias: zeros.
        decoder_weight: ``(n_visible, n_hidden)``, untied only.

    Example:
        >>> ae = Autoencoder(784, 256, loss="cross_entropy")
        >>> lamina.Trainer(ae, optimizer="adam", epochs=10).fit(train)   # minimises ae.training_loss
        >>> codes = ae.transform(test.x)

    References:
        Bourlard & Kamp, "Auto-association by multilayer perceptrons and singular value decomposition", 1988.
        Bengio, Lamblin, Popovici & Larochelle, "Greedy layer-wise training of deep networks", NIPS 2007.
    """

    @validated
    def __init__(
        self,
        n_visible: Annotated[int, Bounds(ge=1)],
        n_hidden: Annotated[int, Bounds(ge=1)],
        *,
        tied: bool = True,
        activation: Annotated[str, Choices(*CODE_ACTIVATIONS)] = "sigmoid",
        loss: Annotated[str, Choices(*_LOSSES)] = "auto",
        output_activation: Annotated[str | None, Choices(*CODE_ACTIVATIONS)] = None,
        device: Any = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if loss == "cross_entropy" and output_activation not in (None, "sigmoid"):
            raise ValueError(
                f"a cross-entropy reconstruction needs a sigmoid decoder (outputs in (0, 1)); "
                f"`loss` is 'cross_entropy' but `output_activation` is {output_activation!r}"
            )
        self.n_visible, self.n_hidden, self.tied = n_visible, n_hidden, tied
        self.activation = "identity" if activation == "linear" else activation
        self.loss, self.output_activation = loss, output_activation
        if loss != "auto":
            self._settle_loss(loss)
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(_glorot_(torch.empty(n_hidden, n_visible, **factory), self.activation))
        self.hidden_bias = nn.Parameter(torch.zeros(n_hidden, **factory))
        self.visible_bias = nn.Parameter(torch.zeros(n_visible, **factory))
        if not tied:
            self.decoder_weight = nn.Parameter(_glorot_(torch.empty(n_visible, n_hidden, **factory), "identity"))

    def _settle_loss(self, loss: str) -> None:
        self.loss = loss
        if self.output_activation is None:
            self.output_activation = "sigmoid" if loss == "cross_entropy" else "identity"
        self.output_activation = "identity" if self.output_activation == "linear" else self.output_activation

    # -- the maps -----------------------------------------------------------------------------------------------

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(len(x), -1) if x.dim() != 2 else x
        if x.shape[1] != self.n_visible:
            raise ShapeError(f"{type(self).__name__} expects {self.n_visible} inputs per example, got {x.shape[1]}")
        return x

    def encoder_preactivation(self, x: torch.Tensor) -> torch.Tensor:
        """``a = W x + c``: ``(N, n_visible) -> (N, n_hidden)``."""
        return F.linear(self._flat(x), self.weight, self.hidden_bias)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """The code ``h = f(W x + c)``: ``(N, n_visible) -> (N, n_hidden)``."""
        return activate(self.encoder_preactivation(x), self.activation)

    def decoder_matrix(self) -> torch.Tensor:
        """``W'``, ``(n_visible, n_hidden)``: ``W^T`` when tied."""
        return self.weight.T if self.tied else self.decoder_weight

    def decoder_preactivation(self, h: torch.Tensor) -> torch.Tensor:
        """``W' h + b``: ``(N, n_hidden) -> (N, n_visible)``."""
        return F.linear(h, self.decoder_matrix(), self.visible_bias)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """The reconstruction ``r = g(W' h + b)`` of a code."""
        if self.loss == "auto":
            raise RuntimeError("loss='auto' is decided by prepare(x) or the first training batch; train first")
        return activate(self.decoder_preactivation(h), self.output_activation)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``g(W' f(W x + c) + b)`` of the clean input: ``(N, n_visible) -> (N, n_visible)``."""
        return self.decode(self.transform(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction (:meth:`reconstruct`)."""
        return self.reconstruct(x)

    # -- training -----------------------------------------------------------------------------------------------

    def prepare(self, x: torch.Tensor) -> None:
        """Settle ``loss="auto"`` from the training inputs and check them against the loss (called by the greedy
        driver with the layer's whole training set before training)."""
        x = self._flat(x)
        if self.loss == "auto":
            lo, hi = torch.aminmax(x.detach())
            self._settle_loss("cross_entropy" if 0 <= lo and hi <= 1 else "mse")
        elif self.loss == "cross_entropy":
            check_unit_interval(x)

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        """The input the encoder sees during training (the denoising autoencoder corrupts it)."""
        return x

    def penalty(self, x: torch.Tensor, a: torch.Tensor, h: torch.Tensor) -> torch.Tensor | None:
        """A regulariser added to the batch's mean reconstruction loss, from the encoder's input ``x``,
        pre-activation ``a`` and code ``h`` (sparse and contractive autoencoders); ``None`` for none."""
        return None

    def objective(self, x: torch.Tensor, *, corrupt: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """``(loss, reconstruction error per example)`` on a batch: the mean reconstruction error of the clean
        ``x`` from (optionally corrupted) inputs, plus the penalty."""
        x = self._flat(x)
        if self.loss == "auto":
            self.prepare(x)
        elif self.loss == "cross_entropy":
            check_unit_interval(x)
        seen = self.corrupt(x) if corrupt else x
        a = self.encoder_preactivation(seen)
        h = activate(a, self.activation)
        per_example = reconstruction_error(
            self.decoder_preactivation(h), x, loss=self.loss, output_activation=self.output_activation
        )
        loss = per_example.mean()
        penalty = self.penalty(seen, a, h)
        return (loss if penalty is None else loss + penalty), per_example

    def training_loss(self, batch: Any) -> torch.Tensor:
        """The training objective on ``batch = (x, y)`` (``y`` is ignored)."""
        return self.objective(batch[0] if isinstance(batch, (tuple, list)) else batch)[0]

    @torch.no_grad()
    def validation_metrics(self, batch: Any) -> dict[str, torch.Tensor]:
        """``loss`` (the objective on clean inputs) and ``squared_error`` (per example, summed over inputs)."""
        x = self._flat(batch[0] if isinstance(batch, (tuple, list)) else batch)
        loss, _ = self.objective(x, corrupt=False)
        return {"loss": loss, "squared_error": (self.reconstruct(x) - x).pow(2).sum(dim=1).mean()}

    def extra_repr(self) -> str:
        return (
            f"n_visible={self.n_visible}, n_hidden={self.n_hidden}, tied={self.tied}, "
            f"activation={self.activation!r}, loss={self.loss!r}, output_activation={self.output_activation!r}"
        )
