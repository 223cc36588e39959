"""The variational autoencoder (Kingma & Welling, 2014) and its importance-weighted bound (Burda et al., 2016)
against independent oracles: torch.distributions' KL, Monte-Carlo averages, exact marginalisation by quadrature on a
one-latent model, closed-form gradients and finite differences."""

from __future__ import annotations

import math

import pytest
import tomllib
import torch
from torch.distributions import Normal, kl_divergence

import lamina
from lamina.errors import DataError
from lamina.generative import VAE
from lamina.generative.variational import (
    bernoulli_log_likelihood,
    gaussian_kl,
    gaussian_log_density,
    importance_weighted_bound,
    reparameterize,
)
from lamina.nn.builder import ObjectiveStack, build_model


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _small_vae(likelihood: str = "bernoulli", scale: float = 2.0) -> VAE:
    """A 5-input, one-latent VAE in float64, its weights ``scale`` times their initial values (2: a posterior far
    from the prior, so that the bounds differ visibly)."""
    torch.manual_seed(0)
    vae = VAE(5, 1, hidden=6, likelihood=likelihood).double()
    with torch.no_grad():
        for p in vae.parameters():
            p.mul_(scale)
    return vae


def _exact_log_likelihood(vae: VAE, x: torch.Tensor) -> torch.Tensor:
    """``log p(x) = log int p(x | z) N(z; 0, 1) dz`` for a one-latent model: the trapezoid rule on [-10, 10] with
    20,001 nodes (the integrand is smooth and negligible beyond |z| = 10)."""
    z = torch.linspace(-10, 10, 20001, dtype=torch.float64).unsqueeze(1)  # (G, 1)
    log_joint = vae.log_likelihood_given(x.unsqueeze(1), z.unsqueeze(0))  # (N, G): x (N, 1, D), z (1, G, 1)
    log_joint = log_joint + Normal(0.0, 1.0).log_prob(z[:, 0]).unsqueeze(0)
    w = torch.full((z.shape[0],), z[1, 0].item() - z[0, 0].item(), dtype=torch.float64)
    w[0] = w[-1] = w[0] / 2
    return torch.logsumexp(log_joint + w.log(), dim=1)


