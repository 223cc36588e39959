"""Generative models and greedy pretraining: RBMs, deep belief nets, autoencoders, the layer-wise driver."""
from lamina.generative.ais import AISEstimate, ais_log_partition, ais_log_weights, default_betas
from lamina.generative.contrastive_divergence import CDStatistics, cd_statistics, cd_surrogate
from lamina.generative.dbn import DBN, down_pass
from lamina.generative.gaussian_rbm import GaussianBernoulliRBM
from lamina.generative.greedy import (
    GreedyLayer,
    LayerwisePretrainSpec,
    PretrainedLayer,
    dense_layers,
    pretrain_layerwise,
)
from lamina.generative.partition import exact_log_partition, log_likelihood, pseudo_log_likelihood
from lamina.generative.rbm import RBM, BernoulliRBM
from lamina.generative.rbm_callbacks import MomentumSchedule, RBMMonitor
from lamina.generative.rbm_pretrain import GaussianRBMPretrainSpec, RBMPretrainSpec
from lamina.generative.up_down import up_down_surrogate

__all__ = [
    "AISEstimate",
    "BernoulliRBM",
    "CDStatistics",
    "DBN",
    "GaussianBernoulliRBM",
    "GaussianRBMPretrainSpec",
    "GreedyLayer",
    "LayerwisePretrainSpec",
    "MomentumSchedule",
    "PretrainedLayer",
    "RBM",
    "RBMMonitor",
    "RBMPretrainSpec",
    "ais_log_partition",
    "ais_log_weights",
    "cd_statistics",
    "cd_surrogate",
    "default_betas",
    "dense_layers",
    "down_pass",
    "exact_log_partition",
    "log_likelihood",
    "pretrain_layerwise",
    "pseudo_log_likelihood",
    "up_down_surrogate",
]
