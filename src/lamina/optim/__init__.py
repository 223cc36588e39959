"""Optimizers and learning-rate schedules by name; torch's own, plus the second-order, Kalman-filter and
evolution-strategy ones (each a ``torch.optim.Optimizer`` driven by a closure)."""

from lamina.optim import schedules, torch_optimizers  # noqa: F401  (register)
from lamina.optim.conjugate_gradient import CGResult, conjugate_gradient
from lamina.optim.curvature import CurvatureError, GaussNewton, gauss_newton_product
from lamina.optim.fisher import empirical_fisher_diagonal
from lamina.optim.ekf import EKF, EKFSpec, ekf_update
from lamina.optim.evolution import EvolutionStrategies, EvolutionStrategiesSpec, centered_ranks, es_gradient
from lamina.optim.hessian_free import HessianFree, HessianFreeSpec
from lamina.optim.schedules import ScheduleSpec
from lamina.optim.torch_optimizers import OptimizerSpec

__all__ = [
    "CGResult",
    "CurvatureError",
    "EKF",
    "EKFSpec",
    "EvolutionStrategies",
    "EvolutionStrategiesSpec",
    "GaussNewton",
    "HessianFree",
    "HessianFreeSpec",
    "OptimizerSpec",
    "ScheduleSpec",
    "centered_ranks",
    "conjugate_gradient",
    "ekf_update",
    "empirical_fisher_diagonal",
    "es_gradient",
    "gauss_newton_product",
]
