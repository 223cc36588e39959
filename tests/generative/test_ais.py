"""Annealed importance sampling against the exact log-partition function."""

from __future__ import annotations

import warnings

import pytest
import torch

import lamina
from lamina.data import ArrayDataset
from lamina.generative import (
    AISWarning,
    BernoulliRBM,
    GaussianBernoulliRBM,
    ais_log_partition,
    default_betas,
    exact_log_partition,
)
from lamina.train import Trainer
from tests.conftest import needs_mnist


def _random_rbm(n_v, n_h, scale, seed):
    rbm = BernoulliRBM(n_v, n_h)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        rbm.weight.copy_(torch.randn(n_h, n_v, generator=g) * scale)
        rbm.visible_bias.copy_(torch.randn(n_v, generator=g) * scale)
        rbm.hidden_bias.copy_(torch.randn(n_h, generator=g) * scale)
    return rbm


def test_ais_matches_the_exact_log_partition_of_a_small_rbm():
    rbm = _random_rbm(40, 12, 0.3, seed=0)
    data = rbm.sample(500, 200, generator=torch.Generator().manual_seed(0), mean=False)
    exact = exact_log_partition(rbm).item()
    with warnings.catch_warnings():
        warnings.simplefilter("error", AISWarning)  # a sound estimate: no warning
        estimate = ais_log_partition(rbm, 100, 2000, data=data, generator=torch.Generator().manual_seed(1))
    assert abs(estimate.log_z - exact) < 0.05
    assert estimate.lower <= exact <= estimate.upper
    assert 1 <= estimate.effective_runs <= 100


def test_ais_of_a_gaussian_rbm_matches_the_exact_value():
    rbm = GaussianBernoulliRBM(30, 10, learn_std=True)
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        rbm.weight.copy_(torch.randn(10, 30, generator=g) * 0.2)
        rbm.log_std.copy_(torch.randn(30, generator=g) * 0.2)
        rbm.visible_bias.copy_(torch.randn(30, generator=g))
    estimate = ais_log_partition(rbm, 100, 1000, generator=torch.Generator().manual_seed(3))
    assert estimate.log_z == pytest.approx(exact_log_partition(rbm).item(), abs=0.05)


def test_an_estimate_carried_by_a_few_runs_warns_and_falls_short():
    # sharp weights and ten intermediate distributions: the importance weights spread over many orders of magnitude
    rbm = _random_rbm(40, 12, 1.5, seed=4)
    exact = exact_log_partition(rbm).item()
    with pytest.warns(AISWarning, match=r"the 50 runs are worth [0-9.]+ \(effective sample size\), below 0.1 of them"):
        estimate = ais_log_partition(rbm, 50, 10, generator=torch.Generator().manual_seed(0))
    assert estimate.effective_runs < 5
    assert estimate.log_z < exact  # what the warning says: too low
    with pytest.raises(ValueError, match=r"`min_effective` is a fraction of the runs in \[0, 1\], got 2"):
        ais_log_partition(rbm, 50, 10, min_effective=2)


def test_default_schedule_is_salakhutdinov_and_murrays():
    betas = default_betas()
    assert len(betas) == 14501 and betas[0] == 0 and betas[-1] == 1
    assert torch.all(betas[1:] >= betas[:-1])
    assert int((betas < 0.5).sum()) == 500 and int(((betas >= 0.5) & (betas < 0.9)).sum()) == 4000


def test_bad_schedules_and_models_are_refused():
    rbm = _random_rbm(6, 4, 0.1, seed=0)
    with pytest.raises(ValueError, match="`betas` must increase from 0 to 1"):
        ais_log_partition(rbm, 10, torch.tensor([0.0, 0.7, 0.5, 1.0]))
    with pytest.raises(ValueError, match="`n_runs` must be a positive integer, got 0"):
        ais_log_partition(rbm, 0, 100)
    big = BernoulliRBM(30, 40)
    with pytest.raises(ValueError, match=r"enumerates the 2\^30 states of the visible layer; at most 2\^25"):
        exact_log_partition(big)
    labelled = BernoulliRBM(6, 4, softmax_units=2)
    with pytest.raises(ValueError, match="softmax label group"):
        exact_log_partition(labelled)


@pytest.mark.slow
@needs_mnist
def test_ais_is_within_a_tenth_of_a_nat_on_a_trained_mnist_rbm_with_20_hidden_units():
    x = lamina.data.load("mnist", scale="binarize", flatten=True, train_subset=10000).train.x
    rbm = BernoulliRBM(784, 20)
    rbm.init_visible_bias(x)
    Trainer(
        rbm, optimizer={"type": "sgd", "lr": 0.1, "momentum": 0.9}, epochs=5, batch_size=100, device="cpu", seed=0
    ).fit(ArrayDataset(x))
    exact = exact_log_partition(rbm).item()
    estimate = ais_log_partition(rbm, 100, 14500, data=x, generator=torch.Generator().manual_seed(1))
    assert abs(estimate.log_z - exact) < 0.1
