"""Diagnostics: gradient checks, gradient flow, Jacobian spectra, unit statistics and feature views.

Why deep nets were hard to train, measured on your own network::

    from lamina.diagnostics import gradcheck, gradient_flow, jacobian_spectrum, unit_statistics
    gradcheck(MyFunction, torch.randn(4, 3))          # autograd vs finite differences, float64
    gradient_flow(model, (x, y)).table()              # per-layer ||dL/dz||, ||dL/dW||, ||dL/dW|| / ||W||
    jacobian_spectrum(model, x).table()               # singular values of J_l and of J_l ... J_1
    unit_statistics(model, x).table()                 # dead ReLUs, saturated sigmoid/tanh units

During training: ``[train] callbacks = [{ type = "gradient_flow", every = 100 }]`` (and ``unit_statistics``);
after it: ``lamina diagnose RUN``.
"""

from lamina.diagnostics.callbacks import (
    GradientFlowLog,
    GradientFlowSpec,
    UnitStatisticsLog,
    UnitStatisticsSpec,
    read_records,
)
from lamina.diagnostics.diagnose import Diagnosis, diagnose
from lamina.diagnostics.features import (
    Embedding,
    Filters,
    Saliency,
    default_embedding_layer,
    embed,
    first_layer_filters,
    saliency,
)
from lamina.diagnostics.gradcheck import GradcheckResult, GradcheckRow, finite_difference_gradient, gradcheck
from lamina.diagnostics.gradient_flow import GradientFlow, LayerGradient, gradient_flow
from lamina.diagnostics.jacobian import JacobianSpectrum, LayerSpectrum, jacobian_spectrum, per_example_jacobian
from lamina.diagnostics.layers import DiagnosticsError, LayerNotFoundError, layer_names
from lamina.diagnostics.units import UnitStatistics, UnitStats, unit_statistics

__all__ = [
    "DiagnosticsError",
    "Diagnosis",
    "Embedding",
    "Filters",
    "GradcheckResult",
    "GradcheckRow",
    "GradientFlow",
    "GradientFlowLog",
    "GradientFlowSpec",
    "JacobianSpectrum",
    "LayerGradient",
    "LayerNotFoundError",
    "LayerSpectrum",
    "Saliency",
    "UnitStatistics",
    "UnitStatisticsLog",
    "UnitStatisticsSpec",
    "UnitStats",
    "default_embedding_layer",
    "diagnose",
    "embed",
    "finite_difference_gradient",
    "first_layer_filters",
    "gradcheck",
    "gradient_flow",
    "jacobian_spectrum",
    "layer_names",
    "per_example_jacobian",
    "read_records",
    "saliency",
    "unit_statistics",
]
