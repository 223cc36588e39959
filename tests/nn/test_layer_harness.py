"""Every registered layer through one harness: output shape, parameter count, config round trip, one step."""

from __future__ import annotations

import pytest
import torch

from lamina.registry import registry, resolve
from tests.helpers import LAYER_CASES, NO_GRADIENT, example_input

LAYERS = registry("layer").names(aliases=False)


def test_every_registered_layer_has_a_harness_entry():
    missing = sorted(set(LAYERS) - set(LAYER_CASES))
    assert not missing, f"add these layers to tests/helpers.py LAYER_CASES: {missing}"


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
def test_layer(name):
    options, in_shape, out_shape, n_params = LAYER_CASES[name]
    spec = resolve("layer", {"type": name, **options})

    # shape rule, and the module agrees with it
    assert spec.output_shape(in_shape) == out_shape
    module = spec.build(in_shape)
    x = example_input(spec, in_shape)
    xs = x if isinstance(x, list) else [x]
    for t in xs:
        if t.is_floating_point():
            t.requires_grad_(True)
    out = module(*xs)
    assert tuple(out.shape) == (3, *out_shape)

    # parameter count, computed by hand in the harness entry
    assert sum(p.numel() for p in module.parameters()) == n_params

    # config round trip: the dumped table resolves to an equal spec
    again = resolve("layer", spec.to_config())
    assert again == spec and again.to_config() == spec.to_config()

    # one training step moves every parameter (or, without parameters, gradients reach the input)
    loss = out.float().pow(2).mean() + out.float().sum() * 0.1
    if n_params:
        opt = torch.optim.SGD(module.parameters(), lr=0.1)
        before = [p.detach().clone() for p in module.parameters()]
        loss.backward()
        opt.step()
        assert all(not torch.equal(b, p) for b, p in zip(before, module.parameters()))
    elif name not in NO_GRADIENT and any(t.requires_grad for t in xs):
        loss.backward()
        assert any(t.grad is not None and t.grad.abs().sum() > 0 for t in xs if t.requires_grad)
    assert torch.isfinite(loss)
