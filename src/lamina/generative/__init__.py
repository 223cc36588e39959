"""Generative models and greedy pretraining: RBMs, deep belief nets, autoencoders, the layer-wise driver."""

from lamina.generative.ais import AISEstimate, AISWarning, ais_log_partition, ais_log_weights, default_betas
from lamina.generative.autoencoder import Autoencoder
from lamina.generative import autoencoder_pretrain  # noqa: F401  (registers the autoencoder pretraining methods)
from lamina.generative.autoencoder_pretrain import (
    AutoencoderPretrainSpec,
    ContractiveAutoencoderPretrainSpec,
    DenoisingAutoencoderPretrainSpec,
    SparseAutoencoderPretrainSpec,
)
from lamina.generative.contractive_autoencoder import ContractiveAutoencoder, contractive_penalty
from lamina.generative.contrastive_divergence import CDStatistics, cd_statistics, cd_surrogate
from lamina.generative.corruption import corrupt
from lamina.generative.dbn import DBN
from lamina.generative.deep_autoencoder import DeepAutoencoder
from lamina.generative.denoising_autoencoder import DenoisingAutoencoder
from lamina.generative.gaussian_rbm import GaussianBernoulliRBM
from lamina.generative.greedy import (
    GreedyLayer,
    LayerwisePretrainSpec,
    PretrainedLayer,
    dense_layers,
    pretrain_layerwise,
)
from lamina.generative.linear_rbm import LinearHiddenRBM, LinearRBMPretrainSpec
from lamina.generative.partition import exact_log_partition, log_likelihood, pseudo_log_likelihood
from lamina.generative.rbm import RBM, BernoulliRBM
from lamina.generative.rbm_callbacks import MomentumSchedule, RBMMonitor
from lamina.generative.rbm_pretrain import GaussianRBMPretrainSpec, RBMPretrainSpec
from lamina.generative.sparse_autoencoder import SparseAutoencoder, kl_sparsity_penalty, l1_code_penalty
from lamina.generative.up_down import down_pass, up_down_surrogate

__all__ = [
    "AISEstimate",
    "AISWarning",
    "Autoencoder",
    "AutoencoderPretrainSpec",
    "BernoulliRBM",
    "CDStatistics",
    "ContractiveAutoencoder",
    "ContractiveAutoencoderPretrainSpec",
    "DBN",
    "DeepAutoencoder",
    "DenoisingAutoencoder",
    "DenoisingAutoencoderPretrainSpec",
    "GaussianBernoulliRBM",
    "GaussianRBMPretrainSpec",
    "GreedyLayer",
    "LayerwisePretrainSpec",
    "LinearHiddenRBM",
    "LinearRBMPretrainSpec",
    "MomentumSchedule",
    "PretrainedLayer",
    "RBM",
    "RBMMonitor",
    "RBMPretrainSpec",
    "SparseAutoencoder",
    "SparseAutoencoderPretrainSpec",
    "ais_log_partition",
    "ais_log_weights",
    "cd_statistics",
    "cd_surrogate",
    "contractive_penalty",
    "corrupt",
    "default_betas",
    "dense_layers",
    "down_pass",
    "exact_log_partition",
    "kl_sparsity_penalty",
    "l1_code_penalty",
    "log_likelihood",
    "pretrain_layerwise",
    "pseudo_log_likelihood",
    "up_down_surrogate",
]
