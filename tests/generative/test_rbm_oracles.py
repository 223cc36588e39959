"""RBM math against independent oracles: brute-force enumeration of every joint state, numerical integration, the
textbook CD update computed by hand, chi-square tests of the samplers, and scikit-learn's free energy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from scipy.special import logsumexp

from lamina.generative import BernoulliRBM, GaussianBernoulliRBM, exact_log_partition, pseudo_log_likelihood


def _rbm(n_v, n_h, *, seed=0, scale=1.0, dtype=torch.float64, **options):
    rbm = BernoulliRBM(n_v, n_h, dtype=dtype, **options)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in (rbm.weight, rbm.visible_bias, rbm.hidden_bias):
            p.copy_(torch.randn(p.shape, generator=g, dtype=dtype) * scale)
    return rbm


def _numpy(rbm):
    return [p.detach().double().numpy() for p in (rbm.weight, rbm.visible_bias, rbm.hidden_bias)]


def _all_states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def _joint_log_weights(rbm):
    """-E(v, h) for all 2^(n_v + n_h) joint states, written from the energy's definition: rows v, columns h."""
    w, b, c = _numpy(rbm)
    vs, hs = _all_states(w.shape[1]), _all_states(w.shape[0])
    return vs @ b[:, None] + (hs @ c)[None, :] + vs @ w.T @ hs.T, vs, hs


@pytest.mark.parametrize("n_v, n_h", [(5, 3), (3, 6)])  # sums out the hidden, then the visible layer
def test_exact_log_partition_equals_brute_force_enumeration(n_v, n_h):
    rbm = _rbm(n_v, n_h, seed=n_v)
    log_weights, _, _ = _joint_log_weights(rbm)
    assert exact_log_partition(rbm).item() == pytest.approx(logsumexp(log_weights), abs=1e-10)


def test_gaussian_log_partition_equals_numerical_integration():
    rbm = GaussianBernoulliRBM(2, 3, learn_std=True, dtype=torch.float64)
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in (rbm.weight, rbm.visible_bias, rbm.hidden_bias):
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) * 0.7)
        rbm.log_std.copy_(torch.tensor([-0.3, 0.4], dtype=torch.float64))
    w, b, c = _numpy(rbm)
    s = rbm.std.detach().numpy()
    hs = _all_states(3)

    def unnormalised(v1, v0):  # sum_h exp(-E(v, h)) from the energy's definition
        v = np.array([v0, v1])
        return np.exp(-((v - b) ** 2 / (2 * s**2)).sum() + hs @ c + hs @ w @ (v / s)).sum()

    z, _ = integrate.dblquad(unnormalised, -15, 15, -15, 15, epsabs=1e-11, epsrel=1e-11)
    assert exact_log_partition(rbm).item() == pytest.approx(np.log(z), abs=1e-7)


def _replay_cd(rbm, v, seed, *, k=1, mean_field=True, start=None):
    """The textbook CD-k / PCD statistics, by hand in numpy, replaying the documented order of random draws."""
    w, b, c = _numpy(rbm)
    g = torch.Generator().manual_seed(seed)
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    v0 = v.numpy()
    h0 = sig(v0 @ w.T + c)
    p = h0 if start is None else sig(start.numpy() @ w.T + c)
    for step in range(k):
        h = (torch.rand(p.shape, generator=g, dtype=torch.float64).numpy() < p).astype(float)
        pv = sig(h @ w + b)
        last = step == k - 1
        if last and mean_field and start is None:
            vk = pv
        else:
            sample = (torch.rand(pv.shape, generator=g, dtype=torch.float64).numpy() < pv).astype(float)
            vk = pv if last and mean_field else sample
        p = sig(vk @ w.T + c)
    return v0, h0, vk, p


