"""The contractive autoencoder (Rifai, Vincent, Muller, Glorot & Bengio, 2011): penalise the encoder's
sensitivity to its input.

    L + lambda * ||J_f(x)||_F^2,     J_f(x) = dh/dx = diag(f'(a)) W,   a = W x + c

so that ``||J_f(x)||_F^2 = sum_j f'(a_j)^2 sum_i W_ji^2`` costs O(n_hidden * n_visible) per batch, not per
example: for sigmoid codes ``f'(a) = h (1 - h)`` (the paper's eq. 5).
"""

from __future__ import annotations

from typing import Annotated, Any

import torch

from lamina.config.component import Bounds, validated
from lamina.generative.autoencoders.autoencoder import Autoencoder, activate, activation_derivative

__all__ = ["ContractiveAutoencoder", "contractive_penalty"]


def contractive_penalty(a: torch.Tensor, h: torch.Tensor, weight: torch.Tensor, activation: str) -> torch.Tensor:
    """``||J_f(x)||_F^2`` of each example, ``(N,)``, for the encoder ``h = f(a)``, ``a = W x + c``.

    Args:
        a: ``(N, n_hidden)`` pre-activations.
        h: ``(N, n_hidden)`` codes ``f(a)``.
        weight: ``W``, ``(n_hidden, n_visible)``.
        activation: ``f``: ``sigmoid``, ``tanh``, ``relu`` or ``identity``.
    """
    row_norms = weight.pow(2).sum(dim=1)  # (n_hidden,)  sum_i W_ji^2
    return activation_derivative(a, h, activation).pow(2) @ row_norms  # (N,)


class ContractiveAutoencoder(Autoencoder):
    """An :class:`Autoencoder` with the contractive penalty ``lambda * ||J_f(x)||_F^2`` (batch mean).

    Args:
        n_visible, n_hidden, tied, activation, loss, output_activation, device, dtype: as :class:`Autoencoder`.
        contraction: ``lambda``, the penalty's weight.

    Example:
        >>> cae = ContractiveAutoencoder(784, 500, contraction=0.1)

    References:
        Rifai, Vincent, Muller, Glorot & Bengio, "Contractive auto-encoders: explicit invariance during feature
        extraction", ICML 2011.
    """

    @validated
    def __init__(
        self,
        n_visible: Annotated[int, Bounds(ge=1)],
        n_hidden: Annotated[int, Bounds(ge=1)],
        *,
        contraction: Annotated[float, Bounds(ge=0)] = 0.1,
        **options: Any,
    ) -> None:
        super().__init__(n_visible, n_hidden, **options)
        self.contraction = float(contraction)

    def jacobian_norm(self, x: torch.Tensor) -> torch.Tensor:
        """``||dh/dx||_F^2`` of each example of ``x``, ``(N,)``."""
        a = self.encoder_preactivation(x)
        return contractive_penalty(a, activate(a, self.activation), self.weight, self.activation)

    def penalty(self, x: torch.Tensor, a: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``contraction * mean_n ||J_f(x_n)||_F^2``."""
        return self.contraction * contractive_penalty(a, h, self.weight, self.activation).mean()

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, contraction={self.contraction:g}"
