"""The adversarial losses against their hand formulas, and the WGAN-GP gradient penalty against a by-hand autograd
computation and against finite differences on a tiny critic (issue #27)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from lamina.generative.adversarial import (
    critic_loss,
    discriminator_loss,
    gradient_penalty,
    interpolate,
    minimax_generator_loss,
    non_saturating_generator_loss,
    wasserstein_generator_loss,
)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


REAL = [2.0, -0.5, 0.3]
FAKE = [-1.0, 0.7, -3.0]


def test_discriminator_loss_is_the_cross_entropy_of_real_against_generated():
    expected = -sum(math.log(_sigmoid(r)) for r in REAL) / 3 - sum(math.log(1 - _sigmoid(f)) for f in FAKE) / 3
    got = discriminator_loss(torch.tensor(REAL).view(3, 1), torch.tensor(FAKE).view(3, 1))
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_generator_losses_match_goodfellow_et_al():
    fake = torch.tensor(FAKE, dtype=torch.float64)
    minimax = sum(math.log(1 - _sigmoid(f)) for f in FAKE) / 3  # E log(1 - D(G(z)))
    non_saturating = -sum(math.log(_sigmoid(f)) for f in FAKE) / 3  # -E log D(G(z))
    assert minimax_generator_loss(fake).item() == pytest.approx(minimax, rel=1e-12)
    assert non_saturating_generator_loss(fake).item() == pytest.approx(non_saturating, rel=1e-12)


def test_the_minimax_generator_gradient_saturates_where_the_non_saturating_one_does_not():
    # D confidently rejects the sample (logit -10): d/dl log(1 - sigmoid(l)) = -sigmoid(l) ~ -4.5e-5, while
    # d/dl -log sigmoid(l) = sigmoid(l) - 1 ~ -1 (Goodfellow et al., 2014, section 3)
    logit = torch.tensor([-10.0], dtype=torch.float64, requires_grad=True)
    (g_minimax,) = torch.autograd.grad(minimax_generator_loss(logit), logit)
    (g_ns,) = torch.autograd.grad(non_saturating_generator_loss(logit), logit)
    assert g_minimax.item() == pytest.approx(-_sigmoid(-10.0), rel=1e-9)
    assert g_ns.item() == pytest.approx(_sigmoid(-10.0) - 1, rel=1e-9)


def test_losses_stay_finite_where_the_discriminator_saturates():
    logits = torch.tensor([200.0, -200.0])
    for value in (discriminator_loss(logits, -logits), non_saturating_generator_loss(logits)):
        assert torch.isfinite(value)


def test_wasserstein_losses():
    real, fake = torch.tensor(REAL), torch.tensor(FAKE)
    assert critic_loss(real, fake).item() == pytest.approx(sum(FAKE) / 3 - sum(REAL) / 3, rel=1e-6)
    assert wasserstein_generator_loss(fake).item() == pytest.approx(-sum(FAKE) / 3, rel=1e-6)


def test_a_discriminator_with_several_outputs_is_refused():
    with pytest.raises(ValueError, match="one score per example"):
        discriminator_loss(torch.zeros(4, 2), torch.zeros(4, 2))


def _critic() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 1)).double()


def test_gradient_penalty_equals_a_by_hand_autograd_computation():
    critic = _critic()
    real, fake = torch.randn(4, 2, 3, dtype=torch.float64), torch.randn(4, 2, 3, dtype=torch.float64)
    alpha = torch.tensor([0.0, 0.25, 0.5, 1.0], dtype=torch.float64)
    expected = 0.0
    for n in range(4):  # each example on its own: x_hat_n = a x_n + (1 - a) x~_n, ||grad f(x_hat_n)|| - 1, squared
        x_hat = (alpha[n] * real[n] + (1 - alpha[n]) * fake[n]).unsqueeze(0).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
        expected += (grad.norm() - 1).item() ** 2 / 4
    got = gradient_penalty(critic, real, fake, alpha=alpha)
    assert got.item() == pytest.approx(expected, rel=1e-12)


def test_gradient_penalty_against_finite_differences_on_a_tiny_critic():
    # f(x) = w2 . tanh(W1 x + b1): its input gradient by central differences, then the penalty by hand
    critic = _critic()
    real, fake = torch.randn(3, 2, 3, dtype=torch.float64), torch.randn(3, 2, 3, dtype=torch.float64)
    alpha = torch.tensor([0.2, 0.6, 0.9], dtype=torch.float64)
    x_hat = interpolate(real, fake, alpha)
    eps, total = 1e-6, 0.0
    with torch.no_grad():
        for n in range(3):
            grad = torch.zeros(6, dtype=torch.float64)
            for i in range(6):
                step = torch.zeros(6, dtype=torch.float64)
                step[i] = eps
                up = critic((x_hat[n].reshape(6) + step).reshape(1, 2, 3))
                down = critic((x_hat[n].reshape(6) - step).reshape(1, 2, 3))
                grad[i] = (up - down).item() / (2 * eps)
            total += (grad.norm().item() - 1) ** 2 / 3
    assert gradient_penalty(critic, real, fake, alpha=alpha).item() == pytest.approx(total, rel=1e-7)


def test_gradient_penalty_trains_the_critic_and_not_the_generated_batch():
    critic = _critic()
    real = torch.randn(4, 2, 3, dtype=torch.float64)
    fake = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    penalty = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))
    penalty.backward()
    assert fake.grad is None  # the generated batch is detached
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in critic.parameters() if p.dim() > 1)


def test_gradient_penalty_draws_alpha_from_its_generator():
    critic, real, fake = _critic(), torch.randn(5, 6, dtype=torch.float64), torch.randn(5, 6, dtype=torch.float64)
    one = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(3))
    alpha = torch.rand(5, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    assert one.item() == gradient_penalty(critic, real, fake, alpha=alpha).item()
    with pytest.raises(ValueError, match="one value per example"):
        gradient_penalty(critic, real, fake, alpha=torch.zeros(3, dtype=torch.float64))
