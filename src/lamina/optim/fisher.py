"""The diagonal of the empirical Fisher matrix, ``(1/N) sum_i g_i * g_i`` over per-example gradients ``g_i``:
Hessian-free's preconditioner (Martens, 2010, section 4.7).

Per-example gradients are costly in general: ``torch.func.vmap`` over ``torch.func.grad`` materialises them a chunk
at a time. For networks whose weights all sit in ``nn.Linear`` layers applied once to each example (MLPs,
autoencoders) the sum of squares has a closed form (Goodfellow, 2015): example ``i``'s gradient of a layer's weight
is the outer product ``delta_i a_i^T`` of the gradient at the layer's output and its input, so

    sum_i (delta_i a_i^T)^2 = (delta^2)^T (a^2)          sum_i (delta_i)^2   (the bias)

elementwise, from one ordinary backward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from lamina.optim.curvature import flatten

__all__ = ["empirical_fisher_diagonal"]


def _linear_layers(model: nn.Module, params: Sequence[torch.Tensor]) -> list[nn.Linear] | None:
    """The ``nn.Linear`` layers owning every parameter in ``params``, or ``None`` if some parameter is elsewhere."""
    owners, wanted = [], {id(p) for p in params}
    for module in model.modules():
        if isinstance(module, nn.Linear):
            mine = {id(p) for p in module.parameters(recurse=False)}
            if mine & wanted:
                owners.append(module)
                wanted -= mine
    return owners if not wanted else None


def _fisher_linear(
    model: nn.Module,
    layers: list[nn.Linear],
    params: Sequence[torch.Tensor],
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss_fn: Callable,
) -> torch.Tensor | None:
    """The closed form for linear layers (``None`` if a layer saw other than one 2-D input per forward pass)."""
    seen: dict[nn.Linear, list[torch.Tensor]] = {layer: [] for layer in layers}

    def _keep(layer: nn.Module, args: tuple, output: torch.Tensor) -> None:
        seen[layer].append(args[0].detach())
        seen[layer].append(output)

    handles = [layer.register_forward_hook(_keep) for layer in layers]
    try:
        with torch.enable_grad():
            loss = loss_fn(model(inputs), targets)
    finally:
        for h in handles:
            h.remove()
    if any(len(v) != 2 or v[0].dim() != 2 for v in seen.values()):
        return None
    outputs = [seen[layer][1] for layer in layers]
    # the batch loss is the mean of the examples' losses: N times its gradient is each example's own
    deltas = torch.autograd.grad(loss * len(inputs), outputs, allow_unused=True)
    squares: dict[int, torch.Tensor] = {}
    for layer, delta in zip(layers, deltas):
        a = seen[layer][0]  # (N, in)
        d2 = (
            delta.pow(2)
            if delta is not None
            else torch.zeros(len(a), layer.out_features, dtype=a.dtype, device=a.device)
        )  # (N, out)
        squares[id(layer.weight)] = d2.T @ a.pow(2)  # (out, in)
        if layer.bias is not None:
            squares[id(layer.bias)] = d2.sum(0)
    return flatten([squares[id(p)] for p in params], params) / len(inputs)


def _fisher_vmap(
    model: nn.Module,
    params: Sequence[torch.Tensor],
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss_fn: Callable,
    chunk: int | None,
) -> torch.Tensor:
    from torch.func import functional_call, grad, vmap

    names = {id(p): name for name, p in model.named_parameters()}
    keys = [names[id(p)] for p in params]

    def _example_loss(weights: dict, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return loss_fn(functional_call(model, weights, (x.unsqueeze(0),)), t.unsqueeze(0))

    per_example = vmap(grad(_example_loss), in_dims=(None, 0, 0), randomness="different")
    weights = {k: p.detach() for k, p in zip(keys, params)}
    total = [torch.zeros_like(p) for p in params]
    chunk = chunk or max(1, 2**25 // max(1, sum(p.numel() for p in params)))
    for start in range(0, len(inputs), chunk):
        grads = per_example(weights, inputs[start : start + chunk], targets[start : start + chunk])
        for acc, k in zip(total, keys):
            acc.add_(grads[k].pow(2).sum(0))
    return flatten(total, params) / len(inputs)


def empirical_fisher_diagonal(
    model: nn.Module,
    params: Sequence[torch.Tensor],
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss_fn: Callable,
    *,
    chunk: int | None = None,
    method: str = "auto",
) -> torch.Tensor:
    """``(1/N) sum_i g_i * g_i``, with ``g_i`` the gradient of example ``i``'s loss ``loss_fn(model(x_i), t_i)`` (so
    that the batch loss is ``(1/N) sum_i`` of those losses, as for every mean-reduced loss).

    Args:
        model: the network; ``params`` must be among its parameters (others are held fixed).
        inputs, targets: the batch (``N`` examples).
        loss_fn: ``loss_fn(outputs, targets) -> scalar``, a mean over the examples.
        chunk: examples per ``vmap`` call (default: about 2^25 gradient entries, 128 MiB in float32).
        method: ``"linear"`` (the closed form; every parameter in an ``nn.Linear`` applied once to 2-D inputs),
            ``"vmap"`` (any model ``torch.func`` can trace), or ``"auto"`` (linear where it applies).

    Returns:
        A flat vector of ``sum(p.numel())`` entries.

    Cost: one forward and backward pass of the batch (linear), or about that plus ``N`` gradient-sized buffers in
    chunks (vmap).

    References:
        Martens, "Deep learning via Hessian-free optimization", ICML 2010, section 4.7.
        Goodfellow, "Efficient per-example gradient computations", arXiv:1510.01799, 2015.
    """
    if method not in ("auto", "linear", "vmap"):
        raise ValueError(f"`method` must be 'auto', 'linear' or 'vmap', got {method!r}")
    names = {id(p) for p in model.parameters()}
    missing = [i for i, p in enumerate(params) if id(p) not in names]
    if missing:
        raise ValueError(f"empirical_fisher_diagonal: parameters {missing} are not parameters of the model")
    if method != "vmap":
        layers = _linear_layers(model, params)
        result = None if layers is None else _fisher_linear(model, layers, params, inputs, targets, loss_fn)
        if result is not None:
            return result
        if method == "linear":
            raise ValueError(
                "empirical_fisher_diagonal(method='linear'): every parameter must belong to an nn.Linear "
                "applied once per forward pass to a 2-D input; use method='vmap'"
            )
    return _fisher_vmap(model, params, inputs, targets, loss_fn, chunk)
