"""Generative models: the RBM family (:mod:`lamina.generative.rbm`), the autoencoder family
(:mod:`lamina.generative.autoencoders`), the variational autoencoder (:mod:`lamina.generative.variational`) and deep
belief nets (:mod:`lamina.generative.dbn`, fine-tuned by the up-down
algorithm of :mod:`lamina.generative.up_down`). Each family's pretraining methods live in its ``pretrain`` module; the
greedy driver they share is :mod:`lamina.pretrain` (its names are re-exported here).
"""

from typing import TYPE_CHECKING

from lamina.generative.rbm import (
    RBM,
    AISEstimate,
    AISWarning,
    BernoulliRBM,
    CDStatistics,
    GaussianBernoulliRBM,
    LinearHiddenRBM,
    LinearRBMPretrainSpec,
    MomentumSchedule,
    RBMMonitor,
    ais_log_partition,
    ais_log_weights,
    cd_statistics,
    cd_surrogate,
    default_betas,
    exact_log_partition,
    log_likelihood,
    pseudo_log_likelihood,
)
from lamina.generative.autoencoders import (
    Autoencoder,
    AutoencoderPretrainSpec,
    ContractiveAutoencoder,
    ContractiveAutoencoderPretrainSpec,
    DeepAutoencoder,
    DenoisingAutoencoder,
    DenoisingAutoencoderPretrainSpec,
    SparseAutoencoder,
    SparseAutoencoderPretrainSpec,
    contractive_penalty,
    corrupt,
    kl_sparsity_penalty,
    l1_code_penalty,
)
from lamina.generative.variational import ELBO, VAE, VAESpec, gaussian_kl, importance_weighted_bound
from lamina.generative.rbm.pretrain import GaussianRBMPretrainSpec, RBMPretrainSpec  # registers rbm, gaussian_rbm
from lamina.generative.dbn import DBN
from lamina.generative.up_down import down_pass, up_down_surrogate
from lamina.pretrain.greedy import GreedyLayer, LayerwisePretrainSpec, PretrainedLayer, dense_layers, pretrain_layerwise
from lamina._moved import moved_attribute

if not TYPE_CHECKING:  # lamina.generative.<old module> for one release (lamina._moved)

    def __getattr__(name: str):
        return moved_attribute(__name__, name)


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
    "ELBO",
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
    "VAE",
    "VAESpec",
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
    "gaussian_kl",
    "importance_weighted_bound",
    "kl_sparsity_penalty",
    "l1_code_penalty",
    "log_likelihood",
    "pretrain_layerwise",
    "pseudo_log_likelihood",
    "up_down_surrogate",
]
