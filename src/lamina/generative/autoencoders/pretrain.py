"""Autoencoders as greedy pretraining methods (``[pretrain] method = "denoising_autoencoder"``).

Each layer of the network is pretrained as the code layer of an autoencoder whose input is the layer below's
output (Bengio, Lamblin, Popovici & Larochelle, 2007; Vincent et al., 2008): the layer's activation is the code's
nonlinearity, and the encoder weights and code biases are copied into the layer. In an experiment file::

    [pretrain]
    method = "denoising_autoencoder"
    epochs = 10
    corruption = "masking"
    level = 0.25
    layers = [{}, { level = 0.1 }]       # per-layer overrides, in order
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import torch
from pydantic import Field, model_validator
from torch import nn

from lamina.config.component import spec_base
from lamina.config.fields import component, raise_problems
from lamina.errors import ConfigError
from lamina.generative.autoencoders.autoencoder import Autoencoder
from lamina.generative.autoencoders.contractive import ContractiveAutoencoder
from lamina.generative.autoencoders.denoising import DenoisingAutoencoder
from lamina.generative.autoencoders.sparse import SparseAutoencoder
from lamina.pretrain.greedy import GreedyLayer, LayerwisePretrainSpec, _inputs, pretrain_layerwise
from lamina.registry import register

__all__ = [
    "AutoencoderPretrainSpec",
    "DenoisingAutoencoderPretrainSpec",
    "SparseAutoencoderPretrainSpec",
    "ContractiveAutoencoderPretrainSpec",
]

# the constructor's inputs that the layer-wise driver supplies (the code's activation is the layer's)
_BUILT_BY_THE_DRIVER = ("n_visible", "n_hidden", "activation", "device", "dtype")


@register("pretrain", "autoencoder", aliases=("ae",))
class AutoencoderPretrainSpec(spec_base(Autoencoder, LayerwisePretrainSpec, exclude=_BUILT_BY_THE_DRIVER)):  # type: ignore[misc]  # a base made by spec_base
    """Pretrain each layer as an :class:`~lamina.generative.Autoencoder` (Bengio et al., 2007).

    The options beside ``epochs``, ``batch_size``, ``optimizer``, ``seed`` and ``layers`` are the keyword arguments
    of :attr:`target_class`'s constructor, with its defaults and bounds; the layer gives the sizes and the code's
    activation.

    Args:
        tied: decode with the transposed encoder weights.
        loss: ``auto`` (cross-entropy with a sigmoid decoder where the layer's inputs lie in [0, 1] -- pixels,
            logistic units below --, else squared error with a linear decoder -- ReLU or linear units below),
            ``cross_entropy`` or ``mse``.
        output_activation: the decoder's nonlinearity (default: the one that suits the loss).
        optimizer: default Adam, lr 1e-3 (the reconstruction loss is summed over the inputs, which makes plain
            SGD's step size depend on the layer's width).
    """

    compatible_activations: ClassVar[tuple[str, ...]] = ("sigmoid", "tanh", "relu", "identity")
    why_incompatible: ClassVar[str] = (
        "an autoencoder's code is the layer's activation, and lamina's autoencoders "
        "implement sigmoid, tanh, ReLU and linear codes."
    )

    optimizer: component("optimizer") = Field({"type": "adam", "lr": 1e-3}, validate_default=True)

    def build_module(self, n_visible: int, n_hidden: int, activation: str) -> GreedyLayer:
        """A :attr:`target_class` autoencoder of ``n_visible`` inputs and an ``n_hidden``-unit code with this
        activation, configured by these options."""
        return self.target_class(n_visible, n_hidden, activation=activation, **self.options())

    def pretrain(
        self, model: nn.Module, data: Any, *, device: Any, seed: int | None, folder: Path | None = None
    ) -> dict[str, Any]:
        """Run :func:`pretrain_layerwise` with these options, plot the losses (and, for square image inputs, the
        first layer's reconstructions and filters) when a ``folder`` is given; return a per-layer summary."""
        layers = pretrain_layerwise(
            model, data, self, device=device, seed=self.seed if self.seed is not None else seed, folder=folder
        )
        if folder is not None and layers:
            _plot_pretraining(layers, _inputs(data), Path(folder).parent / "plots", self.type_name)
        return {"method": self.type_name, "layers": [p.summary() for p in layers]}


@register("pretrain", "denoising_autoencoder", aliases=("dae",))
class DenoisingAutoencoderPretrainSpec(
    spec_base(  # type: ignore[misc]
        DenoisingAutoencoder,
        AutoencoderPretrainSpec,
        exclude=(*_BUILT_BY_THE_DRIVER, "generator"),
    )
):
    """Pretrain each layer as a :class:`~lamina.generative.DenoisingAutoencoder` (Vincent et al., 2008).

    Args:
        corruption: ``masking``, ``salt_and_pepper`` or ``gaussian``.
        level: the fraction of inputs destroyed (masking, salt-and-pepper), or the Gaussian noise's standard
            deviation; 0.25 is within the range Vincent et al. (2010) found best on MNIST.
    """

    @model_validator(mode="after")
    def _check_level(self) -> DenoisingAutoencoderPretrainSpec:
        if self.corruption != "gaussian" and self.level > 1:
            raise_problems(
                "pretrain",
                [
                    (
                        ("level",),
                        f"expected a fraction of inputs in [0, 1] for {self.corruption} corruption, got {self.level!r}",
                    )
                ],
            )
        return self


@register("pretrain", "sparse_autoencoder")
class SparseAutoencoderPretrainSpec(
    spec_base(  # type: ignore[misc]
        SparseAutoencoder,
        AutoencoderPretrainSpec,
        exclude=_BUILT_BY_THE_DRIVER,
    )
):
    """Pretrain each layer as a :class:`~lamina.generative.SparseAutoencoder`.

    Args:
        sparsity: ``kl`` (mean activation pulled towards ``target``; sigmoid layers) or ``l1`` (any layer).
        target: the KL penalty's target mean activation.
        weight: the penalty's weight (``beta`` or ``lambda``).
    """

    def check_layer(self, layer: str, activation: str) -> None:
        """As the base check, and refuse the KL penalty on a non-sigmoid layer (it needs means in (0, 1))."""
        super().check_layer(layer, activation)
        if self.sparsity == "kl" and activation != "sigmoid":
            raise ConfigError(
                f'pretrain.method: sparse_autoencoder with sparsity = "kl" cannot pretrain layer {layer!r} with '
                f"{activation} units: the KL penalty reads each unit's mean activation as a firing probability in "
                '(0, 1). It fits layers with sigmoid activation; for other layers use sparsity = "l1".'
            )


@register("pretrain", "contractive_autoencoder", aliases=("cae",))
class ContractiveAutoencoderPretrainSpec(
    spec_base(  # type: ignore[misc]
        ContractiveAutoencoder,
        AutoencoderPretrainSpec,
        exclude=_BUILT_BY_THE_DRIVER,
    )
):
    """Pretrain each layer as a :class:`~lamina.generative.ContractiveAutoencoder` (Rifai et al., 2011).

    Args:
        contraction: the weight ``lambda`` of the Jacobian's squared Frobenius norm.
    """


def _plot_pretraining(layers: list, x: Any, folder: Path, method: str) -> None:
    """The run report's figures: each layer's training loss, and the first layer's reconstructions and filters
    when its inputs are square images."""
    from lamina.generative.autoencoders.plots import plot_filters, plot_pretraining_losses, plot_reconstructions

    plot_pretraining_losses(layers, folder / "pretrain_loss.png", title=f"greedy pretraining ({method})")
    first = layers[0].module
    side = math.isqrt(first.n_visible)
    if side * side == first.n_visible:
        sample = x[:10].reshape(min(10, len(x)), -1).to(first.weight.device)
        with torch.no_grad():
            reconstructions = first.reconstruct(sample)
        plot_reconstructions(
            sample,
            reconstructions,
            folder / "pretrain_reconstructions.png",
            image_shape=(side, side),
            title=f"layer {layers[0].layer}: inputs and reconstructions",
        )
        plot_filters(
            first.weight.detach(),
            folder / "pretrain_filters.png",
            image_shape=(side, side),
            title=f"layer {layers[0].layer}: encoder filters",
        )
