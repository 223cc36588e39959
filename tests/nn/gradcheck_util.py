"""Gradient checks of whole modules: float64 finite differences against autograd, for the inputs and every
parameter at once (``torch.func.functional_call`` turns the parameters into inputs)."""

from __future__ import annotations

import copy

import torch
from torch.func import functional_call


def gradcheck_module(
    module: torch.nn.Module, *inputs: torch.Tensor, reseed: int | None = None, fast: bool = False
) -> bool:
    """``torch.autograd.gradcheck`` of ``module`` (copied to float64) w.r.t. its float inputs and parameters.

    ``reseed``: stochastic layers draw their masks from ``module.generator``; re-seeding it before every call makes
    each evaluation use the same masks, so finite differences are meaningful.
    """
    module = copy.deepcopy(module).double()
    names = [n for n, p in module.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_(True) for p in module.parameters())
    xs = tuple(x.detach().double().requires_grad_(True) if x.is_floating_point() else x for x in inputs)
    stochastic = [m for m in module.modules() if hasattr(m, "generator")]

    def fn(*args):
        if reseed is not None:
            for m in stochastic:
                m.generator = torch.Generator().manual_seed(reseed)
        ps, ins = args[: len(params)], args[len(params) :]
        out = functional_call(module, dict(zip(names, ps)), ins)
        return out

    # fast mode compares v^T J u for random u, v: one check of the whole Jacobian, not one per entry
    return torch.autograd.gradcheck(fn, params + xs, eps=1e-6, atol=1e-5, rtol=1e-4, fast_mode=fast)