def test_kl_matches_torch_distributions_and_a_monte_carlo_estimate():
    g = _gen(0)
    mean, log_var = torch.randn(4, 3, generator=g, dtype=torch.float64), torch.randn(4, 3, generator=g).double()
    kl = gaussian_kl(mean, log_var)
    closed = kl_divergence(Normal(mean, (0.5 * log_var).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(kl, closed)
    z = reparameterize(mean, log_var, samples=200_000, generator=_gen(1))  # (S, 4, 3)
    terms = gaussian_log_density(z, mean, log_var) - Normal(0.0, 1.0).log_prob(z).sum(-1)  # log q - log p
    estimate, se = terms.mean(0), terms.std(0) / math.sqrt(len(terms))
    assert torch.all((estimate - kl).abs() < 4 * se), (estimate, kl, se)


def test_log_densities_match_torch_distributions():
    g = _gen(2)
    x, mean, log_var = (torch.randn(3, 7, generator=g, dtype=torch.float64) for _ in range(3))
    torch.testing.assert_close(
        gaussian_log_density(x, mean, log_var), Normal(mean, (0.5 * log_var).exp()).log_prob(x).sum(-1)
    )
    bits = (torch.rand(3, 7, generator=g) < 0.5).double()
    bern = torch.distributions.Bernoulli(logits=mean).log_prob(bits).sum(-1)
    torch.testing.assert_close(bernoulli_log_likelihood(mean, bits), bern)
    torch.testing.assert_close(
        importance_weighted_bound(torch.tensor([[0.0], [math.log(3.0)]])), torch.tensor([math.log(2.0)])
    )


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_iwae_estimate_against_exact_marginalisation(likelihood):
    # the Gaussian decoder at its initial scale: doubled, its sharp likelihood makes the weights heavy-tailed
    vae = _small_vae(likelihood, scale=2.0 if likelihood == "bernoulli" else 1.0)
    g = _gen(3)
    bits = (torch.rand(4, 5, generator=g) < 0.5).double()
    x = bits if likelihood == "bernoulli" else torch.randn(4, 5, generator=g).double()
    exact = _exact_log_likelihood(vae, x)
    estimate = vae.log_likelihood(x, k=50_000, generator=_gen(4))
    torch.testing.assert_close(estimate, exact.detach(), atol=0.02, rtol=0)


def test_iwae_bound_increases_with_k_and_equals_the_elbo_at_k_1():
    vae = _small_vae(scale=4.0)  # a sharp decoder: a posterior much narrower than the prior
    with torch.no_grad():  # q(z | x) = N(0, 1), the prior: far from the posterior, so the bounds are far apart
        vae.encoder[-1].weight.zero_()
        vae.encoder[-1].bias.zero_()
    x = (torch.rand(3, 5, generator=_gen(5)) < 0.5).double()
    exact = _exact_log_likelihood(vae, x).detach()
    repeats = 4000
    many = x.repeat(repeats, 1)  # (repeats * 3, 5): independent draws for each copy
    means, ses = {}, {}
    with torch.no_grad():
        for k in (1, 5, 50):
            bound = importance_weighted_bound(vae.log_weights(many, k, generator=_gen(6 + k))).reshape(repeats, 3)
            means[k], ses[k] = bound.mean(0), bound.std(0) / math.sqrt(repeats)
        elbos = vae.elbo(many, generator=_gen(100)).elbo.reshape(repeats, 3)
    # L_1 is the ELBO: the same expectation (one with the analytic KL, one with log p(z) - log q(z | x) sampled)
    gap = (means[1] - elbos.mean(0)).abs()
    assert torch.all(gap < 4 * torch.sqrt(ses[1] ** 2 + (elbos.std(0) / math.sqrt(repeats)) ** 2)), gap
    # L_1 < L_5 < L_50 <= log p(x), each step by more than the noise
    assert torch.all(means[5] - means[1] > 4 * (ses[1] + ses[5])), (means, ses)
    assert torch.all(means[50] - means[5] > 4 * (ses[5] + ses[50])), (means, ses)
    assert torch.all(means[50] < exact + 4 * ses[50])
    assert torch.all(exact - means[1] > 0.2)  # the bounds are far enough apart for the test to mean something


def test_reparameterised_gradient_against_closed_form_and_finite_differences():
    # E_q[(z - a)^2] = (mu - a)^2 + sigma^2: d/dmu = 2 (mu - a), d/dlog_var = sigma^2
    mu = torch.tensor([[0.3, -1.2]], dtype=torch.float64, requires_grad=True)
    log_var = torch.tensor([[-0.5, 0.4]], dtype=torch.float64, requires_grad=True)
    a = torch.tensor([1.0, 0.5], dtype=torch.float64)
    z = reparameterize(mu, log_var, samples=400_000, generator=_gen(7))
    (z - a).pow(2).sum(-1).mean().backward()
    torch.testing.assert_close(mu.grad, 2 * (mu.detach() - a), atol=0.01, rtol=0)
    torch.testing.assert_close(log_var.grad, log_var.detach().exp(), atol=0.01, rtol=0)
    # the ELBO's gradient with eps held fixed (same generator seed) against central finite differences
    vae = _small_vae()
    x = (torch.rand(3, 5, generator=_gen(8)) < 0.5).double()

    def objective() -> torch.Tensor:
        return vae.elbo(x, generator=_gen(9)).elbo.sum()

    weight = vae.encoder[0].weight
    objective().backward()
    h = 1e-6
    for index in [(0, 0), (2, 3), (5, 1)]:
        with torch.no_grad():
            weight[index] += h
            up = objective().item()
            weight[index] -= 2 * h
            down = objective().item()
            weight[index] += h
        assert weight.grad[index].item() == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-7)


def test_training_lowers_the_negative_elbo_and_the_layer_builds_an_objective_stack():
    torch.manual_seed(0)
    x = (torch.rand(128, 1, 4, 4) < torch.linspace(0.1, 0.9, 16).reshape(1, 1, 4, 4)).float()
    model = build_model([{"type": "flatten"}, {"type": "vae", "n_latent": 2, "hidden": [16]}], (1, 4, 4))
    assert isinstance(model, ObjectiveStack) and model.objective_name == "negative_elbo"
    data = lamina.data.ArrayDataset(x)
    trainer = lamina.Trainer(model, optimizer={"type": "adam", "lr": 0.01}, epochs=10, batch_size=32, verbose=0)
    before = trainer.evaluate(data)["loss"]
    history = trainer.fit(data)
    after = trainer.evaluate(data)
    assert after["loss"] < before - 1.0 and set(after) == {"loss", "reconstruction", "kl"}
    assert "negative_elbo" in history.epochs[-1]
    assert model(x).shape == (128, 16)
    assert not isinstance(build_model([{"type": "flatten"}, {"type": "dense", "units": 3}], (1, 4, 4)), ObjectiveStack)


def test_experiment_file_trains_a_vae(tmp_path):
    exp = lamina.parse_experiment(
        tomllib.loads(
            """
        name = "digits_vae"
        [data]
        name = "digits"
        flatten = true
        [model]
        layers = [{ type = "vae", n_latent = 2, hidden = 32 }]
        [train]
        epochs = 2
        batch_size = 64
        """
        )
    )
    run = lamina.train(exp, out=tmp_path, progress="none")
    summary = run.summary
    assert summary["status"] == "completed"
    assert summary["test"]["loss"] > 0 and summary["test"]["kl"] >= 0


def test_errors_name_the_option_and_the_data():
    with pytest.raises(ValueError, match="n_latent"):
        VAE(10, 0)
    with pytest.raises(ValueError, match="hidden"):
        VAE(10, 2, hidden=[5, 0])
    with pytest.raises(ValueError, match="likelihood"):
        VAE(10, 2, likelihood="poisson")
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        VAE(4, 1).elbo(torch.full((2, 4), 2.0))
    with pytest.raises(DataError, match="Bernoulli decoder"):  # the first training batch is checked
        VAE(4, 1).training_loss((torch.full((2, 4), -1.0), None))
    with pytest.raises(lamina.ShapeError, match="expects 4 inputs"):
        VAE(4, 1).elbo(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="`k`"):
        VAE(4, 1).log_likelihood(torch.zeros(2, 4), k=0)


def test_stochastic_binarization_is_the_rbm_benchmarks():
    from benchmarks.rbm_mnist_ll import binarized
    from lamina.data.vision import binarize_stochastic

    g = _gen(10)
    train, test = torch.rand(50, 12, generator=g), torch.rand(20, 12, generator=g)
    ours, theirs = binarize_stochastic(train, test), binarized(train, test, "stochastic")
    assert torch.equal(ours[0], theirs[0]) and torch.equal(ours[1], theirs[1])


def test_figures_and_the_principal_components_projection(tmp_path):
    from sklearn.decomposition import PCA

    from lamina.generative.variational.plots import (
        plot_latent_space,
        plot_samples_and_reconstructions,
        principal_components_2d,
    )

    codes = torch.randn(50, 5, generator=_gen(11), dtype=torch.float64)
    ours = principal_components_2d(codes).double()
    theirs = torch.from_numpy(PCA(2).fit_transform(codes.numpy()))
    torch.testing.assert_close(ours.abs(), theirs.abs(), atol=1e-5, rtol=0)  # each component up to its sign
    vae = VAE(16, 3, hidden=8)
    x = (torch.rand(20, 16, generator=_gen(12)) < 0.5).float()
    a = plot_samples_and_reconstructions(vae, x, tmp_path / "s.png", image_shape=(4, 4), samples=12)
    b = plot_latent_space(vae, x, torch.arange(20) % 3, tmp_path / "z.png")
    assert a.stat().st_size > 0 and b.stat().st_size > 0 and vae.training
