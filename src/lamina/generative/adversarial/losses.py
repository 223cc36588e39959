"""The adversarial objectives, as functions of the discriminator's (critic's) raw outputs.

The discriminator outputs a logit ``l``, ``D(x) = sigmoid(l)``; with ``log sigmoid(l) = -softplus(-l)`` and
``log(1 - sigmoid(l)) = -softplus(l)`` every loss below is computed from logits without forming ``D(x)``, so it
neither overflows nor loses its gradient when ``D`` saturates.

- Goodfellow et al. (2014) train ``D`` to maximise ``E log D(x) + E log(1 - D(G(z)))``, i.e. to minimise
  :func:`discriminator_loss` = ``E softplus(-l_real) + E softplus(l_fake)``. The generator of the minimax game
  minimises ``E log(1 - D(G(z)))`` (:func:`minimax_generator_loss`), whose gradient vanishes when ``D`` rejects the
  samples confidently (early in training); the paper's recommended *non-saturating* generator instead maximises
  ``E log D(G(z))`` (:func:`non_saturating_generator_loss` = ``E softplus(-l_fake)``).
- WGAN-GP (Gulrajani et al., 2017): the critic ``f`` (unbounded output) minimises ``E f(G(z)) - E f(x)`` plus
  ``lambda E (||grad_x f(x_hat)||_2 - 1)^2`` on points ``x_hat`` uniformly between real and generated examples
  (:func:`gradient_penalty`); the generator minimises ``-E f(G(z))``.

References:
    Goodfellow, Pouget-Abadie, Mirza, Xu, Warde-Farley, Ozair, Courville & Bengio (2014), "Generative Adversarial
    Nets", NeurIPS. Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville (2017), "Improved Training of Wasserstein
    GANs", NeurIPS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F

__all__ = [
    "OBJECTIVES",
    "AdversarialObjective",
    "critic_loss",
    "discriminator_loss",
    "gradient_penalty",
    "interpolate",
    "minimax_generator_loss",
    "non_saturating_generator_loss",
    "wasserstein_generator_loss",
]


def _flat(logits: torch.Tensor) -> torch.Tensor:
    """One score per example: ``(N,)`` or ``(N, 1)`` -> ``(N,)``."""
    if logits.dim() > 1 and logits.shape[1:].numel() != 1:
        raise ValueError(f"the discriminator must output one score per example, got shape {tuple(logits.shape)}")
    return logits.reshape(-1)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """``-E log D(x) - E log(1 - D(G(z))) = E softplus(-l_real) + E softplus(l_fake)`` (Goodfellow et al., 2014):
    the cross-entropy of a classifier of real (1) against generated (0) examples. Shapes ``(N,)`` or ``(N, 1)``."""
    return F.softplus(-_flat(real_logits)).mean() + F.softplus(_flat(fake_logits)).mean()


def minimax_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """``E log(1 - D(G(z))) = -E softplus(l_fake)``: the generator's side of the minimax game (saturates when
    ``D(G(z))`` is near 0, Goodfellow et al., 2014, section 3)."""
    return -F.softplus(_flat(fake_logits)).mean()


def non_saturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """``-E log D(G(z)) = E softplus(-l_fake)``: the same fixed point as the minimax loss, with strong gradients
    early in training (Goodfellow et al., 2014, section 3)."""
    return F.softplus(-_flat(fake_logits)).mean()


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """``E f(G(z)) - E f(x)``: minus the critic's estimate of the Wasserstein-1 distance (Arjovsky et al., 2017),
    without the gradient penalty (add :func:`gradient_penalty` times its weight)."""
    return _flat(fake_scores).mean() - _flat(real_scores).mean()


def wasserstein_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """``-E f(G(z))``: the generator raises the critic's score of its samples."""
    return -_flat(fake_scores).mean()


def interpolate(real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """``x_hat = alpha x + (1 - alpha) x_fake``, one ``alpha`` per example (shape ``(N,)``), broadcast over the rest."""
    if alpha.shape != real.shape[:1]:
        raise ValueError(
            f"`alpha` must hold one value per example, shape {tuple(real.shape[:1])}, got {tuple(alpha.shape)}"
        )
    a = alpha.reshape(-1, *([1] * (real.dim() - 1)))  # (N, 1, ..., 1)
    return a * real + (1 - a) * fake


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    alpha: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``E (||grad_x f(x_hat)||_2 - 1)^2`` over ``x_hat`` between real and generated examples (Gulrajani et al.,
    2017, Algorithm 1), differentiable with respect to the critic's parameters (``create_graph=True``).

    Args:
        critic: the critic ``f``, one score per example.
        real, fake: batches of the same shape ``(N, *)``; ``fake`` is detached (the penalty trains the critic only).
        alpha: the mixing weights, shape ``(N,)``; ``None`` draws them from U(0, 1) with ``generator``.
        generator: the source of ``alpha`` (``None``: the global generator, which the GAN trainer seeds).

    Returns:
        A scalar. Each example's gradient norm is over all of its dimensions (one example's own gradient: the
        critic must treat examples independently, hence no batch normalisation in a WGAN-GP critic).
    """
    if real.shape != fake.shape:
        raise ValueError(f"`real` and `fake` must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    if alpha is None:
        alpha = torch.rand(real.shape[0], device=real.device, dtype=real.dtype, generator=generator)
    x_hat = interpolate(real.detach(), fake.detach(), alpha).requires_grad_(True)
    scores = _flat(critic(x_hat))
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)  # d f(x_hat_n) / d x_hat_n, per example
    norms = grad.reshape(len(grad), -1).norm(2, dim=1)
    return ((norms - 1) ** 2).mean()


class AdversarialObjective(NamedTuple):
    """A pair of losses: ``discriminator(real_scores, fake_scores)`` and ``generator(fake_scores)``, and whether the
    discriminator's outputs are logits of ``D(x)`` (``False``: an unbounded Wasserstein critic) and whether the
    critic gets the gradient penalty."""

    discriminator: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    generator: Callable[[torch.Tensor], torch.Tensor]
    logits: bool
    penalty: bool


OBJECTIVES: dict[str, AdversarialObjective] = {
    "non_saturating": AdversarialObjective(discriminator_loss, non_saturating_generator_loss, True, False),
    "minimax": AdversarialObjective(discriminator_loss, minimax_generator_loss, True, False),
    "wasserstein_gp": AdversarialObjective(critic_loss, wasserstein_generator_loss, False, True),
}
