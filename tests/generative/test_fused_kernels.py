"""The fused CPU kernels of the RBM's Gibbs steps against independent oracles: Random123's known answers for
Threefry-2x32-20, torch's float64 formulas for the sigmoid / softplus / column sums, binomial bounds for the Bernoulli
draws, and exact enumeration for the expected CD-1 update of a tiny RBM."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from lamina.generative import BernoulliRBM, cd_statistics, cd_surrogate
from lamina.generative.rbm import fused_kernels
from lamina.generative.rbm.functions import sample_bernoulli

needs_kernels = pytest.mark.skipif(
    not fused_kernels.available(), reason=f"fused kernels unavailable: {fused_kernels.unavailable_reason()}"
)


@needs_kernels
@pytest.mark.parametrize(
    "counter, key, expected",
    [  # Random123 1.14, examples/kat_vectors, "threefry2x32 20" lines
        ((0, 0), (0, 0), (0x6B200159, 0x99BA4EFE)),
        ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
        ((0x243F6A88, 0x85A308D3), (0x13198A2E, 0x03707344), (0xC4923A9C, 0x483DF7A0)),
    ],
)
def test_threefry_matches_the_known_answers(counter, key, expected):
    assert fused_kernels.threefry2x32_20(counter, key) == expected


@needs_kernels
def test_loading_the_kernels_leaves_subnormal_arithmetic_alone():
    # a library linked with -ffast-math switches the process to flush-to-zero when it loads
    assert fused_kernels.available() and 2.2250738585072014e-308 / 4 > 0
    assert float(torch.tensor(1e-39, dtype=torch.float32) * 0.5) > 0


@needs_kernels
def test_sigmoid_pass_matches_torch_in_float64():
    g = torch.Generator().manual_seed(0)
    logits = torch.cat([torch.randn(37, 53, generator=g) * 4, torch.randn(3, 53, generator=g) * 60])  # saturating too
    out = fused_kernels.sigmoid_pass(logits, softplus=True, column_sum=True)
    exact = torch.sigmoid(logits.double())
    assert (out.probabilities.double() - exact).abs().max() < 2e-7
    assert float(out.softplus_sum) == pytest.approx(float(F.softplus(logits.double()).sum()), rel=1e-6)
    assert torch.allclose(out.column_sum.double(), exact.sum(0), rtol=1e-5, atol=1e-5)
    assert out.sample is None


@needs_kernels
def test_non_finite_logits_give_nan_not_a_finite_loss():
    logits = torch.zeros(4, 6)
    logits[1, 2] = float("nan")
    out = fused_kernels.sigmoid_pass(logits, sample=True, softplus=True, column_sum=True)
    assert torch.isnan(out.softplus_sum) and torch.isnan(out.probabilities[1, 2])
    assert torch.isnan(out.column_sum[2]) and out.probabilities[0, 0] == 0.5


@needs_kernels
def test_bernoulli_frequencies_are_within_binomial_bounds():
    p = torch.tensor([0.0, 1e-3, 0.1, 0.3, 0.5, 0.77, 0.999, 1.0])
    n = 200_000
    draws = fused_kernels.bernoulli(p.expand(n, -1).contiguous(), torch.Generator().manual_seed(3))
    assert set(draws.unique().tolist()) <= {0.0, 1.0}
    freq = draws.double().mean(0)
    bound = 5 * torch.sqrt(p.double() * (1 - p.double()) / n) + 1e-12
    assert ((freq - p.double()).abs() <= bound).all(), (freq, p)
    # neighbouring units and examples are uncorrelated (a generator fault would show here)
    u = draws[:, 4] - 0.5
    assert abs(float((u[1:] * u[:-1]).mean())) < 5 * 0.25 / n**0.5
    assert abs(float(((draws[:, 3] - 0.3) * (draws[:, 4] - 0.5)).mean())) < 5 * (0.21 * 0.25) ** 0.5 / n**0.5


@needs_kernels
def test_draws_are_a_function_of_the_generator_and_the_position():
    p = torch.full((64, 40), 0.5)
    a = fused_kernels.bernoulli(p, torch.Generator().manual_seed(5))
    b = fused_kernels.bernoulli(p, torch.Generator().manual_seed(5))
    c = fused_kernels.bernoulli(p, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    # counter-based: the first rows of a larger batch with the same key are the same draws
    longer = fused_kernels.bernoulli(torch.full((128, 40), 0.5), torch.Generator().manual_seed(5))
    assert torch.equal(longer[:64], a)
    # and the sampler the RBMs call uses the kernel for float32 on the CPU, advancing the generator
    g = torch.Generator().manual_seed(5)
    assert torch.equal(sample_bernoulli(p, g), a) and not torch.equal(sample_bernoulli(p, g), a)


@needs_kernels
@pytest.mark.parametrize("persistent, mean_field", [(False, True), (False, False), (True, True)])
def test_fused_statistics_give_the_torch_formulas_value_and_gradient(persistent, mean_field):
    torch.manual_seed(0)
    rbm = BernoulliRBM(20, 7, k=2)
    with torch.no_grad():
        rbm.weight.normal_(0, 0.5)
        rbm.visible_bias.normal_(0, 0.3)
        rbm.hidden_bias.normal_(0, 0.3)
    v = (torch.rand(16, 20) < 0.4).float()
    start = (torch.rand(9, 20) < 0.5).float() if persistent else None
    stats = cd_statistics(
        v,
        rbm.weight,
        rbm.visible_bias,
        rbm.hidden_bias,
        k=2,
        start=start,
        mean_field=mean_field,
        generator=torch.Generator(),
    )
    assert stats.chain.shape == ((9 if persistent else 16), 20)  # k = 2: the first step's sample at least
    assert stats.summary is not None
    fused = cd_surrogate(stats, rbm.weight, rbm.visible_bias, rbm.hidden_bias)
    grads = torch.autograd.grad(fused, [rbm.weight, rbm.visible_bias, rbm.hidden_bias])
    stats.summary = None  # the surrogate recomputes every mean and softplus from the statistics with torch
    plain = cd_surrogate(stats, rbm.weight, rbm.visible_bias, rbm.hidden_bias)
    expected = torch.autograd.grad(plain, [rbm.weight, rbm.visible_bias, rbm.hidden_bias])
    assert float(fused.detach()) == pytest.approx(float(plain.detach()), rel=1e-5, abs=1e-5)
    for got, want in zip(grads, expected):
        assert torch.allclose(got, want, atol=1e-6)
    # and the statistics themselves are the conditionals of the chain they record
    assert torch.allclose(stats.h_data, torch.sigmoid(stats.logits_data))
    assert torch.allclose(stats.h_model, torch.sigmoid(stats.logits_model)) and stats.v_model.shape == stats.chain.shape


@needs_kernels
def test_fused_cd1_update_is_unbiased_against_enumeration():
    """E[<h v^T>_model] of mean-field CD-1 from a fixed batch, by enumerating the sampled hidden states."""
    torch.manual_seed(1)
    w = torch.randn(3, 4) * 0.8
    b, c = torch.randn(4) * 0.5, torch.randn(3) * 0.5
    v0 = torch.tensor([[1.0, 0.0, 1.0, 1.0]])
    p0 = torch.sigmoid(c + v0 @ w.t())[0].double()
    expected = torch.zeros(3, 4, dtype=torch.float64)
    for bits in itertools.product((0.0, 1.0), repeat=3):
        h0 = torch.tensor(bits, dtype=torch.float64)
        weight = torch.prod(torch.where(h0 == 1, p0, 1 - p0))
        v1 = torch.sigmoid(b.double() + h0 @ w.double())
        h1 = torch.sigmoid(c.double() + v1 @ w.double().t())
        expected += weight * torch.outer(h1, v1)
    n = 100_000
    stats = cd_statistics(v0.expand(n, -1).contiguous(), w, b, c, k=1, generator=torch.Generator().manual_seed(2))
    assert stats.summary is not None
    estimate = (stats.h_model.double().t() @ stats.v_model.double()) / n
    assert (estimate - expected).abs().max() < 4e-3  # the Monte Carlo error of 1e5 chains is about 1e-3


def test_the_environment_switch_turns_the_kernels_off():
    code = (
        "from lamina.generative.rbm import fused_kernels as f; import torch; "
        "print(f.available(), f.unavailable_reason()); "
        "from lamina.generative.rbm.functions import sample_bernoulli; "
        "g = torch.Generator().manual_seed(0); p = torch.full((3, 4), 0.5); "
        "u = torch.rand(3, 4, generator=torch.Generator().manual_seed(0)); "
        "print(torch.equal(sample_bernoulli(p, g), (u < p).float()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LAMINA_FUSED_KERNELS": "0"},
    ).stdout.split("\n")
    assert out[0] == "False disabled by LAMINA_FUSED_KERNELS=0" and out[1] == "True"


@needs_kernels
def test_disabled_restores_torchs_draws_inside_the_block_only():
    p = torch.full((3, 4), 0.5)
    with fused_kernels.disabled():
        assert not fused_kernels.available()
        inside = sample_bernoulli(p, torch.Generator().manual_seed(0))
    assert torch.equal(inside, (torch.rand(3, 4, generator=torch.Generator().manual_seed(0)) < p).float())
    assert fused_kernels.available()