@pytest.mark.parametrize(
    "k, reconstruction, persistent",
    [(1, "probabilities", 0), (1, "samples", 0), (3, "probabilities", 0), (2, "samples", 6)],
)
def test_cd_surrogate_gradient_is_the_textbook_update(k, reconstruction, persistent):
    rbm = _rbm(7, 5, scale=0.5, k=k, reconstruction=reconstruction, persistent_chains=persistent)
    v = (torch.rand(16, 7, generator=torch.Generator().manual_seed(1)) < 0.4).double()
    start = rbm.persistent_chain.clone() if persistent else None
    rbm.generator = torch.Generator().manual_seed(42)
    rbm.training_loss((v, None)).backward()
    v0, h0, vk, hk = _replay_cd(rbm, v, 42, k=k, mean_field=reconstruction == "probabilities", start=start)
    # <v h>_data - <v h>_model: the update; the surrogate's gradient is its negative
    delta_w = h0.T @ v0 / len(v0) - hk.T @ vk / len(vk)
    np.testing.assert_allclose(rbm.weight.grad.numpy(), -delta_w, atol=1e-12)
    np.testing.assert_allclose(rbm.visible_bias.grad.numpy(), -(v0.mean(0) - vk.mean(0)), atol=1e-12)
    np.testing.assert_allclose(rbm.hidden_bias.grad.numpy(), -(h0.mean(0) - hk.mean(0)), atol=1e-12)


