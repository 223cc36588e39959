"""The up-down algorithm (contrastive wake-sleep) that fine-tunes a deep belief net as a generative model
(Hinton, Osindero & Teh, 2006, sec. 5 and appendix B), written as one surrogate loss.

After greedy pretraining the directed layers' weights are untied into *recognition* (up) weights ``R_l, r_l`` and
*generative* (down) weights ``G_l, g_l``. One update on a batch ``(x, y)``:

1. wake (up) pass with sampled states ``s_0 = x``, ``s_{l+1} ~ sigmoid(R_l s_l + r_l)``;
2. CD-k in the top RBM on ``[s_{L-1}, y]``, ending at samples ``[s'_{L-1}, y']``;
3. sleep (down) pass ``s'_l ~ sigmoid(G_l s'_{l+1} + g_l)`` (the bottom layer keeps probabilities);
4. generative weights learn to reconstruct the wake states, ``dG_l ∝ (s_l - sigmoid(G_l s_{l+1} + g_l)) s_{l+1}^T``;
   recognition weights learn to recognise the sleep states, ``dR_l ∝ (s'_{l+1} - sigmoid(R_l s'_l + r_l)) s'_l^T``;
   the top RBM takes its CD update.

Each delta rule is the negated gradient of a cross-entropy with the sampled states held fixed, so the surrogate is
``sum_l BCE(G_l s_{l+1} + g_l, s_l) + sum_l BCE(R_l s'_l + r_l, s'_{l+1}) + CD surrogate of the top RBM``, and
the ordinary trainer applies the up-down update with any optimizer. The top statistics use hidden probabilities
(the free-energy form of CD) where Hinton et al.'s code used sampled hidden states: the same expected update,
with less noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from lamina.generative.rbm.contrastive_divergence import cd_statistics, cd_surrogate
from lamina.generative.rbm.functions import sample_bernoulli

if TYPE_CHECKING:
    from lamina.generative.rbm.model import RBM

__all__ = ["up_down_surrogate", "down_pass"]


@torch.no_grad()
def down_pass(
    rbms: Sequence[RBM], top_visible: torch.Tensor, *, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Generate downwards through a stack of RBMs used as directed layers: ``h_l ~ p(h_l | h_{l+1})`` with each
    RBM's visible conditional, sampled except at the bottom, where the means ``E[v | h_1]`` are returned."""
    x = top_visible
    for i, rbm in enumerate(reversed(rbms)):
        mean = rbm.visible_mean(x)
        x = mean if i == len(rbms) - 1 else sample_bernoulli(mean, generator)
    return x


def _bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy summed over units, averaged over examples (the scale of the CD surrogate)."""
    return F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / len(target)


def up_down_surrogate(
    x: torch.Tensor,
    labels: torch.Tensor | None,
    recognition: Sequence[nn.Linear],
    generative: Sequence[nn.Linear],
    top,
    *,
    k: int = 1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One up-down update as a scalar whose gradient is the negated update of every parameter.

    Args:
        x: ``(N, n_0)`` the data (binary or probabilities).
        labels: ``(N, K)`` one-hot labels for a top RBM with ``softmax_units = K``, else ``None``.
        recognition: ``L - 1`` up layers, ``nn.Linear(n_l, n_{l+1})``.
        generative: ``L - 1`` down layers, ``nn.Linear(n_{l+1}, n_l)``.
        top: the top :class:`~lamina.generative.BernoulliRBM` over ``[n_{L-1} (+ K)]`` visible units.
        k: Gibbs steps in the top RBM (Hinton et al. used 3, then 6 and 10 as learning went on).
        generator: the source of every draw.

    Returns:
        The surrogate (its value: the wake and sleep cross-entropies plus the top free-energy gap).
    """
    with torch.no_grad():
        wake = [x]
        for layer in recognition:
            wake.append(sample_bernoulli(torch.sigmoid(layer(wake[-1])), generator))
        visible = wake[-1] if labels is None else torch.cat([wake[-1], labels.to(wake[-1].dtype)], 1)
        stats = cd_statistics(
            visible,
            top.weight,
            top.visible_bias,
            top.hidden_bias,
            k=k,
            mean_field=False,
            softmax_units=top.softmax_units,
            generator=generator,
        )
        n_top = wake[-1].shape[1]
        sleep = [stats.chain[:, :n_top]]
        for i, layer in enumerate(reversed(generative)):
            p = torch.sigmoid(layer(sleep[0]))
            sleep.insert(0, p if i == len(generative) - 1 else sample_bernoulli(p, generator))
    loss = cd_surrogate(stats, top.weight, top.visible_bias, top.hidden_bias)
    for layer, below, above in zip(generative, wake[:-1], wake[1:]):
        loss = loss + _bce(layer(above), below)
    for layer, below, above in zip(recognition, sleep[:-1], sleep[1:]):
        loss = loss + _bce(layer(below), above)
    return loss
