"""The restricted Boltzmann machine family (Smolensky, 1986; Hinton, 2002): the shared base class (:mod:`.base`) and its
Gibbs chains (:mod:`.sampling`), the Bernoulli RBM (:mod:`.model`), the Gaussian-Bernoulli RBM (:mod:`.gaussian`), the
RBM with linear hidden units and its pretraining method (:mod:`.linear`), contrastive divergence
(:mod:`.contrastive_divergence`) over the energies and samplers of :mod:`.functions` and their fused CPU kernels
(:mod:`.fused_kernels`, ``_rbm_kernels.c``), the partition function exactly (:mod:`.partition`) and by annealed
importance sampling (:mod:`.ais`), the monitoring callbacks (:mod:`.callbacks`), the RBM pretraining methods ``rbm`` and
``gaussian_rbm`` (:mod:`.pretrain`) and the figures (:mod:`.plots`, loaded on use: matplotlib).

:mod:`.pretrain` is not imported here: it draws a pretrained stack's samples through the DBN's down pass
(:mod:`lamina.generative.up_down`), which builds on this package; :mod:`lamina.generative` imports it (and so
registers its methods) before any of this package is used.
"""

from lamina.generative.rbm.model import RBM, BernoulliRBM
from lamina.generative.rbm.gaussian import GaussianBernoulliRBM
from lamina.generative.rbm.linear import LinearHiddenRBM, LinearRBMPretrainSpec  # registers pretrain "linear_rbm"
from lamina.generative.rbm.contrastive_divergence import CDStatistics, cd_statistics, cd_surrogate
from lamina.generative.rbm.partition import exact_log_partition, log_likelihood, pseudo_log_likelihood
from lamina.generative.rbm.ais import AISEstimate, AISWarning, ais_log_partition, ais_log_weights, default_betas
from lamina.generative.rbm.callbacks import MomentumSchedule, RBMMonitor

__all__ = [
    "AISEstimate",
    "AISWarning",
    "BernoulliRBM",
    "CDStatistics",
    "GaussianBernoulliRBM",
    "LinearHiddenRBM",
    "LinearRBMPretrainSpec",
    "MomentumSchedule",
    "RBM",
    "RBMMonitor",
    "ais_log_partition",
    "ais_log_weights",
    "cd_statistics",
    "cd_surrogate",
    "default_betas",
    "exact_log_partition",
    "log_likelihood",
    "pseudo_log_likelihood",
]