def test_weight_decay_and_sparsity_terms_match_hintons_rules():
    rbm = _rbm(6, 4, scale=0.5, weight_decay=0.01, sparsity_target=0.1, sparsity_cost=0.3, sparsity_decay=0.9)
    v = (torch.rand(10, 6, generator=torch.Generator().manual_seed(2)) < 0.5).double()
    rbm.generator = torch.Generator().manual_seed(5)
    rbm.training_loss((v, None)).backward()
    v0, h0, vk, hk = _replay_cd(rbm, v, 5)
    w = rbm.weight.detach().numpy()
    q = 0.9 * 0.1 + 0.1 * h0.mean(0)  # running activity, started at the target
    sparse = 0.3 * (q - 0.1)
    expected = -(h0.T @ v0 / 10 - hk.T @ vk / 10) + 0.01 * w + np.outer(sparse, v0.mean(0))
    np.testing.assert_allclose(rbm.weight.grad.numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(rbm.hidden_bias.grad.numpy(), -(h0.mean(0) - hk.mean(0)) + sparse, atol=1e-12)


def test_gaussian_surrogate_gradients_match_the_hand_derived_ones():
    rbm = GaussianBernoulliRBM(4, 3, learn_std=True, dtype=torch.float64, reconstruction="samples")
    with torch.no_grad():
        rbm.weight.normal_(0, 0.5, generator=torch.Generator().manual_seed(0))
        rbm.log_std.copy_(torch.tensor([0.1, -0.2, 0.3, 0.0], dtype=torch.float64))
    v = torch.randn(12, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    rbm.generator = torch.Generator().manual_seed(9)
    rbm.training_loss((v, None)).backward()
    w, b, c = _numpy(rbm)
    s = rbm.std.detach().numpy()
    g = torch.Generator().manual_seed(9)
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    v0 = v.numpy()
    h0 = sig((v0 / s) @ w.T + c)
    h = (torch.rand(h0.shape, generator=g, dtype=torch.float64).numpy() < h0).astype(float)
    vk = b + s * (h @ w) + s * torch.randn(v0.shape, generator=g, dtype=torch.float64).numpy()
    hk = sig((vk / s) @ w.T + c)

    def dF(v, hp):  # derivatives of F(v) = |v - b|^2 / (2 s^2) - sum softplus(c + W v/s), averaged over rows
        return {
            "w": -hp.T @ (v / s) / len(v),
            "b": -((v - b) / s**2).mean(0),
            "c": -hp.mean(0),
            "log_std": (-((v - b) ** 2) / s**2 + (v / s) * (hp @ w)).mean(0),
        }

    data, model = dF(v0, h0), dF(vk, hk)
    for name, param in (("w", rbm.weight), ("b", rbm.visible_bias), ("c", rbm.hidden_bias), ("log_std", rbm.log_std)):
        np.testing.assert_allclose(param.grad.numpy(), data[name] - model[name], atol=1e-10, err_msg=name)


def _chi_square_pvalue(samples, probabilities):
    """Chi-square goodness of fit of binary row samples to a distribution over all 2^n states (index = bits)."""
    n = samples.shape[1]
    index = (samples.long() * (2 ** torch.arange(n - 1, -1, -1))).sum(1)  # itertools.product order
    counts = torch.bincount(index, minlength=2**n).numpy()
    return stats.chisquare(counts, probabilities * counts.sum()).pvalue


def test_conditionals_and_gibbs_chain_match_enumeration_chi_square():
    rbm = _rbm(4, 3, seed=7, scale=1.0)
    log_weights, vs, hs = _joint_log_weights(rbm)
    g = torch.Generator().manual_seed(0)
    n = 20000
    v = torch.tensor([[1.0, 0.0, 1.0, 1.0]], dtype=torch.float64)
    p_h_given_v = np.exp(log_weights[11] - logsumexp(log_weights[11]))  # row 11 = (1, 0, 1, 1)
    assert _chi_square_pvalue(rbm.sample_hidden(v.expand(n, -1), g), p_h_given_v) > 1e-3
    h = torch.tensor([[0.0, 1.0, 1.0]], dtype=torch.float64)
    p_v_given_h = np.exp(log_weights[:, 3] - logsumexp(log_weights[:, 3]))  # column 3 = (0, 1, 1)
    assert _chi_square_pvalue(rbm.sample_visible(h.expand(n, -1), g), p_v_given_h) > 1e-3
    # n independent chains after 50 Gibbs steps: the stationary distribution is the marginal p(v)
    marginal = np.exp(logsumexp(log_weights, axis=1) - logsumexp(log_weights))
    chains = rbm.gibbs(torch.zeros(n, 4, dtype=torch.float64), 50, generator=g)
    assert _chi_square_pvalue(chains, marginal) > 1e-3
    # and the test has power: the same samples against a wrong distribution are rejected
    assert _chi_square_pvalue(chains, np.roll(marginal, 1)) < 1e-6


def test_pseudo_log_likelihood_matches_enumerated_conditionals():
    rbm = _rbm(5, 3, seed=4)
    log_weights, vs, _ = _joint_log_weights(rbm)
    log_marginal = logsumexp(log_weights, axis=1)
    v = torch.tensor(vs[[3, 17, 30]])
    expected = []
    for row in v.numpy():
        total = 0.0
        for i in range(5):
            flipped = row.copy()
            flipped[i] = 1 - flipped[i]
            a = log_marginal[int("".join(str(int(x)) for x in row), 2)]
            b = log_marginal[int("".join(str(int(x)) for x in flipped), 2)]
            total += a - np.logaddexp(a, b)
        expected.append(total)
    np.testing.assert_allclose(pseudo_log_likelihood(rbm, v, exact=True).numpy(), expected, atol=1e-10)
    # the one-flip estimate is unbiased: its mean over many draws approaches the exact value
    many = pseudo_log_likelihood(rbm, v.repeat(20000, 1), generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(many.reshape(20000, 3).mean(0).numpy(), expected, rtol=0.03)


def test_free_energy_and_transform_match_scikit_learn():
    from sklearn.neural_network import BernoulliRBM as SkRBM

    rbm = _rbm(8, 5, seed=1)
    w, b, c = _numpy(rbm)
    sk = SkRBM(n_components=5)
    sk.components_, sk.intercept_visible_, sk.intercept_hidden_ = w, b, c
    v = (np.random.default_rng(0).random((6, 8)) < 0.5).astype(float)
    np.testing.assert_allclose(rbm.free_energy(torch.tensor(v)).detach().numpy(), sk._free_energy(v), atol=1e-12)
    np.testing.assert_allclose(rbm.transform(torch.tensor(v)).detach().numpy(), sk.transform(v), atol=1e-12)
    # the energy: exp(-F(v)) is the sum of exp(-E(v, h)) over every h
    hs = torch.tensor(_all_states(5))
    vv = torch.tensor(v[:1]).expand(len(hs), -1)
    total = torch.logsumexp(-rbm.energy(vv, hs), 0)
    assert total.item() == pytest.approx(-rbm.free_energy(torch.tensor(v[:1])).item(), abs=1e-12)
