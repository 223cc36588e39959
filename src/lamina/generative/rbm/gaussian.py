"""The Gaussian-Bernoulli RBM: real-valued visible units, binary hidden units."""

from __future__ import annotations

from typing import Annotated, Any

import torch
from torch import nn

from lamina.config.component import Bounds, validated
from lamina.errors import DataError
from lamina.generative.rbm.base import RBM
from lamina.generative.rbm.contrastive_divergence import cd_surrogate
from lamina.generative.rbm.functions import gaussian_energy, gaussian_free_energy, sample_gaussian

__all__ = ["GaussianBernoulliRBM"]


class GaussianBernoulliRBM(RBM):
    """RBM with Gaussian visible units of standard deviation ``sigma_i`` and binary hidden units
    (Welling, Rosen-Zvi & Hinton, 2005; Hinton & Salakhutdinov, 2006; Cho, Ilin & Raiko, 2011).

    ``E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - c.h - h.W (v / sigma)``;
    ``p(h_j = 1 | v) = sigmoid(c_j + W_j (v / sigma))``; ``p(v_i | h) = N(b_i + sigma_i h.W_i, sigma_i^2)``;
    ``F(v) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - sum_j softplus(c_j + W_j (v / sigma))``.

    With ``learn_std=False`` (the default) ``sigma = 1`` and the data should be standardised per component
    (zero mean, unit variance; Hinton, 2010, sec. 13.2). With ``learn_std=True`` the parameter ``log_std`` is
    trained with the rest (Cho et al., 2011 parameterise the variance in log space, as here, to keep it positive);
    learned variances need a learning rate about ten times smaller than the weights'.

    The arguments are those of :class:`~lamina.generative.RBM` (``n_visible``, ``n_hidden``, ``k``, ...), and:

    Args:
        learn_std: learn one standard deviation per visible unit.

    Shape: ``(N, n_visible) -> (N, n_hidden)`` for ``forward``.

    Example:
        >>> grbm = GaussianBernoulliRBM(4096, 500, learn_std=True)
        >>> Trainer(grbm, optimizer={"type": "sgd", "lr": 1e-3, "momentum": 0.9}).fit(standardised_faces)

    References:
        Hinton, G. E. & Salakhutdinov, R. R. (2006). Reducing the dimensionality of data with neural networks. Science.
        Cho, K., Ilin, A. & Raiko, T. (2011). Improved learning of Gaussian-Bernoulli restricted Boltzmann machines.
        ICANN.
    """

    family = "gaussian"

    @validated
    def __init__(
        self,
        n_visible: Annotated[int, Bounds(ge=1)],
        n_hidden: Annotated[int, Bounds(ge=1)],
        *,
        learn_std: bool = False,
        **options: Any,
    ) -> None:
        self.learn_std = learn_std
        super().__init__(n_visible, n_hidden, **options)

    def _init_visible_parameters(self, factory: dict[str, Any]) -> None:
        log_std = torch.zeros(self.n_visible, **factory)
        if self.learn_std:
            self.log_std = nn.Parameter(log_std)
        else:
            self.register_buffer("log_std", log_std)

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.log_std.zero_()
        super().reset_parameters()

    @property
    def std(self) -> torch.Tensor:
        """``sigma``, the visible units' standard deviations ``(n_visible,)``."""
        return self.log_std.exp()

    def _std(self) -> torch.Tensor:
        return self.std

    def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
        """``E[v | h] = b + sigma * (h W)``. Shape: ``(N, n_h) -> (N, n_v)``."""
        return self.visible_bias + self.std * (h.to(self.weight.dtype) @ self.weight)

    def sample_visible(self, h: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A draw from ``N(E[v | h], sigma^2)``. Shape: ``(N, n_h) -> (N, n_v)``."""
        return sample_gaussian(self.visible_mean(h), self.std, generator)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """``F(v) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - sum_j softplus(c_j + W_j (v / sigma))``.
        Shape: ``(N, n_v) -> (N,)``."""
        return gaussian_free_energy(self._rows(v), self.weight, self.visible_bias, self.hidden_bias, self.std)

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - c.h - h.W (v / sigma)``.
        Shape: ``(N, n_v), (N, n_h) -> (N,)``."""
        return gaussian_energy(
            self._rows(v), h.to(self.weight.dtype), self.weight, self.visible_bias, self.hidden_bias, self.std
        )

    def check_visible(self, v: torch.Tensor) -> None:
        """Gaussian units take any finite value."""
        if not bool(torch.isfinite(v).all()):
            raise DataError(f"{type(self).__name__}: visible data must be finite; got NaN or infinite values")

    def init_visible_bias(self, data: torch.Tensor) -> None:
        """Set ``b`` to the data mean (and, with ``learn_std``, ``sigma`` to the data's standard deviation)."""
        with torch.no_grad():
            v = self._rows(data)
            self.visible_bias.copy_(v.mean(0))
            if self.learn_std:
                self.log_std.copy_(v.std(0).clamp_min(1e-3).log())
            if self.persistent_chain is not None:
                self.persistent_chain.copy_(self._initial_visible(len(self.persistent_chain), None))

    def training_loss(self, batch: Any) -> torch.Tensor:
        """The CD-k / PCD surrogate. With a fixed ``sigma`` the Bernoulli RBM's hand-written gradient applies to
        ``v / sigma`` unchanged up to the visible biases' scale, but with a learned ``sigma`` the surrogate goes
        through autograd: ``mean F(v_data) - mean F(v_model)`` with ``v_model`` detached (two extra products)."""
        v = batch[0] if isinstance(batch, (tuple, list)) else batch
        v = self._rows(v)
        self._check_batch(v)
        stats = self.cd_statistics(v)
        delta = self._update_buffers(stats) if self.training else None
        if not self.learn_std:
            # in the variables u = v / sigma (sigma = 1 here) the surrogate is the Bernoulli one; the visible-bias
            # gradient <u>_model - <u>_data equals the Gaussian one, d F / d b = -(v - b)
            return cd_surrogate(
                stats, self.weight, self.visible_bias, self.hidden_bias, delta=delta, weight_decay=self.weight_decay
            ) + self._quadratic_gap(stats)
        loss = self.free_energy(stats.v_data).mean() - self.free_energy(stats.v_model).mean()
        if delta is not None:
            logits = torch.addmm(self.hidden_bias, stats.v_data / self.std, self.weight.t())
            loss = loss + (delta * logits.mean(0)).sum()
        if self.weight_decay:
            loss = loss + 0.5 * self.weight_decay * self.weight.pow(2).sum()
        return loss

    def _quadratic_gap(self, stats) -> torch.Tensor:
        """The value (not the gradient) that turns the Bernoulli surrogate's ``-b.v`` into ``|v - b|^2 / 2``:
        ``(|v|^2 / 2)`` of the data minus that of the model (constant in the parameters)."""
        return (stats.v_data.pow(2).sum(-1).mean() - stats.v_model.pow(2).sum(-1).mean()).detach() / 2
