"""The Bernoulli RBM: binary visible and hidden units (Smolensky, 1986; Hinton, 2002), on the shared
:class:`~lamina.generative.rbm.base.RBM` base (re-exported here, where it was defined before).
"""

from __future__ import annotations

from typing import Annotated, Any

import torch

from lamina.config.component import Bounds, validated
from lamina.errors import DataError
from lamina.generative.rbm.base import RBM
from lamina.generative.rbm.functions import (
    bernoulli_energy,
    bernoulli_free_energy,
    bernoulli_visible_mean,
    sample_bernoulli_visible,
    visible_logits,
)
from lamina.generative.rbm.partition import pseudo_log_likelihood

__all__ = ["RBM", "BernoulliRBM"]


class BernoulliRBM(RBM):
    """Restricted Boltzmann machine with binary visible and hidden units (Smolensky, 1986; Hinton, 2002).

    ``E(v, h) = -b.v - c.h - h.W v``; ``p(h_j = 1 | v) = sigmoid(c_j + W_j v)``;
    ``p(v_i = 1 | h) = sigmoid(b_i + h.W_i)``; free energy ``F(v) = -b.v - sum_j softplus(c_j + W_j v)``. Data may
    be binary or probabilities in ``[0, 1]`` (pixel intensities, or the hidden probabilities of the layer below in a
    DBN); log-likelihoods need binary data.

    Args:
        softmax_units: the last ``softmax_units`` visible units form one softmax group, a one-of-K label (the top
            RBM of a deep belief net, Hinton, Osindero & Teh, 2006); 0: none.
        others: see :class:`RBM`.

    Shape:
        ``(N, n_visible)`` (or ``(N, *image)`` with ``n_visible`` pixels) ``-> (N, n_hidden)`` for ``forward``.

    Data-parallel training: wrap a module whose ``forward`` returns ``training_loss`` in
    ``DistributedDataParallel``; with persistent chains pass ``broadcast_buffers=False`` so each rank keeps its own.

    Example:
        >>> rbm = BernoulliRBM(784, 500, k=1)
        >>> Trainer(rbm, optimizer={"type": "sgd", "lr": 0.05, "momentum": 0.9}, epochs=10).fit(binary_mnist)
        >>> rbm.sample(16, steps=1000).shape
        torch.Size([16, 784])

    References:
        Hinton, G. E. (2002). Training products of experts by minimizing contrastive divergence. Neural Computation.
        Tieleman, T. (2008). Training restricted Boltzmann machines using approximations to the likelihood
        gradient. ICML.
        Hinton, G. E. (2010). A practical guide to training restricted Boltzmann machines. UTML TR 2010-003.
    """

    family = "bernoulli"

    @validated
    def __init__(
        self,
        n_visible: Annotated[int, Bounds(ge=1)],
        n_hidden: Annotated[int, Bounds(ge=1)],
        *,
        softmax_units: Annotated[int, Bounds(ge=0)] = 0,
        **options: Any,
    ) -> None:
        if softmax_units >= n_visible:
            raise ValueError(
                f"Invalid {type(self).__name__}: softmax_units: must be < n_visible ({n_visible}), got {softmax_units}"
            )
        self.softmax_units = softmax_units
        super().__init__(n_visible, n_hidden, **options)

    def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
        """``p(v = 1 | h) = sigmoid(b + h W)`` (a softmax over the label group, if any).
        Shape: ``(N, n_h) -> (N, n_v)``."""
        return bernoulli_visible_mean(
            visible_logits(h.to(self.weight.dtype), self.weight, self.visible_bias), self.softmax_units
        )

    def sample_visible(self, h: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Binary visible states drawn from ``p(v | h)`` (one-hot in the label group, if any).
        Shape: ``(N, n_h) -> (N, n_v)``."""
        return sample_bernoulli_visible(self.visible_mean(h), self.softmax_units, generator)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """``F(v) = -b.v - sum_j softplus(c_j + W_j v)``. Shape: ``(N, n_v) -> (N,)``."""
        return bernoulli_free_energy(self._rows(v), self.weight, self.visible_bias, self.hidden_bias)

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``E(v, h) = -b.v - c.h - h.W v``. Shape: ``(N, n_v), (N, n_h) -> (N,)``."""
        return bernoulli_energy(
            self._rows(v), h.to(self.weight.dtype), self.weight, self.visible_bias, self.hidden_bias
        )

    def check_visible(self, v: torch.Tensor, *, binary: bool = False) -> None:
        """Bernoulli units model values in ``[0, 1]`` (``binary``: exactly 0 or 1, as a likelihood needs)."""
        lo, hi = (float(x) for x in torch.stack(torch.aminmax(v.detach())).tolist())
        bad = not (lo >= 0 and hi <= 1)  # also true for NaN
        if not bad and binary:
            bad = bool(((v != 0) & (v != 1)).any())
        if bad:
            what = "binary (0 or 1)" if binary else "binary (0 or 1) or probabilities in [0, 1]"
            got = "NaN values" if lo != lo or hi != hi else f"values in [{lo:.4g}, {hi:.4g}]"
            raise DataError(
                f"{type(self).__name__}: visible data must be {what}; got {got}. Binarize it "
                '([data] scale = "binarize", or (x > 0.5).float()) or, for real-valued data, use '
                'GaussianBernoulliRBM (method = "gaussian_rbm").'
            )

    def init_visible_bias(self, data: torch.Tensor, *, eps: float = 1e-3) -> None:
        """Set ``b_i = log(p_i / (1 - p_i))`` with ``p_i`` the fraction of examples where unit ``i`` is on, clipped
        to ``[eps, 1 - eps]`` (Hinton, 2010, sec. 8), and restart the persistent chains from that model."""
        with torch.no_grad():
            self.visible_bias.copy_(torch.logit(self._rows(data).mean(0), eps=eps))
            if self.persistent_chain is not None:
                self.persistent_chain.copy_(self._initial_visible(len(self.persistent_chain), None))

    @torch.no_grad()
    def validation_metrics(self, batch: Any) -> dict[str, torch.Tensor]:
        """:meth:`RBM.validation_metrics` plus ``pseudo_log_likelihood`` (one random unit per example flipped,
        as scikit-learn's ``score_samples``)."""
        v = self._rows(batch[0] if isinstance(batch, (tuple, list)) else batch)
        metrics = super().validation_metrics((v, None))
        metrics["pseudo_log_likelihood"] = pseudo_log_likelihood(self, v).mean()
        return metrics
