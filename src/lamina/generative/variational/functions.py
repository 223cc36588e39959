"""The variational autoencoder's math as functions of tensors (Kingma & Welling, 2014; Burda, Grosse &
Salakhutdinov, 2016).

    q(z | x) = N(z; mu(x), diag sigma^2(x))           the encoder (recognition model)
    p(z) = N(z; 0, I)                                  the prior
    z = mu + sigma * eps,  eps ~ N(0, I)               the reparameterisation trick
    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z)) <= log p(x)
    KL = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)      (Kingma & Welling, 2014, appendix B)
    L_k(x) = E[log 1/k sum_i p(x, z_i) / q(z_i | x)],  z_i ~ q    the importance-weighted bound (IWAE)

``L_1`` is the ELBO, ``L_k <= L_{k+1} <= log p(x)`` and ``L_k -> log p(x)`` as ``k`` grows (Burda et al., 2016,
theorem 1): its single-sample value with ``k = 5000`` is the usual test log-likelihood estimate.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = [
    "LOG_2PI",
    "bernoulli_log_likelihood",
    "gaussian_kl",
    "gaussian_log_density",
    "importance_weighted_bound",
    "reparameterize",
]

LOG_2PI = math.log(2 * math.pi)


def gaussian_kl(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """``KL(N(mean, diag exp(log_var)) || N(0, I)) = 1/2 sum_j (mean_j^2 + exp(log_var_j) - 1 - log_var_j)``.

    Shape: ``(..., d)`` each -> ``(...)``: summed over the last (latent) dimension.
    """
    return 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).sum(dim=-1)


def gaussian_log_density(x: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """``log N(x; mean, diag exp(log_var)) = -1/2 sum_j (log 2 pi + log_var_j + (x_j - mean_j)^2 / exp(log_var_j))``.

    Shape: broadcastable ``(..., d)`` -> ``(...)``.
    """
    return -0.5 * (LOG_2PI + log_var + (x - mean).pow(2) * torch.exp(-log_var)).sum(dim=-1)


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``log p(x | z) = sum_i x_i log s(l_i) + (1 - x_i) log(1 - s(l_i))`` from the decoder's logits ``l``
    (``s`` the sigmoid), computed as ``-binary_cross_entropy_with_logits``, exact where ``log s`` would underflow.

    Shape: broadcastable ``(..., d)`` -> ``(...)``.
    """
    logits, x = torch.broadcast_tensors(logits, x)
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)


def reparameterize(
    mean: torch.Tensor,
    log_var: torch.Tensor,
    *,
    samples: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``z = mean + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)``: a draw from ``q`` that is a differentiable
    function of ``mean`` and ``log_var`` (Kingma & Welling, 2014, section 2.4).

    Args:
        mean, log_var: ``(N, d)``.
        samples: draw this many per example, shape ``(samples, N, d)``; ``None``: one, shape ``(N, d)``.
        generator: the source of ``eps`` (``None``: torch's global generator, which the trainer seeds).
    """
    shape = mean.shape if samples is None else (samples, *mean.shape)
    eps = torch.randn(shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + torch.exp(0.5 * log_var) * eps


def importance_weighted_bound(log_weights: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """``log 1/k sum_i w_i = logsumexp_i(log w_i) - log k`` over ``dim`` (the ``k`` samples): the IWAE estimate
    from the log importance weights ``log w_i = log p(x, z_i) - log q(z_i | x)`` (Burda et al., 2016, eq. 8)."""
    k = log_weights.shape[dim]
    return torch.logsumexp(log_weights, dim=dim) - math.log(k)
