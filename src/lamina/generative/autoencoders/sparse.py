"""Sparse autoencoders: a reconstruction loss plus a penalty that keeps most code units quiet.

kl:  L + beta * sum_j KL(rho || rho^_j),   rho^_j = mean over the batch of h_j       (Ng, 2011; Lee et al., 2008)
     KL(p || q) = p log(p / q) + (1 - p) log((1 - p) / (1 - q))
l1:  L + lambda * sum_j |h_j|              with a linear decoder and squared error this is the seeds'
                                           ||W h - x||^2 + lambda * sum |h|  (Ranzato, Boureau & LeCun,
                                           2007, with the encoder predicting the sparse code)
"""

from __future__ import annotations

from typing import Annotated, Any

import torch

from lamina.config.component import Bounds, Choices, validated
from lamina.generative.autoencoders.autoencoder import Autoencoder

__all__ = ["SparseAutoencoder", "kl_sparsity_penalty", "l1_code_penalty", "SPARSITIES"]

SPARSITIES = ("kl", "l1")
_EPS = 1e-6  # keeps log(rho^) finite when a unit is saturated over a whole batch


def kl_sparsity_penalty(h: torch.Tensor, target: float) -> torch.Tensor:
    """``sum_j KL(target || mean_n h_nj)``: each code unit's mean activation over the batch, read as a firing
    probability, against the ``target`` probability. ``h``: ``(N, n_hidden)`` in (0, 1); returns a scalar."""
    rho_hat = h.mean(dim=0).clamp(_EPS, 1 - _EPS)
    rho = torch.as_tensor(target, dtype=h.dtype, device=h.device)
    return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()


def l1_code_penalty(h: torch.Tensor) -> torch.Tensor:
    """``mean_n sum_j |h_nj|``: the L1 norm of each example's code, averaged over the batch."""
    return h.abs().sum(dim=1).mean()


class SparseAutoencoder(Autoencoder):
    """An :class:`Autoencoder` whose codes are pushed to be sparse.

    Args:
        n_visible, n_hidden, tied, activation, loss, output_activation, device, dtype: as :class:`Autoencoder`.
        sparsity: ``kl`` (each unit's mean activation pulled towards ``target``; needs sigmoid codes) or ``l1``
            (``weight * sum |h|`` per example; any code).
        target: the KL penalty's target mean activation ``rho`` in (0, 1).
        weight: ``beta`` (kl) or ``lambda`` (l1).

    Example:
        >>> sae = SparseAutoencoder(784, 400, sparsity="kl", target=0.05, weight=1.0)
        >>> ranzato = SparseAutoencoder(784, 400, sparsity="l1", weight=0.1, activation="relu", loss="mse")

    References:
        Ranzato, Poultney, Chopra & LeCun, "Efficient learning of sparse representations with an energy-based
        model", NIPS 2006.
        Ranzato, Boureau & LeCun, "Sparse feature learning for deep belief networks", NIPS 2007.
        Lee, Ekanadham & Ng, "Sparse deep belief net model for visual area V2", NIPS 2008.
        Ng, "Sparse autoencoder", CS294A lecture notes, 2011.
    """

    @validated
    def __init__(
        self,
        n_visible: Annotated[int, Bounds(ge=1)],
        n_hidden: Annotated[int, Bounds(ge=1)],
        *,
        sparsity: Annotated[str, Choices(*SPARSITIES)] = "kl",
        target: Annotated[float, Bounds(gt=0, lt=1)] = 0.05,
        weight: Annotated[float, Bounds(ge=0)] = 0.1,
        **options: Any,
    ) -> None:
        super().__init__(n_visible, n_hidden, **options)
        if sparsity == "kl" and self.activation != "sigmoid":
            raise ValueError(
                f"the KL sparsity penalty reads each code unit's mean activation as a firing probability, "
                f"so it needs sigmoid codes; `activation` is {self.activation!r}: use sparsity='l1'"
            )
        self.sparsity, self.target, self.sparsity_weight = sparsity, float(target), float(weight)

    def penalty(self, x: torch.Tensor, a: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``weight * sum_j KL(target || mean h_j)`` or ``weight * mean sum_j |h_j|``."""
        if self.sparsity == "kl":
            return self.sparsity_weight * kl_sparsity_penalty(h, self.target)
        return self.sparsity_weight * l1_code_penalty(h)

    def extra_repr(self) -> str:
        target = f", target={self.target:g}" if self.sparsity == "kl" else ""
        return f"{super().extra_repr()}, sparsity={self.sparsity!r}{target}, weight={self.sparsity_weight:g}"
