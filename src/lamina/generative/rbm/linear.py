"""An RBM with linear (Gaussian) hidden units, for the linear code layer of a deep autoencoder, and its
``[pretrain] method = "linear_rbm"`` (Hinton & Salakhutdinov, 2006).

The top RBM of Hinton & Salakhutdinov's autoencoder has Bernoulli visible units and real-valued hidden units drawn
from a unit-variance Gaussian around their total input:

    E(v, h) = -b.v - c.h - h.W v + |h|^2 / 2,    p(h | v) = N(c + W v, I),    p(v_i = 1 | h) = sigmoid(b_i + h.W_i),
    F(v) = -b.v - |c + W v|^2 / 2 + const.

A layer with the identity activation computes ``E[h | v] = c + W v``, so the RBM's ``W`` and ``c`` are copied into
the code layer as they are. CD-1 follows their ``rbmhidlinear.m``: the positive statistics use the hidden means,
the chain samples ``h`` with Gaussian noise, and the reconstruction is the visible probabilities.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import torch
from pydantic import Field
from torch import nn

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import choice, component, count, number
from lamina.errors import DataError
from lamina.generative.rbm.callbacks import MomentumSchedule
from lamina.pretrain.greedy import GreedyLayer, LayerwisePretrainSpec
from lamina.registry import register

__all__ = ["LinearHiddenRBM", "LinearRBMPretrainSpec"]


class LinearHiddenRBM(GreedyLayer):
    """Bernoulli visible units, linear hidden units with unit-variance Gaussian noise (Hinton & Salakhutdinov, 2006).

    Args:
        n_visible, n_hidden: layer sizes.
        weight_decay: L2 cost on the weights inside the CD update (0.0002 in the paper's code).
        init_std: weights start as ``N(0, init_std^2)``; biases at zero.

    Shape:
        ``(N, n_visible) -> (N, n_hidden)`` for ``forward`` (the hidden means ``c + W v``).

    Example:
        >>> rbm = LinearHiddenRBM(250, 30)
        >>> Trainer(rbm, optimizer={"type": "sgd", "lr": 0.001, "momentum": 0.9}, epochs=10).fit(features)
    """

    @validated
    def __init__(
        self,
        n_visible: Annotated[int, Bounds(ge=1)],
        n_hidden: Annotated[int, Bounds(ge=1)],
        *,
        weight_decay: Annotated[float, Bounds(ge=0)] = 0.0,
        init_std: Annotated[float, Bounds(gt=0)] = 0.1,  # the paper's code
        device: Any = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.n_visible, self.n_hidden = n_visible, n_hidden
        self.weight_decay, self.init_std = float(weight_decay), init_std
        self.weight = nn.Parameter(torch.empty(n_hidden, n_visible, **factory))
        self.hidden_bias = nn.Parameter(torch.zeros(n_hidden, **factory))
        self.visible_bias = nn.Parameter(torch.zeros(n_visible, **factory))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weights ``N(0, init_std^2)`` (0.1 in the paper's code), zero biases."""
        with torch.no_grad():
            self.weight.normal_(0.0, self.init_std)
            self.hidden_bias.zero_()
            self.visible_bias.zero_()

    def hidden_mean(self, v: torch.Tensor) -> torch.Tensor:
        """``E[h | v] = c + W v``. Shape: ``(N, n_v) -> (N, n_h)``."""
        return torch.addmm(self.hidden_bias, v, self.weight.t())

    def transform(self, v: torch.Tensor) -> torch.Tensor:
        """The features the layer above gets: the hidden means."""
        return self.hidden_mean(v.reshape(len(v), self.n_visible))

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        """:meth:`transform`."""
        return self.transform(v)

    def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
        """``p(v = 1 | h) = sigmoid(b + h W)``. Shape: ``(N, n_h) -> (N, n_v)``."""
        return torch.sigmoid(torch.addmm(self.visible_bias, h, self.weight))

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """``F(v) = -b.v - |c + W v|^2 / 2`` (without the constant ``n_h log(2 pi) / 2``). Shape: ``(N,)``."""
        return -(v @ self.visible_bias) - 0.5 * self.hidden_mean(v).pow(2).sum(-1)

    def prepare(self, x: torch.Tensor) -> None:
        """Refuse inputs outside ``[0, 1]``: the visible units are Bernoulli."""
        lo, hi = (float(t) for t in torch.aminmax(x.detach()))
        if not (lo >= 0 and hi <= 1):
            raise DataError(
                f"LinearHiddenRBM: visible data must be probabilities in [0, 1]; got values in "
                f"[{lo:.4g}, {hi:.4g}] (its visible units are Bernoulli, like the logistic layer below "
                "a deep autoencoder's code)"
            )

    def training_loss(self, batch: Any) -> torch.Tensor:
        """The CD-1 surrogate ``mean F(v) - mean F(v')`` (``v'`` detached) plus weight decay: its gradient is
        ``<h v^T>_model - <h v^T>_data`` with hidden means, as in ``rbmhidlinear.m``."""
        v = batch[0] if isinstance(batch, (tuple, list)) else batch
        v = v.reshape(len(v), self.n_visible).to(self.weight.dtype)
        with torch.no_grad():
            h = self.hidden_mean(v)
            reconstruction = self.visible_mean(h + torch.randn_like(h))
        loss = self.free_energy(v).mean() - self.free_energy(reconstruction).mean()
        if self.weight_decay:
            loss = loss + 0.5 * self.weight_decay * self.weight.pow(2).sum()
        return loss

    @torch.no_grad()
    def validation_metrics(self, batch: Any) -> dict[str, torch.Tensor]:
        """``recon_error``: squared error of the mean-field reconstruction, summed over visible units."""
        v = batch[0] if isinstance(batch, (tuple, list)) else batch
        v = v.reshape(len(v), self.n_visible).to(self.weight.dtype)
        return {"recon_error": (v - self.visible_mean(self.hidden_mean(v))).pow(2).sum(-1).mean()}

    def extra_repr(self) -> str:
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}"


