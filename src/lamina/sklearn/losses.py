"""scikit-learn's MLP losses (``sklearn.neural_network._base.LOSS_FUNCTIONS``) as one torch module, with
per-example weights (``fit(X, y, sample_weight=...)``, scikit-learn >= 1.7).

Each loss is a sum over the output units of a per-unit loss, averaged over the examples:

- ``"log_loss"``: softmax cross-entropy of the logits ``z`` against a class index;
- ``"binary_log_loss"``: ``sum_j softplus(z_j) - t_j z_j``, one sigmoid cross-entropy per label, *summed* over the
  labels as scikit-learn sums them (a mean over the labels would shrink each label's gradient by their number);
- ``"squared_error"``: ``(1/2) mean_j (z_j - t_j)^2`` (scikit-learn's value; one output unit in the common case);
- ``"poisson"``: the half Poisson deviance with a log link, ``sum_j exp(z_j) - t_j z_j + t_j log t_j - t_j``
  (the network's output ``z`` is the log of the predicted mean; scikit-learn's ``out_activation_="exp"``).

With weights ``w`` a batch's loss is ``sum_i w_i l_i / sum_i w_i`` and, when a penalty is attached,
``alpha / (2 sum_i w_i) * sum ||W||^2`` over the weight matrices, scikit-learn's normalisation: integer weights
then equal repeated rows.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SKLEARN_LOSSES", "SklearnLoss"]


def _log_loss(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(z, t, reduction="none")


def _binary_log_loss(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(z, t, reduction="none").sum(dim=1)


def _squared_error(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return 0.5 * (z - t).pow(2).mean(dim=1)


def _poisson(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return (torch.exp(z) - t * z + torch.xlogy(t, t) - t).sum(dim=1)


# per-example losses, (n, n_outputs) logits and targets -> (n,)
SKLEARN_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "log_loss": _log_loss,
    "binary_log_loss": _binary_log_loss,
    "squared_error": _squared_error,
    "poisson": _poisson,
}


class SklearnLoss(nn.Module):
    """One of :data:`SKLEARN_LOSSES`, averaged over a batch (weighted when the target is ``(t, w)``).

    Args:
        name: a key of :data:`SKLEARN_LOSSES`.
        alpha: scikit-learn's L2 penalty, added as ``alpha / (2 sum_i w_i) * sum ||W||^2`` over ``penalized``'s
            weight matrices (not its biases) when the target carries weights; ``0`` adds none (the caller
            penalises unweighted batches itself).
        penalized: the network whose weights are penalised (needed when ``alpha > 0``).

    ``forward(z, t)`` takes the logits ``(n, n_outputs)`` and the targets (class indices ``(n,)`` for
    ``"log_loss"``, else ``(n, n_outputs)``), or ``(t, w)`` with weights ``w`` of shape ``(n,)``.
    """

    def __init__(self, name: str, *, alpha: float = 0.0, penalized: nn.Module | None = None) -> None:
        super().__init__()
        if name not in SKLEARN_LOSSES:
            raise ValueError(f"unknown scikit-learn loss {name!r}; known: {sorted(SKLEARN_LOSSES)}")
        if alpha and penalized is None:
            raise ValueError("SklearnLoss: a penalty (alpha > 0) needs the network to penalise (`penalized`)")
        self.name, self.alpha = name, alpha
        self._penalized = [penalized] if penalized is not None else []  # a list: not registered as a submodule

    def forward(self, z: torch.Tensor, target: torch.Tensor | tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """The batch's (weighted) mean loss, plus the weighted penalty when ``alpha > 0`` and weights are given."""
        if isinstance(target, (tuple, list)):
            t, w = target
        else:
            t, w = target, None
        rows = SKLEARN_LOSSES[self.name](z, t)
        if w is None:
            return rows.mean()
        w = w.to(rows.dtype)
        total = w.sum()
        loss = (w * rows).sum() / total
        if self.alpha:
            weights = [p for p in self._penalized[0].parameters() if p.ndim > 1]
            loss = loss + (0.5 * self.alpha / total) * sum((p * p).sum() for p in weights)
        return loss
