"""Contrastive divergence (Hinton, 2002) and persistent contrastive divergence (Tieleman, 2008) as pure functions.

The log-likelihood gradient of an RBM is a difference of two expectations,
``d log p(v) / dW = <h v^T>_data - <h v^T>_model``. CD-k estimates the model term from a Gibbs chain started at the
data and run for ``k`` steps; PCD keeps the chains between updates ("persistent" fantasy particles) and runs them
from where they stopped. Both statistics come from :func:`cd_statistics`; :func:`cd_surrogate` turns them into a
scalar whose gradient *is* the (negated) update, so any torch optimizer, AMP and DDP apply it unchanged:

    L = mean_data F(v) - mean_model F(v')     (v' detached),
    dL/dW = <p(h|v') v'^T>_model - <p(h|v) v^T>_data,   dL/db = <v'> - <v>,   dL/dc = <p(h|v')> - <p(h|v)>.

For the Bernoulli RBM the gradient is written by hand (:class:`_BernoulliCDSurrogate`), which reuses the hidden
inputs the sampler already computed: one CD-1 step costs the five matrix products of the textbook update
(three for the chain, two for the statistics) instead of the seven that autograd through ``F`` would run.

Order of random draws (fixed, so a test can replay it with the same generator): for each of the ``k`` steps, one
``rand`` (or ``randn``) of the hidden shape, then one of the visible shape unless the last step keeps the
mean-field reconstruction of a CD chain. float32 on the CPU, where :mod:`lamina.generative.rbm.fused_kernels` is
available, a Bernoulli RBM's passes are fused instead (sigmoid, sample, softplus and column sums of the hidden logits
in one pass, Threefry uniforms): each of those draws is then one 64-bit key taken from the generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lamina.generative.rbm import fused_kernels
from lamina.generative.rbm.functions import (
    bernoulli_visible_mean,
    hidden_logits,
    sample_bernoulli,
    sample_bernoulli_visible,
    sample_gaussian,
    visible_logits,
)

__all__ = ["CDStatistics", "CDSummary", "cd_statistics", "cd_surrogate", "sparsity_delta"]


@dataclass
class CDSummary:
    """The batch means the Bernoulli surrogate needs, when the fused kernels computed them during sampling.

    Attributes:
        v_mean_data: ``(n_v,)`` ``<v>_data``.
        dv: ``(n_v,)`` ``<v>_model - <v>_data``.
        dh: ``(n_h,)`` ``<p(h|v)>_model - <p(h|v)>_data``.
        softplus_gap: 0-d, ``mean_model sum_j softplus(a_j) - mean_data sum_j softplus(a_j)`` (float64).
    """

    v_mean_data: torch.Tensor
    dv: torch.Tensor
    dh: torch.Tensor
    softplus_gap: torch.Tensor


@dataclass
class CDStatistics:
    """The two phases of one CD/PCD update.

    Attributes:
        v_data: ``(N, n_v)`` the data batch.
        h_data: ``(N, n_h)`` ``p(h = 1 | v_data)``.
        logits_data: ``(N, n_h)`` the hidden inputs ``c + W v_data`` (of ``v / sigma`` for Gaussian units).
        v_model: ``(M, n_v)`` the chain's visible states used in the statistics (means or samples).
        h_model: ``(M, n_h)`` ``p(h = 1 | v_model)``.
        logits_model: ``(M, n_h)``.
        chain: ``(M, n_v)`` the last visible *sample* (the next persistent state), or ``None`` for CD with a
            mean-field last step.
        summary: the surrogate's means, when the fused kernels computed them (:class:`CDSummary`), else ``None``.
    """

    v_data: torch.Tensor
    h_data: torch.Tensor
    logits_data: torch.Tensor
    v_model: torch.Tensor
    h_model: torch.Tensor
    logits_model: torch.Tensor
    chain: torch.Tensor | None
    summary: CDSummary | None = None


def cd_statistics(
    v_data: torch.Tensor,
    weight: torch.Tensor,
    visible_bias: torch.Tensor,
    hidden_bias: torch.Tensor,
    *,
    k: int = 1,
    std: torch.Tensor | None = None,
    start: torch.Tensor | None = None,
    mean_field: bool = True,
    softmax_units: int = 0,
    generator: torch.Generator | None = None,
) -> CDStatistics:
    """Run the negative phase of CD-k (``start=None``: chains start at the data) or PCD (``start``: the persistent
    chains' visible states).

    Each step samples ``h ~ p(h | v)`` then ``v ~ p(v | h)``; the last step keeps the mean ``E[v | h]`` in the
    statistics when ``mean_field`` (Hinton, 2010, sec. 3.2: less sampling noise, same expected update), while
    intermediate states are always sampled, so the chain stays a Gibbs chain.

    Args:
        v_data: ``(N, n_v)``.
        weight, visible_bias, hidden_bias: ``(n_h, n_v)``, ``(n_v,)``, ``(n_h,)``; used without gradient.
        k: Gibbs steps.
        std: ``(n_v,)`` visible standard deviations of a Gaussian-Bernoulli RBM; ``None``: Bernoulli visible units.
        start: ``(M, n_v)`` persistent chain states (PCD).
        mean_field: use the visible means of the last step in the statistics.
        softmax_units: Bernoulli RBMs: the last ``softmax_units`` visible units are one softmax group (a label).
        generator: the source of every random draw.

    Returns:
        :class:`CDStatistics`, all without gradient.
    """
    if k < 1:
        raise ValueError(f"`k` must be a positive integer, got {k!r}")
    if std is None and not softmax_units and fused_kernels.applies(v_data, weight.detach()):
        with torch.no_grad():
            stats = _fused_bernoulli_statistics(
                v_data,
                weight.detach(),
                visible_bias,
                hidden_bias,
                k=k,
                start=start,
                mean_field=mean_field,
                generator=generator,
            )
        if stats is not None:
            return stats
    with torch.no_grad():
        gaussian = std is not None
        weight = weight.detach()
        scaled = (lambda v: v / std) if gaussian else (lambda v: v)  # Gaussian units enter the hidden side as v/sigma
        logits_data = hidden_logits(scaled(v_data), weight, hidden_bias)
        h_data = torch.sigmoid(logits_data)
        probabilities = h_data if start is None else torch.sigmoid(hidden_logits(scaled(start), weight, hidden_bias))
        chain = None
        for step in range(k):
            h = sample_bernoulli(probabilities, generator)
            if gaussian:
                mean = visible_bias + std * (h @ weight)
            else:
                mean = bernoulli_visible_mean(visible_logits(h, weight, visible_bias), softmax_units)
            last = step == k - 1
            if last and mean_field and start is None:
                v = mean
            else:
                chain = (
                    sample_gaussian(mean, std, generator)
                    if gaussian
                    else sample_bernoulli_visible(mean, softmax_units, generator)
                )
                v = mean if last and mean_field else chain
            logits_model = hidden_logits(scaled(v), weight, hidden_bias)
            probabilities = torch.sigmoid(logits_model)
        return CDStatistics(v_data, h_data, logits_data, v, probabilities, logits_model, chain)


def _fused_bernoulli_statistics(
    v_data: torch.Tensor,
    weight: torch.Tensor,
    visible_bias: torch.Tensor,
    hidden_bias: torch.Tensor,
    *,
    k: int,
    start: torch.Tensor | None,
    mean_field: bool,
    generator: torch.Generator | None,
) -> CDStatistics | None:
    """:func:`cd_statistics` of a Bernoulli RBM through :func:`fused_kernels.sigmoid_pass`: each hidden layer's
    sigmoid, sample, softplus sum and column sums in one pass, the surrogate's means in the result's ``summary``.
    ``None`` when the products do not run in float32 (autocast): the caller takes torch's path."""
    persistent = start is not None
    logits_data = hidden_logits(v_data, weight, hidden_bias)
    if logits_data.dtype != torch.float32:
        return None
    data = fused_kernels.sigmoid_pass(
        logits_data, sample=not persistent, softplus=True, column_sum=True, generator=generator
    )
    h = (
        fused_kernels.sigmoid_pass(hidden_logits(start, weight, hidden_bias), sample=True, generator=generator).sample
        if persistent
        else data.sample
    )
    chain = None
    for step in range(k):
        last = step == k - 1
        mean = torch.sigmoid(visible_logits(h, weight, visible_bias))
        if last and mean_field and not persistent:
            v = mean
        else:
            chain = sample_bernoulli(mean, generator)
            v = mean if last and mean_field else chain
        logits_model = hidden_logits(v, weight, hidden_bias)
        model = fused_kernels.sigmoid_pass(
            logits_model, sample=not last, softplus=last, column_sum=last, generator=generator
        )
        h = model.sample
    n_data, n_model = len(v_data), len(v)
    v_mean_data = v_data.mean(0)
    summary = CDSummary(
        v_mean_data=v_mean_data,
        dv=v.mean(0) - v_mean_data,
        dh=model.column_sum / n_model - data.column_sum / n_data,
        softplus_gap=model.softplus_sum / n_model - data.softplus_sum / n_data,
    )
    return CDStatistics(v_data, data.probabilities, logits_data, v, model.probabilities, logits_model, chain, summary)


def sparsity_delta(activity: torch.Tensor, target: float, cost: float) -> torch.Tensor:
    """``cost * (q - p)``: the derivative of the sparsity penalty ``cost * sum_j CE(p, q_j)`` with respect to each
    hidden unit's total input, where ``q_j`` is a running mean of ``p(h_j = 1 | v)`` and ``p`` the target
    (Hinton, 2010, sec. 11; Lee, Ekanadham & Ng, 2008). It is applied to the hidden biases and, times the mean
    visible activity, to the weights."""
    return cost * (activity - target)


class _BernoulliCDSurrogate(torch.autograd.Function):
    """The CD surrogate of a Bernoulli RBM with its gradient written out (see the module docstring)."""

    @staticmethod
    def forward(
        ctx,
        weight,
        visible_bias,
        hidden_bias,
        v_data,
        h_data,
        logits_data,
        v_model,
        h_model,
        logits_model,
        delta,
        weight_decay,
        summary,
    ):
        # F(v) = -b.v - sum softplus(a): the means of both terms for data and model. The mean differences are the
        # bias gradients too: computed once here (or taken from the fused sampling passes), kept for backward
        if summary is not None:
            v_mean_data, dv, dh = summary.v_mean_data, summary.dv, summary.dh
            value = dv @ visible_bias.to(dv.dtype) + summary.softplus_gap.to(dv.dtype)
        else:
            v_mean_data = v_data.mean(0)
            dv = v_model.mean(0) - v_mean_data
            dh = h_model.mean(0) - h_data.mean(0)
            value = dv @ visible_bias.to(dv.dtype)
            value = (
                value + F.softplus(logits_model).sum() / len(logits_model) - F.softplus(logits_data).sum() / len(v_data)
            )
        if delta is not None:
            value = value + (delta * logits_data.mean(0)).sum()
        if weight_decay:
            value = value + 0.5 * weight_decay * weight.pow(2).sum()
        ctx.weight_decay = weight_decay
        # the products run in the statistics' dtype (bfloat16/float16 under autocast), the gradients are the weights'
        dtype = logits_data.dtype
        ctx.save_for_backward(
            weight, *(t.to(dtype) for t in (v_data, h_data, v_model, h_model)), dv, dh, v_mean_data, delta
        )
        return value.to(weight.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        """The gradients with respect to ``(W, b, c)``, scaled by ``grad_output``: the negated CD update plus the
        sparsity and weight-decay terms; ``None`` for the statistics and options."""
        weight, v_data, h_data, v_model, h_model, dv, dh, v_mean_data, delta = ctx.saved_tensors
        n_data, n_model = v_data.shape[0], v_model.shape[0]
        # 1 from the trainer. On the CPU it is folded into the products' scale factors (no extra pass); on a device,
        # reading it would make the host wait for the GPU, so the gradients are scaled by the tensor at the end
        on_host = grad_output.device.type == "cpu"
        g = float(grad_output) if on_host else 1.0
        # g (<h v^T>_model - <h v^T>_data): two products into one buffer, all scaling inside the GEMM calls
        grad_w = torch.mm(h_model.t(), v_model)
        grad_w.addmm_(h_data.t(), v_data, beta=g / n_model, alpha=-g / n_data)
        grad_w = grad_w.to(weight.dtype)
        grad_b = dv.to(weight.dtype) * g
        grad_c = dh.to(weight.dtype) * g
        if delta is not None:
            grad_w.addr_(delta, v_mean_data.to(weight.dtype), alpha=g)
            grad_c.add_(delta, alpha=g)
        if ctx.weight_decay:
            grad_w.add_(weight, alpha=g * ctx.weight_decay)
        if not on_host:
            grad_w, grad_b, grad_c = (t * grad_output.to(t.dtype) for t in (grad_w, grad_b, grad_c))
        return grad_w, grad_b, grad_c, None, None, None, None, None, None, None, None, None


def cd_surrogate(
    stats: CDStatistics,
    weight: torch.Tensor,
    visible_bias: torch.Tensor,
    hidden_bias: torch.Tensor,
    *,
    delta: torch.Tensor | None = None,
    weight_decay: float = 0.0,
) -> torch.Tensor:
    """The Bernoulli RBM's CD/PCD surrogate: a scalar whose gradient with respect to ``(W, b, c)`` is the negated
    CD update, plus the sparsity term (``delta`` from :func:`sparsity_delta`, gradient ``delta`` on ``c`` and
    ``delta <v>_data^T`` on ``W``) and weight decay ``(weight_decay / 2) |W|^2`` (weights only, not biases, as
    Hinton (2010, sec. 10) advises).

    Its value is ``mean F(v_data) - mean F(v_model)`` plus those two terms: the free-energy gap, which shrinks
    as the model's samples become as likely as the data.
    """
    return _BernoulliCDSurrogate.apply(
        weight,
        visible_bias,
        hidden_bias,
        stats.v_data,
        stats.h_data,
        stats.logits_data,
        stats.v_model,
        stats.h_model,
        stats.logits_model,
        delta,
        float(weight_decay),
        stats.summary,
    )
