"""Annealed importance sampling of an RBM's partition function (Neal, 2001; Salakhutdinov & Murray, 2008).

A sequence of distributions ``p_k(v) ∝ p*_k(v)`` moves from a base model A with known ``Z_A`` (``beta = 0``) to the
RBM B (``beta = 1``). With ``a(v) = c + W v~`` the RBM's hidden inputs (``v~ = v`` or ``v / sigma``),

* Bernoulli RBM, base-rate model with visible biases ``b_A``:
  ``log p*_beta(v) = (1 - beta) b_A.v + beta b.v + sum_j softplus(beta a_j(v))``,
  ``log Z_A = sum_i softplus(b_A_i) + n_h log 2``;
* Gaussian-Bernoulli RBM, base ``N(b, sigma^2)``:
  ``log p*_beta(v) = -|(v - b) / sigma|^2 / 2 + sum_j softplus(beta a_j(v))``,
  ``log Z_A = sum_i log(sqrt(2 pi) sigma_i) + n_h log 2``.

Both are marginals of an RBM whose energy is scaled by ``beta`` (the hidden side), so the transition ``T_beta`` is
one Gibbs step ``h ~ sigmoid(beta a(v))``, ``v ~ p_beta(v | h)``. Each run starts at ``v ~ p_A`` and accumulates
``log w += log p*_k(v) - log p*_{k-1}(v)`` before moving ``v ~ T_k(v)``; then
``Z_B / Z_A ≈ mean(w)``. Consecutive ``p*`` share ``a(v)``: one step costs two matrix products.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lamina.generative.rbm.functions import hidden_logits, sample_bernoulli, sample_gaussian
from lamina.generative.rbm.partition import check_partition_rbm

__all__ = ["AISEstimate", "AISWarning", "ais_log_partition", "ais_log_weights", "default_betas"]


class AISWarning(RuntimeWarning):
    """An AIS estimate carried by a handful of its runs: too few runs or intermediate distributions for the model."""


def default_betas(n: int = 14500, *, device=None, dtype=torch.float64) -> torch.Tensor:
    """Salakhutdinov & Murray's schedule: ``n`` steps, 500/14500 of them uniform on ``[0, 0.5]``, 4000/14500 on
    ``[0.5, 0.9]`` and 10000/14500 on ``[0.9, 1]`` (finer where the distributions change fastest).

    Returns: ``(n + 1,)`` from 0 to 1.
    """
    if n < 3:
        raise ValueError(f"`n` (the number of AIS steps) must be at least 3, got {n!r}")
    first = max(1, round(n * 500 / 14500))
    second = max(1, round(n * 4000 / 14500))
    third = n - first - second
    parts = [
        torch.linspace(0.0, 0.5, first + 1, dtype=dtype)[:-1],
        torch.linspace(0.5, 0.9, second + 1, dtype=dtype)[:-1],
        torch.linspace(0.9, 1.0, third + 1, dtype=dtype),
    ]
    return torch.cat(parts).to(device)


@torch.no_grad()
def ais_log_weights(
    weight: torch.Tensor,
    visible_bias: torch.Tensor,
    hidden_bias: torch.Tensor,
    betas: torch.Tensor,
    *,
    n_runs: int,
    base_bias: torch.Tensor | None = None,
    std: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The log importance weights of ``n_runs`` independent AIS runs, and ``log Z_A`` of the base model.

    Args:
        weight, visible_bias, hidden_bias: the RBM's ``(n_h, n_v)``, ``(n_v,)``, ``(n_h,)``.
        betas: ``(K + 1,)`` increasing inverse temperatures from 0 to 1.
        n_runs: independent chains.
        base_bias: ``(n_v,)`` the Bernoulli base-rate model's visible biases (Bernoulli RBMs only).
        std: ``(n_v,)`` the visible standard deviations of a Gaussian-Bernoulli RBM; ``None``: Bernoulli.
        generator: the source of every draw.

    Returns:
        ``(log_weights (n_runs,), log_z_base)``, both float64.
    """
    betas = betas.to(torch.float64).tolist()
    if len(betas) < 2 or betas[0] != 0.0 or betas[-1] != 1.0 or any(b2 < b1 for b1, b2 in zip(betas, betas[1:])):
        raise ValueError("`betas` must increase from 0 to 1 (at least two values)")
    w, b, c = weight, visible_bias, hidden_bias
    gaussian = std is not None
    n_h = w.shape[0]
    if gaussian:
        log_z_base = (torch.log(std.double()) + 0.5 * math.log(2 * math.pi)).sum() + n_h * math.log(2.0)
        v = sample_gaussian(b.expand(n_runs, -1), std, generator)
    else:
        if base_bias is None:
            raise ValueError("`base_bias` is needed for a Bernoulli RBM (the base-rate model's visible biases)")
        log_z_base = F.softplus(base_bias.double()).sum() + n_h * math.log(2.0)
        v = sample_bernoulli(torch.sigmoid(base_bias).expand(n_runs, -1).contiguous(), generator)
        bias_gap = b - base_bias  # d/dbeta of the visible term
    log_w = torch.zeros(n_runs, dtype=torch.float64, device=w.device)
    for previous, beta in zip(betas, betas[1:]):
        a = hidden_logits(v / std if gaussian else v, w, c)
        # log p*_beta(v) - log p*_previous(v), term by term (differences of small numbers, not of large sums)
        step = (F.softplus(beta * a) - F.softplus(previous * a)).sum(-1)
        if not gaussian:
            step = step + (beta - previous) * (v @ bias_gap)
        log_w += step.double()
        h = sample_bernoulli(torch.sigmoid(beta * a), generator)
        if gaussian:
            v = sample_gaussian(b + std * (beta * (h @ w)), std, generator)
        else:
            v = sample_bernoulli(torch.sigmoid((1 - beta) * base_bias + beta * torch.addmm(b, h, w)), generator)
    return log_w, log_z_base.to(torch.float64)


