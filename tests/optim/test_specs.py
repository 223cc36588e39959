"""The three closure-driven optimizers by name: options reach the optimizer, configs round-trip, errors name fields."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lamina
from lamina.optim import EKF, EvolutionStrategies, HessianFree


@pytest.mark.parametrize(
    "table, cls, expected",
    [
        (
            {"type": "hessian_free", "damping": 0.5, "cg_max_iter": 30, "preconditioner": "empirical_fisher"},
            HessianFree,
            {"damping": 0.5, "cg_max_iter": 30, "preconditioner": "empirical_fisher", "lr": 1.0},
        ),
        ({"type": "hf", "preconditioner": "none"}, HessianFree, {"preconditioner": None}),
        (
            {"type": "dekf", "decoupling": "neuron", "measurement_noise": 0.5, "measurement_noise_final": 0.01},
            EKF,
            {"decoupling": "neuron", "measurement_noise": 0.5, "measurement_noise_final": 0.01},
        ),
        (
            {"type": "es", "lr": 0.1, "population": 8, "inner": {"type": "sgd", "momentum": 0.5}},
            EvolutionStrategies,
            {"lr": 0.1, "population": 8},
        ),
    ],
)
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


@pytest.mark.parametrize(
    "table, message",
    [
        ({"type": "hessian_free", "damping": 0}, "damping: expected a number > 0, got 0"),
        ({"type": "hessian_free", "preconditoner": "none"}, "did you mean 'preconditioner'"),
        ({"type": "ekf", "decoupling": "neurons"}, "did you mean 'neuron'"),
        ({"type": "ekf", "process_noise": -1}, "process_noise: expected a number >= 0"),
        ({"type": "evolution_strategies", "inner": "lbfgs"}, "inner: expected a first-order optimizer"),
    ],
)
def test_spec_errors_name_the_field(table, message):
    with pytest.raises(lamina.ConfigError, match=message):
        lamina.resolve("optimizer", table, path="train.optimizer")


@pytest.mark.parametrize(
    "cls, options, message",
    [
        (HessianFree, {"damping": -1}, "Invalid HessianFree: damping: expected a number > 0, got -1.0"),
        (HessianFree, {"cg_min_iter": 5, "cg_max_iter": 2}, "cg_min_iter: must be <= cg_max_iter (2), got 5"),
        (
            HessianFree,
            {"preconditioner": "fisher"},
            "Invalid HessianFree: preconditioner: expected one of 'none', 'empirical_fisher', got 'fisher'",
        ),
        (EKF, {"decoupling": "block"}, "Invalid EKF: decoupling: expected one of 'global', 'layer', 'neuron'"),
        (EKF, {"measurement_noise": 0}, "Invalid EKF: measurement_noise: expected a number > 0, got 0.0"),
        (EvolutionStrategies, {"sigma": 0}, "Invalid EvolutionStrategies: sigma: expected a number > 0, got 0.0"),
        (EvolutionStrategies, {"population": 2.0}, "population: expected an integer >= 2, got 2.0"),
    ],
)
def test_constructor_validation_speaks_as_the_config(cls, options, message):
    # a direct call and the experiment file check the same declaration and say the same thing (issue 25)
    with pytest.raises(ValueError) as direct:
        cls(nn.Linear(2, 1).parameters(), **options)
    assert message in str(direct.value)
    name = {HessianFree: "hessian_free", EKF: "ekf", EvolutionStrategies: "es"}[cls]
    with pytest.raises(lamina.ConfigError) as config:
        lamina.resolve("optimizer", {"type": name, **options})
    assert message.split(": ", 1)[-1] in str(config.value)


def test_constructor_validation_keeps_python_spellings():
    params = list(nn.Linear(2, 1).parameters())
    assert HessianFree(params, preconditioner=None).defaults["preconditioner"] is None  # None and "none" alike
    assert HessianFree(params).defaults["preconditioner"] is None
    assert isinstance(EKF(params, lr=1).defaults["lr"], float)  # an int becomes the float the config gives


def test_parameter_groups_are_refused():
    model = nn.Linear(2, 1)
    groups = [{"params": [model.weight]}, {"params": [model.bias], "lr": 0.1}]
    for cls in (HessianFree, EKF, EvolutionStrategies):
        with pytest.raises(ValueError, match="doesn't support per-parameter options"):
            cls(groups)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_adam_uses_the_fused_kernel_and_matches_the_reference_loop(name):
    # the fused kernel (chosen by default for CPU float parameters) against torch's for-loop implementation
    torch.manual_seed(0)
    nets = [nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 1)) for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    fused = lamina.resolve("optimizer", {"type": name, "lr": 0.01, "weight_decay": 0.01}).build(nets[0].parameters())
    loop = lamina.resolve("optimizer", {"type": name, "lr": 0.01, "weight_decay": 0.01, "fused": False}).build(
        [{"params": nets[1].parameters()}]
    )
    assert fused.defaults["fused"] and not loop.defaults["fused"]
    x, y = torch.randn(16, 5), torch.randn(16, 1)
    for _ in range(20):
        for net, opt in zip(nets, (fused, loop)):
            opt.zero_grad()
            nn.functional.mse_loss(net(x), y).backward()
            opt.step()
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)

    from lamina.optim.torch_optimizers import _fused

    # where torch has no fused kernel (here: a tensor on the meta device) the default path is kept
    assert _fused(None, [torch.zeros(2, device="meta")])[1] == {}
    groups, options = _fused(None, [{"params": iter([torch.zeros(2)]), "lr": 0.5}])  # a group's iterator is listed
    assert options == {"fused": True} and isinstance(groups[0]["params"], list) and groups[0]["lr"] == 0.5