# Hinton & Salakhutdinov's code (2006) for the linear code layer, beside the constructor's defaults
LINEAR_RBM_PRESETS: dict[str, dict[str, Any]] = {
    "hinton_salakhutdinov_2006": {
        "weight_decay": 0.0002,
        "batch_size": 100,
        "optimizer": {"type": "sgd", "lr": 0.001, "momentum": 0.5},
        "final_momentum": 0.9,
        "momentum_switch_epoch": 5,
    }
}


@register("pretrain", "linear_rbm")
class LinearRBMPretrainSpec(
    spec_base(  # type: ignore[misc]
        LinearHiddenRBM,
        LayerwisePretrainSpec,
        exclude=("n_visible", "n_hidden", "device", "dtype"),
    )
):
    """An RBM with linear hidden units under each linear (``identity``) layer: the code layer of a deep
    autoencoder, as in Hinton & Salakhutdinov (2006). Use it per layer: ``method = ["rbm", "rbm", "linear_rbm"]``.

    Its options beside ``epochs``, ``batch_size``, ``optimizer``, ``schedule``, ``seed`` and ``layers``:

    Args:
        weight_decay, init_std: :class:`LinearHiddenRBM`'s options, with its defaults (no weight cost; weights
            ``N(0, 0.1^2)`` as in the paper's code).
        preset: ``"hinton_salakhutdinov_2006"``: the paper's code's settings (weight cost 0.0002, SGD at 0.001 with
            momentum 0.5 then 0.9 from epoch 5, batch size 100) for the keys the table leaves out.
        final_momentum, momentum_switch_epoch: SGD's momentum becomes ``final_momentum`` at that epoch.
        visible_bias_init: ``data`` (log-odds of each input's mean) or ``zero``.

    The default step size is the paper's 0.001, a hundredth of the binary RBMs': the hidden states are unbounded.
    """

    compatible_activations: ClassVar[tuple[str, ...]] = ("identity",)
    why_incompatible: ClassVar[str] = (
        "its hidden units are linear, E[h | v] = c + W v, so only a layer without "
        'an activation computes what it learned; use "rbm" under sigmoid layers.'
    )

    presets: ClassVar[dict[str, dict[str, Any]]] = LINEAR_RBM_PRESETS

    optimizer: component("optimizer") = Field({"type": "sgd", "lr": 0.001, "momentum": 0.5}, validate_default=True)
    preset: choice(*LINEAR_RBM_PRESETS) | None = None
    final_momentum: number(0, 1, hi_open=True) | None = 0.9
    momentum_switch_epoch: count(0) = 5
    visible_bias_init: choice("data", "zero") = "data"

    def build_module(self, n_visible: int, n_hidden: int, activation: str) -> GreedyLayer:
        """A :class:`LinearHiddenRBM` of ``n_visible`` visible and ``n_hidden`` hidden units."""
        return LinearHiddenRBM(n_visible, n_hidden, **self.options())

    def prepare_module(self, module: GreedyLayer, inputs: torch.Tensor) -> None:
        """Check the inputs and (``visible_bias_init = "data"``) set the visible biases to their log-odds."""
        module.prepare(inputs)
        if self.visible_bias_init == "data":
            with torch.no_grad():
                module.visible_bias.copy_(torch.logit(inputs.reshape(len(inputs), -1).mean(0), eps=1e-3))

    def layer_callbacks(self, module: GreedyLayer, inputs: torch.Tensor, index: int) -> list:
        """The momentum switch of the paper's code, where enabled."""
        return (
            [] if self.final_momentum is None else [MomentumSchedule(self.final_momentum, self.momentum_switch_epoch)]
        )
