"""Gibbs sampling in an RBM with binary hidden units: hidden states drawn from ``p(h | v)``, the alternating chain
``v -> h ~ p(h|v) -> v ~ p(v|h)``, fantasies from fresh chains (the model with ``W = 0``) and mean-field
reconstructions. :class:`GibbsSampling` holds them as methods of :class:`~lamina.generative.rbm.base.RBM`, which mixes
it in; they use only the model's conditionals, so they serve every kind of visible unit.

References:
    Geman, S. & Geman, D. (1984). Stochastic relaxation, Gibbs distributions, and the Bayesian restoration of
    images. IEEE TPAMI.
    Hinton, G. E. (2002). Training products of experts by minimizing contrastive divergence. Neural Computation.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

from lamina.generative.rbm.functions import sample_bernoulli

__all__ = ["GibbsSampling"]


class GibbsSampling:
    """The Gibbs chains of :class:`~lamina.generative.rbm.base.RBM` (mixed into it): ``sample_hidden``, ``gibbs``,
    ``sample`` and ``reconstruct``, built on the model's ``hidden_probabilities``, ``visible_mean`` and
    ``sample_visible``."""

    if TYPE_CHECKING:  # what the RBM provides
        weight: nn.Parameter
        n_visible: int
        n_hidden: int
        data_shape: tuple[int, ...] | None

        def hidden_probabilities(self, v: torch.Tensor) -> torch.Tensor:
            """``P(h = 1 | v)``, ``(N, n_hidden)``."""

        def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
            """``E[v | h]``, ``(N, n_visible)``."""

        def sample_visible(self, h: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
            """A draw of ``v ~ P(v | h)``."""

        def _rows(self, v: torch.Tensor) -> torch.Tensor: ...
        def _generator(self, device: torch.device) -> torch.Generator | None: ...

    def _initial_visible(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        """Starting states of fresh Gibbs chains (the model with ``W = 0``)."""
        return self.sample_visible(self.weight.new_zeros(n, self.n_hidden), generator)

    def sample_hidden(self, v: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Binary hidden states drawn from ``p(h | v)``."""
        return sample_bernoulli(self.hidden_probabilities(v), generator)

    @torch.no_grad()
    def gibbs(self, v: torch.Tensor, k: int = 1, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """``k`` full Gibbs steps ``v -> h ~ p(h|v) -> v ~ p(v|h)``; returns the last visible sample."""
        v = self._rows(v)
        for _ in range(k):
            v = self.sample_visible(self.sample_hidden(v, generator), generator)
        return v

    @torch.no_grad()
    def sample(
        self,
        n: int,
        steps: int = 1000,
        *,
        generator: torch.Generator | None = None,
        init: torch.Tensor | None = None,
        mean: bool = True,
        shape: tuple[int, ...] | str | None = None,
    ) -> torch.Tensor:
        """``n`` fantasies: Gibbs chains started from ``init`` (default: the model with ``W = 0``) run for
        ``steps`` steps. Returns the last visible means ``E[v | h]`` (``mean=True``, what papers show) or samples,
        as ``(n, n_visible)`` rows, or ``(n, *shape)``: ``shape="data"`` is the training examples' shape
        (:attr:`data_shape`; ``rbm.sample(16, shape="data")`` after training on ``(N, 1, 28, 28)`` images gives
        ``(16, 1, 28, 28)``)."""
        if isinstance(shape, str):
            if shape != "data":
                raise ValueError(f"`shape` must be a tuple of ints, 'data' or None, got {shape!r}")
            if self.data_shape is None:
                raise ValueError("shape='data': this RBM has not been trained yet, so it knows no data shape")
            shape = self.data_shape
        if shape is not None and math.prod(shape) != self.n_visible:
            raise ValueError(
                f"`shape` {tuple(shape)} holds {math.prod(shape)} values, not the {self.n_visible} visible units"
            )
        generator = generator if generator is not None else self._generator(self.weight.device)
        v = self._initial_visible(n, generator) if init is None else self._rows(init)
        for _ in range(max(steps - 1, 0)):
            v = self.sample_visible(self.sample_hidden(v, generator), generator)
        h = self.sample_hidden(v, generator)
        out = self.visible_mean(h) if mean else self.sample_visible(h, generator)
        return out if shape is None else out.reshape(len(out), *shape)

    @torch.no_grad()
    def reconstruct(
        self, v: torch.Tensor, *, sample_hidden: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``E[v | h]`` with ``h = p(h | v)`` (mean field) or ``h ~ p(h | v)`` (``sample_hidden``)."""
        h = self.sample_hidden(v, generator) if sample_hidden else self.hidden_probabilities(v)
        return self.visible_mean(h)
