"""The three closure-driven optimizers by name: options reach the optimizer, configs round-trip, errors name fields."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import lamina
from lamina.optim import EKF, EvolutionStrategies, HessianFree


@pytest.mark.parametrize("table, cls, expected", [
    ({"type": "hessian_free", "damping": 0.5, "cg_max_iter": 30, "preconditioner": "empirical_fisher"}, HessianFree,
     {"damping": 0.5, "cg_max_iter": 30, "preconditioner": "empirical_fisher", "lr": 1.0}),
    ({"type": "hf", "preconditioner": "none"}, HessianFree, {"preconditioner": None}),
    ({"type": "dekf", "decoupling": "neuron", "measurement_noise": 0.5, "measurement_noise_final": 0.01},
     EKF, {"decoupling": "neuron", "measurement_noise": 0.5, "measurement_noise_final": 0.01}),
    ({"type": "es", "lr": 0.1, "population": 8, "inner": {"type": "sgd", "momentum": 0.5}}, EvolutionStrategies,
     {"lr": 0.1, "population": 8}),
])
def test_spec_builds_the_optimizer_with_its_options(table, cls, expected):
    spec = lamina.resolve("optimizer", table)
    assert spec.needs_closure
    assert lamina.resolve("optimizer", spec.to_config()).to_config() == spec.to_config()
    opt = spec.build(nn.Linear(3, 2).parameters())
    assert isinstance(opt, cls) and opt.needs_closure
    for key, value in expected.items():
        assert opt.param_groups[0][key] == value
    if cls is EvolutionStrategies:
        assert isinstance(opt.inner, torch.optim.SGD) and opt.inner.param_groups[0]["momentum"] == 0.5


@pytest.mark.parametrize("table, message", [
    ({"type": "hessian_free", "damping": 0}, "damping: expected a number > 0, got 0"),
    ({"type": "hessian_free", "preconditoner": "none"}, "did you mean 'preconditioner'"),
    ({"type": "ekf", "decoupling": "neurons"}, "did you mean 'neuron'"),
    ({"type": "ekf", "process_noise": -1}, "process_noise: expected a number >= 0"),
    ({"type": "evolution_strategies", "inner": "lbfgs"}, "inner: expected a first-order optimizer"),
])
def test_spec_errors_name_the_field(table, message):
    with pytest.raises(lamina.ConfigError, match=message):
        lamina.resolve("optimizer", table, path="train.optimizer")


@pytest.mark.parametrize("make, message", [
    (lambda ps: HessianFree(ps, damping=-1), "Invalid damping: -1"),
    (lambda ps: HessianFree(ps, cg_min_iter=5, cg_max_iter=2), "cg_min_iter=5, cg_max_iter=2"),
    (lambda ps: HessianFree(ps, preconditioner="fisher"), "Invalid preconditioner: 'fisher'"),
    (lambda ps: EKF(ps, decoupling="block"), "Invalid decoupling: 'block'"),
    (lambda ps: EKF(ps, measurement_noise=0), "Invalid measurement_noise"),
    (lambda ps: EvolutionStrategies(ps, sigma=0), "Invalid sigma: 0"),
])
def test_constructor_validation(make, message):
    with pytest.raises(ValueError, match=message):
        make(nn.Linear(2, 1).parameters())


def test_parameter_groups_are_refused():
    model = nn.Linear(2, 1)
    groups = [{"params": [model.weight]}, {"params": [model.bias], "lr": 0.1}]
    for cls in (HessianFree, EKF, EvolutionStrategies):
        with pytest.raises(ValueError, match="doesn't support per-parameter options"):
            cls(groups)
