"""Exact log-partition functions, log-likelihoods and pseudo-likelihoods of small RBMs.

``Z = sum_{v,h} exp(-E(v, h))`` has ``2^(n_v + n_h)`` terms, but either layer sums out analytically given the other:

* Bernoulli RBM, summing ``h`` out: ``log Z = logsumexp_v [b.v + sum_j softplus(c_j + W_j v)]``;
  summing ``v`` out: ``log Z = logsumexp_h [c.h + sum_i softplus(b_i + h.W_i)]``.
* Gaussian-Bernoulli RBM, integrating ``v`` out (a Gaussian integral per unit, with ``m = h W``):
  ``log Z = logsumexp_h [c.h + sum_i (m_i^2 / 2 + b_i m_i / sigma_i)] + sum_i log(sqrt(2 pi) sigma_i)``.

So :func:`exact_log_partition` enumerates only the smaller (for Gaussian RBMs: the hidden) layer: ``2^25`` states
take about a minute on two CPU cores; beyond that use :func:`~lamina.generative.ais_log_partition`.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["exact_log_partition", "log_likelihood", "pseudo_log_likelihood", "binary_states"]

MAX_ENUMERATED_UNITS = 25


def binary_states(start: int, count: int, n: int, *, device=None, dtype=torch.float64) -> torch.Tensor:
    """Rows ``start .. start + count - 1`` of the ``2^n`` binary vectors (bit ``i`` of the row index is unit ``i``).

    Shape: ``(count, n)``.
    """
    index = torch.arange(start, start + count, device=device, dtype=torch.int64)
    bits = torch.arange(n, device=device, dtype=torch.int64)
    return ((index[:, None] >> bits) & 1).to(dtype)


def _logsumexp_over_states(n: int, score, *, device, dtype, chunk: int) -> torch.Tensor:
    """``logsumexp`` of ``score(states)`` over all ``2^n`` binary states, in chunks of ``chunk`` states."""
    partial = [
        torch.logsumexp(score(binary_states(s, min(chunk, 2**n - s), n, device=device, dtype=dtype)), 0)
        for s in range(0, 2**n, chunk)
    ]
    return torch.logsumexp(torch.stack(partial), 0)


@torch.no_grad()
def check_partition_rbm(rbm: Any, caller: str) -> str:
    """The RBM's family (``"bernoulli"`` or ``"gaussian"``), after refusing what a partition function here cannot
    handle: another family, or a softmax label group. ``caller`` names the function in the error."""
    family = getattr(rbm, "family", "")
    if family not in ("bernoulli", "gaussian"):
        raise ValueError(f"{caller} needs a BernoulliRBM or GaussianBernoulliRBM, got {type(rbm).__name__}")
    if getattr(rbm, "softmax_units", 0):
        raise ValueError(
            f"{caller} does not handle an RBM with a softmax label group (softmax_units={rbm.softmax_units})"
        )
    return family


def exact_log_partition(rbm, *, dtype: torch.dtype = torch.float64, chunk: int = 2**14) -> torch.Tensor:
    """``log Z`` of a Bernoulli or Gaussian-Bernoulli RBM, exactly, by enumerating its smaller layer (its hidden
    layer for a Gaussian RBM) in log space.

    Args:
        rbm: a :class:`~lamina.generative.BernoulliRBM` or :class:`~lamina.generative.GaussianBernoulliRBM`.
        dtype: of the computation (float64: the sum of up to ``2^25`` terms keeps ~1e-10 relative accuracy).
        chunk: states per batch (memory ``chunk * max(n_v, n_h)`` numbers).

    Returns:
        A 0-dim tensor, in nats.

    Raises:
        ValueError: the layer to enumerate has more than 25 units (``2^25`` states).
    """
    family = check_partition_rbm(rbm, "exact_log_partition")
    w = rbm.weight.detach().to(dtype)
    b, c = rbm.visible_bias.detach().to(dtype), rbm.hidden_bias.detach().to(dtype)
    n_h, n_v = w.shape
    sum_visible = family == "gaussian" or n_h <= n_v  # enumerate h, integrate/sum v out analytically
    n = n_h if sum_visible else n_v
    if n > MAX_ENUMERATED_UNITS:
        layer = "hidden" if sum_visible else "visible"
        raise ValueError(
            f"exact_log_partition enumerates the 2^{n} states of the {layer} layer; at most "
            f"2^{MAX_ENUMERATED_UNITS} are feasible. Use ais_log_partition for this RBM"
        )
    if family == "gaussian":
        std = rbm.std.detach().to(dtype)

        def _score(h):
            m = h @ w
            return h @ c + (m.pow(2) / 2 + m * (b / std)).sum(-1)

        constant = (torch.log(std) + 0.5 * math.log(2 * math.pi)).sum()
        return _logsumexp_over_states(n_h, _score, device=w.device, dtype=dtype, chunk=chunk) + constant
    if sum_visible:
        return _logsumexp_over_states(
            n_h, lambda h: h @ c + F.softplus(torch.addmm(b, h, w)).sum(-1), device=w.device, dtype=dtype, chunk=chunk
        )
    return _logsumexp_over_states(
        n_v, lambda v: v @ b + F.softplus(torch.addmm(c, v, w.t())).sum(-1), device=w.device, dtype=dtype, chunk=chunk
    )


@torch.no_grad()
def log_likelihood(rbm, v: torch.Tensor, log_z: torch.Tensor | float) -> torch.Tensor:
    """``log p(v) = -F(v) - log Z`` per example, in nats (``log_z`` from :func:`exact_log_partition` or AIS).

    A Bernoulli RBM's likelihood is defined for binary data only: other values raise a
    :class:`~lamina.errors.DataError`. Shape: ``(N, n_v) -> (N,)``.
    """
    v = rbm._rows(v)
    if getattr(rbm, "family", "") == "bernoulli":
        rbm.check_visible(v, binary=True)
    return -rbm.free_energy(v).to(torch.float64) - torch.as_tensor(log_z, dtype=torch.float64, device=v.device)


@torch.no_grad()
def pseudo_log_likelihood(
    rbm, v: torch.Tensor, *, exact: bool = False, generator: torch.Generator | None = None
) -> torch.Tensor:
    """The pseudo-log-likelihood ``sum_i log p(v_i | v_-i)`` of a Bernoulli RBM (Besag, 1975), per example.

    ``p(v_i | v_-i) = sigmoid(F(v with i flipped) - F(v))``. ``exact`` sums all ``n_v`` terms; otherwise one unit
    ``i`` per example is drawn (from ``generator``) and the estimate is ``n_v * log sigmoid(F(v^(i)) - F(v))``,
    unbiased and what scikit-learn's ``BernoulliRBM.score_samples`` returns.

    Shape: ``(N, n_v) -> (N,)``.
    """
    if getattr(rbm, "family", "") != "bernoulli":
        raise ValueError(f"pseudo_log_likelihood is defined here for Bernoulli RBMs, got {type(rbm).__name__}")
    v = rbm._rows(v)
    w, b, c = rbm.weight, rbm.visible_bias, rbm.hidden_bias
    logits = torch.addmm(c, v, w.t())  # (N, n_h)
    flip = 1 - 2 * v  # +1 turns a unit on, -1 off
    if not exact:
        i = torch.randint(v.shape[1], (v.shape[0],), generator=generator, device=v.device)
        rows = torch.arange(v.shape[0], device=v.device)
        # F(v^(i)) - F(v) = -b_i flip_i - sum_j [softplus(a_j + W_ji flip_i) - softplus(a_j)]
        d = flip[rows, i]
        gap = -b[i] * d - (F.softplus(logits + w[:, i].t() * d[:, None]) - F.softplus(logits)).sum(-1)
        return v.shape[1] * F.logsigmoid(gap)
    total = torch.zeros(v.shape[0], dtype=v.dtype, device=v.device)
    base = F.softplus(logits).sum(-1)
    for i in range(v.shape[1]):
        d = flip[:, i]
        gap = -b[i] * d - (F.softplus(logits + w[:, i] * d[:, None]).sum(-1) - base)
        total += F.logsigmoid(gap)
    return total
