"""The deep autoencoder of Hinton & Salakhutdinov (2006): a stack of greedily pretrained layers "unrolled" into an
encoder and a mirror-image decoder, then fine-tuned end to end on reconstruction.

    encoder:  h_0 = x,  h_l = f_l(W_l h_{l-1} + c_l),  l = 1..K        code = h_K
    decoder:  r_K = code,  r_{l-1} = f_{l-1}(V_l r_l + b_l),  l = K..1    reconstruction r_0 (f_0: the output's)
    unrolled: V_l = W_l^T and b_l = the visible bias of the l-th pretrained module (an RBM or an autoencoder)

The decoder's weights start as the encoder's transposes but are free (untied) during fine-tuning, as in the paper.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from lamina.errors import ShapeError
from lamina.generative.autoencoders.autoencoder import (
    CODE_ACTIVATIONS,
    activate,
    check_unit_interval,
    reconstruction_error,
)
from lamina.pretrain.greedy import GreedyLayer, PretrainedLayer, pretrain_layerwise
from lamina.train.rng import resolve_device, seeded

__all__ = ["DeepAutoencoder", "code_layer_method"]

_MODULES = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


def code_layer_method(method: Any, code_activation: str = "identity") -> Any:
    """The pretraining method for a deep autoencoder's code layer when the layers below use ``method``: the paper's
    RBM with linear hidden units (``"linear_rbm"``) under a linear code for ``"rbm"`` (a name, or a table whose
    ``method`` is ``"rbm"``, keeping the table's other options), ``method`` itself otherwise (a Bernoulli RBM cannot
    pretrain linear units; Hinton & Salakhutdinov, 2006)."""
    if code_activation != "identity":
        return method
    if method == "rbm":
        return "linear_rbm"
    if isinstance(method, Mapping) and method.get("method") == "rbm":
        return {**method, "method": "linear_rbm"}
    return method


def _dense(n_in: int, n_out: int, activation: str, factory: dict[str, Any]) -> nn.Module:
    linear = nn.Linear(n_in, n_out, **factory)
    if activation == "identity":
        return linear
    return nn.Sequential(OrderedDict(linear=linear, activation=_MODULES[activation]()))


def _linear(block: nn.Module) -> nn.Linear:
    return block if isinstance(block, nn.Linear) else block.linear


def _check_activation(name: str, value: str) -> str:
    if value not in CODE_ACTIVATIONS:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, CODE_ACTIVATIONS))}, got {value!r}")
    return "identity" if value == "linear" else value


class DeepAutoencoder(nn.Module):
    """An encoder ``sizes[0] -> ... -> sizes[-1]`` and its mirror-image decoder, trained on reconstruction.

    Args:
        sizes: the encoder's layer widths from the input to the code, e.g. ``[784, 1000, 500, 250, 30]``.
        activation: the hidden layers' nonlinearity (``sigmoid``: the paper's logistic units).
        code_activation: the code layer's (``identity``: the paper's linear code units).
        activations: one nonlinearity per encoder layer, overriding the two above.
        output_activation: the reconstruction's (``sigmoid`` for data in [0, 1]).
        loss: ``cross_entropy`` (the paper's, for data in [0, 1]) or ``mse``.
        device, dtype: of the parameters.

    Build it at random (:meth:`__init__`), unroll it from pretrained modules (:meth:`unroll`), or pretrain and
    unroll in one call (:meth:`pretrained`); then fine-tune with ``lamina.Trainer(model, ...).fit(train)``.

    Shape: ``transform``: ``(N, sizes[0]) -> (N, sizes[-1])``; ``reconstruct``, ``forward``: ``(N, sizes[0]) ->
    (N, sizes[0])``; any input with ``sizes[0]`` values per example is flattened.

    Example:
        >>> ae = DeepAutoencoder.pretrained(train, [784, 1000, 500, 250, 30],
        ...                                 method={"method": "autoencoder", "epochs": 10})
        >>> lamina.Trainer(ae, optimizer="adam", epochs=50).fit(train)
        >>> codes = ae.transform(test.x)

    References:
        Hinton & Salakhutdinov, "Reducing the dimensionality of data with neural networks", Science 313, 2006.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        *,
        activation: str = "sigmoid",
        code_activation: str = "identity",
        activations: Sequence[str] | None = None,
        output_activation: str = "sigmoid",
        loss: str = "cross_entropy",
        device: Any = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        sizes = list(sizes)
        if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
            raise ValueError(f"`sizes` must be two or more positive integers (input, ..., code), got {sizes!r}")
        depth = len(sizes) - 1
        if activations is None:
            activations = [activation] * (depth - 1) + [code_activation]
        activations = [_check_activation("activations", a) for a in activations]
        if len(activations) != depth:
            raise ValueError(
                f"`activations` must give one nonlinearity per encoder layer ({depth}), got {len(activations)}"
            )
        if loss not in ("cross_entropy", "mse"):
            raise ValueError(f"`loss` must be 'cross_entropy' or 'mse', got {loss!r}")
        output_activation = _check_activation("output_activation", output_activation)
        if loss == "cross_entropy" and output_activation != "sigmoid":
            raise ValueError(
                f"a cross-entropy reconstruction needs a sigmoid output; `output_activation` is {output_activation!r}"
            )
        self.sizes, self.activations = sizes, activations
        self.output_activation, self.loss = output_activation, loss
        factory = {"device": device, "dtype": dtype}
        self.encoder = nn.Sequential(
            OrderedDict((f"dense_{i}", _dense(sizes[i], sizes[i + 1], activations[i], factory)) for i in range(depth))
        )
        # decoder block j mirrors encoder layer l = depth-1-j; its nonlinearity is that of the layer below l,
        # and the last block is linear: the output nonlinearity is applied by reconstruct() (cross-entropy
        # works on the pre-activation)
        below = [None, *activations[:-1]]
        self.decoder = nn.Sequential(
            OrderedDict(
                (f"dense_{j}", _dense(sizes[l + 1], sizes[l], below[l] or "identity", factory))
                for j, l in enumerate(reversed(range(depth)))
            )
        )

    # -- building from pretrained modules ---------------------------------------------------------------------

    @classmethod
    def unroll(
        cls,
        layers: Sequence[GreedyLayer],
        *,
        activations: Sequence[str] | None = None,
        output_activation: str = "sigmoid",
        loss: str = "cross_entropy",
    ) -> DeepAutoencoder:
        """The deep autoencoder of a stack of pretrained modules (RBMs, autoencoders: anything with ``weight``
        ``(n_hidden, n_visible)``, ``hidden_bias`` and ``visible_bias``): encoder ``W_l, c_l``, decoder
        ``W_l^T, b_l``.

        Args:
            layers: bottom first; layer ``l``'s visible units are layer ``l-1``'s hidden units.
            activations: each layer's hidden nonlinearity; default: each module's ``activation`` attribute
                (lamina's autoencoders), else ``sigmoid`` (an RBM's logistic hidden units).

        Raises:
            ShapeError: the modules' sizes do not chain.
        """
        if not layers:
            raise ValueError("`layers` must hold at least one pretrained module")
        sizes = [int(layers[0].weight.shape[1])]
        for i, layer in enumerate(layers):
            n_hidden, n_visible = layer.weight.shape
            if n_visible != sizes[-1]:
                raise ShapeError(
                    f"layers[{i}] has {n_visible} visible units but the layer below it (layers[{i - 1}]) "
                    f"has {sizes[-1]} hidden units: a stack's sizes must chain (each module's input "
                    "is the one below's code)"
                )
            sizes.append(int(n_hidden))
        if activations is None:
            activations = [
                getattr(m, "activation", "sigmoid") if isinstance(getattr(m, "activation", None), str) else "sigmoid"
                for m in layers
            ]
        first = layers[0].weight
        model = cls(
            sizes,
            activations=activations,
            output_activation=output_activation,
            loss=loss,
            device=first.device,
            dtype=first.dtype,
        )
        model.load_pretrained(layers)
        return model

    @torch.no_grad()
    def load_pretrained(self, layers: Sequence[GreedyLayer]) -> None:
        """Copy pretrained modules in: encoder layer ``l`` gets ``W_l, c_l``, its mirror ``W_l^T, b_l``."""
        depth = len(self.sizes) - 1
        if len(layers) != depth:
            raise ShapeError(f"this deep autoencoder has {depth} encoder layers, got {len(layers)} pretrained modules")
        for l, layer in enumerate(layers):
            enc, dec = _linear(self.encoder[l]), _linear(self.decoder[depth - 1 - l])
            if tuple(layer.weight.shape) != tuple(enc.weight.shape):
                raise ShapeError(
                    f"layers[{l}] has weights {tuple(layer.weight.shape)}, encoder layer {l} needs "
                    f"{tuple(enc.weight.shape)} (n_hidden, n_visible)"
                )
            enc.weight.copy_(layer.weight)
            enc.bias.copy_(layer.hidden_bias)
            dec.weight.copy_(layer.weight.T)
            dec.bias.copy_(layer.visible_bias)

    @classmethod
    def pretrained(
        cls,
        data: Any,
        sizes: Sequence[int],
        *,
        method: Any = "rbm",
        device: Any = "auto",
        seed: int | None = 0,
        callbacks: list | None = None,
        **options: Any,
    ) -> DeepAutoencoder:
        """Pretrain the encoder greedily (:func:`~lamina.pretrain.pretrain_layerwise` over every layer, the code
        layer included) and unroll it.

        Args:
            data: the training inputs (an ``ArrayDataset`` or a tensor).
            sizes: as :meth:`__init__`.
            method: a registered pretraining method (``"rbm"``, ``"autoencoder"``, a table, a spec), or a list of
                them, one per layer. ``"rbm"`` with a linear code layer is the paper's stack: Bernoulli RBMs, and
                an RBM with linear hidden units (``"linear_rbm"``) for the code.
            options: the constructor's (``activation``, ``code_activation``, ``loss``, ...).

        Returns:
            The unrolled model; :attr:`pretrained_layers` keeps the driver's per-layer records.
        """
        device = resolve_device(device)
        with seeded(seed):
            model = cls(sizes, device=device, **options)
        if isinstance(method, (str, Mapping)):
            code = code_layer_method(method, options.get("code_activation", "identity"))
            method = [method] * (len(sizes) - 2) + [code]
        records: list[PretrainedLayer] = pretrain_layerwise(
            model.encoder, data, method, device=device, seed=seed, callbacks=callbacks, include_last=True
        )
        model.load_pretrained([r.module for r in records])
        model.pretrained_layers = records
        return model

    # -- the maps ---------------------------------------------------------------------------------------------

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(len(x), -1) if x.dim() != 2 else x
        if x.shape[1] != self.sizes[0]:
            raise ShapeError(f"DeepAutoencoder expects {self.sizes[0]} inputs per example, got {x.shape[1]}")
        return x

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """The code: ``(N, sizes[0]) -> (N, sizes[-1])``."""
        return self.encoder(self._flat(x))

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        """The reconstruction of a code: ``(N, sizes[-1]) -> (N, sizes[0])``."""
        return activate(self.decoder(code), self.output_activation)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``decode(transform(x))``."""
        return self.decode(self.transform(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction (:meth:`reconstruct`)."""
        return self.reconstruct(x)

    def objective(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction loss of each example (summed over the inputs), ``(N,)``."""
        x = self._flat(x)
        if self.loss == "cross_entropy":
            check_unit_interval(x)
        return reconstruction_error(
            self.decoder(self.encoder(x)), x, loss=self.loss, output_activation=self.output_activation
        )

    def training_loss(self, batch: Any) -> torch.Tensor:
        """The mean reconstruction loss of ``batch = (x, y)`` (``y`` is ignored)."""
        return self.objective(batch[0] if isinstance(batch, (tuple, list)) else batch).mean()

    @torch.no_grad()
    def validation_metrics(self, batch: Any) -> dict[str, torch.Tensor]:
        """``loss`` and ``squared_error``: the squared reconstruction error per example, summed over the inputs
        (the paper's "average squared reconstruction error per image")."""
        x = self._flat(batch[0] if isinstance(batch, (tuple, list)) else batch)
        return {"loss": self.objective(x).mean(), "squared_error": (self.reconstruct(x) - x).pow(2).sum(dim=1).mean()}

    def extra_repr(self) -> str:
        return (
            f"sizes={self.sizes}, activations={self.activations}, output_activation={self.output_activation!r}, "
            f"loss={self.loss!r}"
        )
