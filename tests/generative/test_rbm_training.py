"""RBMs trained by the ordinary trainer: learning (measured by the exact log-likelihood), PCD, resuming, mixed
precision, data-parallel gradients, monitoring, sampling reproducibility and bad input."""

from __future__ import annotations

import pytest
import torch

import lamina
from lamina.data import ArrayDataset
from lamina.errors import DataError, TrainingDivergedError
from lamina.generative import (
    BernoulliRBM,
    GaussianBernoulliRBM,
    MomentumSchedule,
    RBMMonitor,
    exact_log_partition,
    log_likelihood,
)
from lamina.train import Trainer


@pytest.fixture(scope="module")
def digits():
    splits = lamina.data.load("digits", scale="binarize", flatten=True)
    return splits.train.x, splits.test.x


def _test_log_likelihood(rbm, x):
    return log_likelihood(rbm, x, exact_log_partition(rbm)).mean().item()


@pytest.mark.parametrize("options, lr, momentum", [({"k": 1}, 0.1, 0.9), ({"persistent_chains": 64}, 0.05, 0.5)])
def test_cd_and_pcd_raise_the_exact_test_log_likelihood(digits, options, lr, momentum):
    train, test = digits
    rbm = BernoulliRBM(64, 16, **options)
    rbm.init_visible_bias(train)
    before = _test_log_likelihood(rbm, test)  # the independent-pixels model with the data's base rates
    Trainer(
        rbm, optimizer={"type": "sgd", "lr": lr, "momentum": momentum}, epochs=8, batch_size=32, device="cpu", seed=0
    ).fit(ArrayDataset(train))
    after = _test_log_likelihood(rbm, test)
    assert after > before + 2, (before, after)  # nats per 8x8 digit


def test_pcd_chains_are_checkpointed_and_a_resumed_run_is_bit_exact(digits):
    train, _ = digits
    initial = BernoulliRBM(64, 10, persistent_chains=20).state_dict()

    def trainer():
        rbm = BernoulliRBM(64, 10, persistent_chains=20)
        rbm.load_state_dict(initial)
        return Trainer(
            rbm, optimizer={"type": "sgd", "lr": 0.05, "momentum": 0.5}, epochs=3, batch_size=64, device="cpu", seed=3
        )

    full = trainer()
    full.fit(ArrayDataset(train))
    first = trainer()
    first.fit(ArrayDataset(train), epochs=1)
    state = first.state_dict()
    assert not torch.equal(state["model"]["persistent_chain"], initial["persistent_chain"])
    resumed = Trainer(
        BernoulliRBM(64, 10, persistent_chains=20),
        optimizer={"type": "sgd", "lr": 0.05},
        epochs=3,
        batch_size=64,
        device="cpu",
        seed=99,
    )
    resumed.load_state_dict(state)
    resumed.fit(ArrayDataset(train))
    for name, value in full.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name


def test_bf16_autocast_trains_with_float32_weights(digits):
    train, _ = digits
    rbm = BernoulliRBM(64, 16)
    before = rbm.weight.detach().clone()
    Trainer(rbm, optimizer={"type": "sgd", "lr": 0.1}, epochs=1, batch_size=64, device="cpu", precision="bf16").fit(
        ArrayDataset(train)
    )
    assert rbm.weight.dtype == torch.float32 and torch.isfinite(rbm.weight).all()
    assert (rbm.weight - before).abs().max() > 1e-3


def test_momentum_schedule_and_monitor_log_like_any_metric(digits):
    train, test = digits
    rbm = BernoulliRBM(64, 12)
    trainer = Trainer(
        rbm,
        optimizer={"type": "sgd", "lr": 0.1, "momentum": 0.5},
        epochs=3,
        batch_size=64,
        device="cpu",
        callbacks=[RBMMonitor(test, ais_every=3, ais_runs=20, ais_betas=300), MomentumSchedule(0.9, switch_epoch=2)],
    )
    history = trainer.fit(ArrayDataset(train))
    assert trainer.optimizer.param_groups[0]["momentum"] == 0.9
    assert history["recon_error"][2] < history["recon_error"][0]
    assert all(x < 0 for x in history["pseudo_log_likelihood"])
    exact = _test_log_likelihood(rbm, test)
    assert history[-1]["ais_log_likelihood"] == pytest.approx(exact, abs=0.3)
    assert 1 <= history[-1]["ais_effective_runs"] <= 20  # how much the estimate above is worth
    assert "ais_log_likelihood" not in history[0]


def test_sampling_is_reproducible_and_leaves_the_global_generator_alone():
    rbm = BernoulliRBM(20, 8)
    state = torch.get_rng_state()
    a = rbm.sample(5, 30, generator=torch.Generator().manual_seed(7), mean=False)
    b = rbm.sample(5, 30, generator=torch.Generator().manual_seed(7), mean=False)
    assert torch.equal(a, b) and set(a.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(torch.get_rng_state(), state)
    assert rbm.reconstruct(a).shape == (5, 20) and rbm.transform(a).shape == (5, 8)


def test_non_binary_or_nan_data_is_refused_with_advice():
    rbm = BernoulliRBM(4, 3)
    with pytest.raises(
        DataError,
        match=r"visible data must be binary \(0 or 1\) or probabilities in \[0, 1\]; "
        r"got values in \[-1\.5, 2\].*scale = \"binarize\".*GaussianBernoulliRBM",
    ):
        rbm.training_loss((torch.tensor([[0.0, 1.0, -1.5, 2.0]]), None))
    with pytest.raises(DataError, match="got NaN values"):
        rbm.training_loss((torch.tensor([[0.0, float("nan"), 1.0, 1.0]]), None))
    with pytest.raises(DataError, match=r"must be binary \(0 or 1\); got values in \[0\.2, 1\]"):
        log_likelihood(rbm, torch.tensor([[0.2, 1.0, 1.0, 1.0]]), 0.0)
    with pytest.raises(DataError, match=r"BernoulliRBM with 4 visible units got inputs of shape \(2, 5\)"):
        rbm.transform(torch.zeros(2, 5))
    with pytest.raises(DataError, match="must be finite"):
        GaussianBernoulliRBM(2, 2).training_loss((torch.tensor([[float("inf"), 0.0]]), None))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"k": 0}, "Invalid BernoulliRBM: k: expected an integer >= 1, got 0"),
        ({"reconstruction": "mean"}, "reconstruction: expected one of 'probabilities', 'samples', got 'mean'"),
        ({"sparsity_target": 1.5}, r"sparsity_target: expected a number in \(0, 1\), got 1.5"),
        ({"persistent_chains": -1}, "persistent_chains: expected an integer >= 0, got -1"),
        ({"softmax_units": 4}, r"softmax_units: must be < n_visible \(4\), got 4"),
    ],
)
def test_bad_options_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BernoulliRBM(4, 3, **kwargs)


def test_divergence_stops_with_the_step_and_finite_weights():
    x = torch.randn(256, 6) * 3
    rbm = GaussianBernoulliRBM(6, 8, learn_std=True)
    trainer = Trainer(rbm, optimizer={"type": "sgd", "lr": 50.0}, epochs=50, batch_size=32, device="cpu")
    with pytest.raises(TrainingDivergedError, match=r"the loss became (nan|inf|-inf) at epoch \d+, step \d+"):
        trainer.fit(ArrayDataset(x))
    assert all(torch.isfinite(p).all() for p in rbm.parameters())
