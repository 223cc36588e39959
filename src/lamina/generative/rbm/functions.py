"""The math of restricted Boltzmann machines as pure functions: energies, free energies, conditionals, sampling.

Conventions (those of ``nn.Linear``): ``weight`` is ``(n_hidden, n_visible)``, visible vectors are rows ``(N, n_v)``
and hidden vectors rows ``(N, n_h)``. Two families share the hidden side (binary units):

* **Bernoulli-Bernoulli** (Smolensky, 1986; Hinton, 2002): binary visible units,
  ``E(v, h) = -b.v - c.h - h.W v``, ``p(h_j = 1 | v) = sigmoid(c_j + W_j v)``,
  ``p(v_i = 1 | h) = sigmoid(b_i + h.W_i)``.
* **Gaussian-Bernoulli** (Welling et al., 2005; Hinton & Salakhutdinov, 2006), visible standard deviations
  ``sigma``: ``E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - c.h - h.W (v / sigma)``,
  ``p(h_j = 1 | v) = sigmoid(c_j + W_j (v / sigma))``, ``p(v_i | h) = N(b_i + sigma_i h.W_i, sigma_i^2)``.

Summing out the binary hidden units gives the free energy ``F(v) = -log sum_h exp(-E(v, h))``, whose softplus form
is used everywhere: ``sum_h prod_j exp(h_j a_j) = prod_j (1 + exp(a_j))``. Every sampler takes an explicit
``generator`` (``None``: torch's global generator).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lamina.generative.rbm import fused_kernels

__all__ = [
    "hidden_logits",
    "visible_logits",
    "bernoulli_energy",
    "bernoulli_free_energy",
    "gaussian_energy",
    "gaussian_free_energy",
    "sample_bernoulli",
    "sample_gaussian",
    "sample_softmax",
    "bernoulli_visible_mean",
    "sample_bernoulli_visible",
]


def hidden_logits(v: torch.Tensor, weight: torch.Tensor, hidden_bias: torch.Tensor) -> torch.Tensor:
    """``a = c + v W^T``, the hidden units' total inputs. Shape: ``(N, n_v) -> (N, n_h)``."""
    return torch.addmm(hidden_bias, v, weight.t())


def visible_logits(h: torch.Tensor, weight: torch.Tensor, visible_bias: torch.Tensor) -> torch.Tensor:
    """``b + h W``, the visible units' total inputs. Shape: ``(N, n_h) -> (N, n_v)``."""
    return torch.addmm(visible_bias, h, weight)


def bernoulli_energy(
    v: torch.Tensor, h: torch.Tensor, weight: torch.Tensor, visible_bias: torch.Tensor, hidden_bias: torch.Tensor
) -> torch.Tensor:
    """``E(v, h) = -b.v - c.h - h.W v`` of a Bernoulli RBM, one value per row. Shape: ``(N, n_v), (N, n_h) -> (N,)``."""
    return -(v @ visible_bias) - (h @ hidden_bias) - ((h @ weight) * v).sum(-1)


def bernoulli_free_energy(
    v: torch.Tensor, weight: torch.Tensor, visible_bias: torch.Tensor, hidden_bias: torch.Tensor
) -> torch.Tensor:
    """``F(v) = -b.v - sum_j softplus(c_j + W_j v)`` (Hinton, 2010, eq. 9). Shape: ``(N, n_v) -> (N,)``."""
    return -(v @ visible_bias) - F.softplus(hidden_logits(v, weight, hidden_bias)).sum(-1)


def gaussian_energy(
    v: torch.Tensor,
    h: torch.Tensor,
    weight: torch.Tensor,
    visible_bias: torch.Tensor,
    hidden_bias: torch.Tensor,
    std: torch.Tensor,
) -> torch.Tensor:
    """``E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - c.h - h.W (v / sigma)``. Shape: ``-> (N,)``."""
    quadratic = (((v - visible_bias) / std) ** 2).sum(-1) / 2
    return quadratic - (h @ hidden_bias) - ((h @ weight) * (v / std)).sum(-1)


def gaussian_free_energy(
    v: torch.Tensor, weight: torch.Tensor, visible_bias: torch.Tensor, hidden_bias: torch.Tensor, std: torch.Tensor
) -> torch.Tensor:
    """``F(v) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - sum_j softplus(c_j + W_j (v / sigma))``. Shape: ``-> (N,)``."""
    quadratic = (((v - visible_bias) / std) ** 2).sum(-1) / 2
    return quadratic - F.softplus(hidden_logits(v / std, weight, hidden_bias)).sum(-1)


def sample_bernoulli(probabilities: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Binary states with ``P(x = 1) = probabilities`` (same shape and dtype).

    float32 on the CPU: Threefry uniforms from :mod:`lamina.generative.rbm.fused_kernels` where it is available
    (about 8x faster than ``torch.rand``); otherwise, and in every other dtype and device, ``torch.rand(...) < p``."""
    if fused_kernels.applies(probabilities):
        return fused_kernels.bernoulli(probabilities, generator)
    # u < p is the inverse-CDF draw; on the CPU it is faster than torch.bernoulli. In place: no second buffer
    u = torch.rand(probabilities.shape, generator=generator, device=probabilities.device, dtype=probabilities.dtype)
    return u.lt_(probabilities)


def sample_gaussian(mean: torch.Tensor, std: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draws from ``N(mean, std^2)`` elementwise (``std`` broadcasts over rows)."""
    noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + std * noise


def sample_softmax(probabilities: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One-hot rows drawn from the categorical distributions in the rows of ``probabilities`` (a group of mutually
    exclusive units, e.g. a class label). Shape: ``(N, K) -> (N, K)``."""
    # inverse CDF with one uniform per row (cheaper than multinomial, and it takes a generator on any device)
    u = torch.rand(
        probabilities.shape[0], 1, generator=generator, device=probabilities.device, dtype=probabilities.dtype
    )
    index = (probabilities.cumsum(-1) < u).sum(-1, keepdim=True).clamp_max(probabilities.shape[1] - 1)
    return torch.zeros_like(probabilities).scatter_(1, index, 1.0)


def bernoulli_visible_mean(logits: torch.Tensor, softmax_units: int = 0) -> torch.Tensor:
    """``E[v | h]`` of binary visible units from their total inputs; the last ``softmax_units`` form one softmax
    group (a one-of-K label, Hinton, Osindero & Teh, 2006). Shape: ``(N, n_v) -> (N, n_v)``."""
    if not softmax_units:
        return torch.sigmoid(logits)
    return torch.cat([torch.sigmoid(logits[:, :-softmax_units]), torch.softmax(logits[:, -softmax_units:], -1)], 1)


def sample_bernoulli_visible(
    mean: torch.Tensor, softmax_units: int = 0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Binary visible states from :func:`bernoulli_visible_mean`'s output (one-hot for the softmax group)."""
    if not softmax_units:
        return sample_bernoulli(mean, generator)
    return torch.cat(
        [sample_bernoulli(mean[:, :-softmax_units], generator), sample_softmax(mean[:, -softmax_units:], generator)], 1
    )
