"""Generative models and greedy pretraining: RBMs, deep belief nets, autoencoders, the layer-wise driver."""
from lamina.generative import autoencoder_pretrain  # noqa: F401  (registers the autoencoder pretraining methods)
from lamina.generative.autoencoder import Autoencoder
from lamina.generative.autoencoder_pretrain import (
    AutoencoderPretrainSpec,
    ContractiveAutoencoderPretrainSpec,
    DenoisingAutoencoderPretrainSpec,
    SparseAutoencoderPretrainSpec,
)
from lamina.generative.contractive_autoencoder import ContractiveAutoencoder, contractive_penalty
from lamina.generative.corruption import corrupt
from lamina.generative.deep_autoencoder import DeepAutoencoder
from lamina.generative.denoising_autoencoder import DenoisingAutoencoder
from lamina.generative.greedy import (
    GreedyLayer,
    LayerwisePretrainSpec,
    PretrainedLayer,
    dense_layers,
    pretrain_layerwise,
)
from lamina.generative.sparse_autoencoder import SparseAutoencoder, kl_sparsity_penalty, l1_code_penalty

__all__ = [
    "Autoencoder",
    "AutoencoderPretrainSpec",
    "ContractiveAutoencoder",
    "ContractiveAutoencoderPretrainSpec",
    "DeepAutoencoder",
    "DenoisingAutoencoder",
    "DenoisingAutoencoderPretrainSpec",
    "GreedyLayer",
    "LayerwisePretrainSpec",
    "PretrainedLayer",
    "SparseAutoencoder",
    "SparseAutoencoderPretrainSpec",
    "contractive_penalty",
    "corrupt",
    "dense_layers",
    "kl_sparsity_penalty",
    "l1_code_penalty",
    "pretrain_layerwise",
]