@dataclass
class AISEstimate:
    """An AIS estimate of ``log Z`` (nats).

    Attributes:
        log_z: ``log Z_A + log mean(w)``.
        lower, upper: ``log(Z^ -+ n_std * s.e.)``, Salakhutdinov & Murray's interval (``lower`` is ``-inf`` when the
            spread of the weights exceeds their mean: too few runs or steps).
        log_z_base: ``log Z_A``.
        log_weights: ``(n_runs,)``.
        effective_runs: ``(sum w)^2 / sum w^2``, the number of runs the estimate is effectively worth.
    """

    log_z: float
    lower: float
    upper: float
    log_z_base: float
    log_weights: torch.Tensor
    effective_runs: float

    def __float__(self) -> float:
        return self.log_z


def _base_rate_bias(rbm, data: torch.Tensor | None, smoothing: float) -> torch.Tensor:
    if data is None:
        return rbm.visible_bias.detach().clone()
    v = rbm._rows(data.to(rbm.weight.device))
    # the base-rate model: each pixel's frequency, pulled towards 1/2 so none is exactly 0 or 1
    p = (v.sum(0) + smoothing) / (len(v) + 2 * smoothing)
    return torch.logit(p).to(rbm.weight.dtype)


@torch.no_grad()
def ais_log_partition(
    rbm,
    n_runs: int = 100,
    betas: torch.Tensor | int = 14500,
    *,
    data: torch.Tensor | None = None,
    smoothing: float = 0.5,
    n_std: float = 3.0,
    min_effective: float = 0.1,
    generator: torch.Generator | None = None,
) -> AISEstimate:
    """Estimate ``log Z`` of a Bernoulli or Gaussian-Bernoulli RBM by annealed importance sampling.

    Args:
        rbm: the model.
        n_runs: independent AIS runs (100 in Salakhutdinov & Murray, 2008).
        betas: the inverse temperatures ``(K + 1,)`` from 0 to 1, or ``K`` for :func:`default_betas` (14,500 in
            the paper).
        data: Bernoulli RBMs: training data whose pixel frequencies make the base-rate model (recommended: it
            starts the runs near the data and cuts the variance); without it the base is the RBM's own visible
            biases with ``W = 0``. Unused for Gaussian RBMs (base ``N(b, sigma^2)``).
        smoothing: pseudo-counts pulling the base rates towards 1/2.
        n_std: width of the interval in standard errors of ``mean(w)`` (3 in the paper).
        generator: the source of every draw.
        min_effective: warn (:class:`AISWarning`) when the runs are worth fewer than this fraction of ``n_runs``
            (the effective sample size ``(sum w)^2 / sum w^2``): a few runs then carry the estimate, and since
            ``E[log Z^] <= log Z`` it is likely too low, so log-likelihoods computed with it are too high.

    Returns:
        :class:`AISEstimate`; ``log p(v) = -F(v) - estimate.log_z``.

    References:
        Neal, R. M. (2001). Annealed importance sampling. Statistics and Computing.
        Salakhutdinov, R. & Murray, I. (2008). On the quantitative analysis of deep belief networks. ICML.
    """
    family = check_partition_rbm(rbm, "ais_log_partition")
    if isinstance(n_runs, bool) or not isinstance(n_runs, int) or n_runs < 1:
        raise ValueError(f"`n_runs` must be a positive integer, got {n_runs!r}")
    if not 0 <= min_effective <= 1:
        raise ValueError(f"`min_effective` is a fraction of the runs in [0, 1], got {min_effective!r}")
    device = rbm.weight.device
    betas = default_betas(betas, device=device) if isinstance(betas, int) else torch.as_tensor(betas, device=device)
    w, b, c = rbm.weight.detach(), rbm.visible_bias.detach(), rbm.hidden_bias.detach()
    if family == "gaussian":
        log_w, log_z_base = ais_log_weights(w, b, c, betas, n_runs=n_runs, std=rbm.std.detach(), generator=generator)
    else:
        base = _base_rate_bias(rbm, data, smoothing)
        log_w, log_z_base = ais_log_weights(w, b, c, betas, n_runs=n_runs, base_bias=base, generator=generator)
    shift = log_w.max()
    scaled = torch.exp(log_w - shift)  # w / max(w): the mean and spread without overflow
    mean = scaled.mean()
    stderr = scaled.std(unbiased=True) / math.sqrt(n_runs) if n_runs > 1 else torch.zeros((), dtype=mean.dtype)
    log_z = float(log_z_base + shift + torch.log(mean))
    upper = float(log_z_base + shift + torch.log(mean + n_std * stderr))
    gap = mean - n_std * stderr
    lower = float(log_z_base + shift + torch.log(gap)) if gap > 0 else float("-inf")
    effective = float(scaled.sum() ** 2 / scaled.pow(2).sum())
    if effective < min_effective * n_runs:
        warnings.warn(
            f"AIS: the {n_runs} runs are worth {effective:.1f} (effective sample size), below "
            f"{min_effective:g} of them: the estimate log Z = {log_z:.2f} rests on a few runs and is likely "
            f"too low (log-likelihoods too high); use more runs or more intermediate distributions "
            f"(betas, now {len(betas) - 1})",
            AISWarning,
            stacklevel=2,
        )
    return AISEstimate(log_z, lower, upper, float(log_z_base), log_w.cpu(), effective)
