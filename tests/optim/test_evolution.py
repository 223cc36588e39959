"""Evolution strategies: the estimator's formula, convergence on a quadratic, the trainer, bad input."""

from __future__ import annotations

import io

import pytest
import torch
from scipy.stats import rankdata
from torch import nn

import lamina
from lamina.data import ArrayDataset
from lamina.optim import EvolutionStrategies, centered_ranks, es_gradient
from lamina.train import Trainer

A = torch.diag(torch.tensor([1.0, 2.0, 4.0, 0.5, 3.0], dtype=torch.float64))
W_STAR = torch.tensor([1.0, -2.0, 0.5, 3.0, -1.0], dtype=torch.float64)


def quadratic(w: torch.Tensor) -> torch.Tensor:
    d = w - W_STAR
    return 0.5 * d @ A @ d


def test_centered_ranks_match_scipy():
    values = torch.tensor([3.0, -1.0, 7.5, 0.0, 2.0, 10.0])
    expected = (rankdata(values.numpy()) - 1) / 5 - 0.5
    torch.testing.assert_close(centered_ranks(values), torch.tensor(expected, dtype=torch.float32))


def test_antithetic_estimate_is_the_formula_and_unbiased_on_a_quadratic():
    # Antithetic pairs cancel a quadratic's second-order terms: L(w + s e) - L(w - s e) = 2 s e^T grad L(w), so the
    # raw estimate is exactly (1/n) E^T E grad L(w), whose expectation is grad L(w).
    w = torch.zeros(5, dtype=torch.float64)
    grad = A @ (w - W_STAR)
    estimate = es_gradient(
        lambda v: float(quadratic(v)),
        w,
        sigma=0.1,
        pairs=4000,
        shaping="none",
        generator=torch.Generator().manual_seed(0),
    )
    noise = torch.randn(4000, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(estimate.gradient, noise.T @ (noise @ grad) / 4000, rtol=1e-9, atol=1e-9)
    # and 4000 pairs put it within a few standard errors (|grad| sqrt(2/n) ~ 0.2 per coordinate) of the gradient
    assert (estimate.gradient - grad).abs().max() < 0.5


def test_es_converges_on_a_quadratic_to_the_known_minimum():
    w = nn.Parameter(torch.zeros(5, dtype=torch.float64))
    opt = EvolutionStrategies([w], lr=0.05, sigma=0.1, population=20, generator=torch.Generator().manual_seed(0))
    for _ in range(600):
        opt.step(lambda: quadratic(w))
    assert (w.detach() - W_STAR).abs().max() < 0.05
    assert float(quadratic(w.detach())) < 1e-3


def test_es_trains_through_the_trainer():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=g)
    data = ArrayDataset(x, x @ torch.tensor([[1.0], [-1.0], [2.0]]))
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = EvolutionStrategies(model.parameters(), lr=0.05, sigma=0.05, population=16)  # an instance, not a table
    trainer = Trainer(model, loss="mse", optimizer=opt, epochs=150, batch_size=64, seed=0)
    before = trainer.evaluate(data)["loss"]
    trainer.fit(data)
    assert trainer.evaluate(data)["loss"] < 0.01 * before
    assert trainer.history[0]["loss"] == pytest.approx(before, rel=1e-5)  # the unperturbed loss is recorded


def test_es_state_round_trips_with_its_inner_optimizer_and_generator():
    w = nn.Parameter(torch.zeros(5, dtype=torch.float64))
    opt = EvolutionStrategies([w], generator=torch.Generator().manual_seed(1))
    for _ in range(3):
        opt.step(lambda: quadratic(w))
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)  # a checkpoint: copies, as torch's optimizers share tensors otherwise
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    w2 = nn.Parameter(w.detach().clone())
    other = EvolutionStrategies([w2], generator=torch.Generator().manual_seed(99))
    other.load_state_dict(state)
    opt.step(lambda: quadratic(w))
    other.step(lambda: quadratic(w2))
    assert torch.equal(w.detach(), w2.detach())  # the same noise and the same Adam moments


def test_es_bad_input():
    w = nn.Parameter(torch.zeros(2))
    opt = EvolutionStrategies([w])
    with pytest.raises(TypeError, match=r"(?s)EvolutionStrategies.step\(\) needs a closure.*no backward\(\)"):
        opt.step()

    def backprops():
        loss = w.pow(2).sum()
        loss.backward()
        return loss

    with pytest.raises(TypeError, match="without calling backward"):
        opt.step(backprops)
    with pytest.raises(ValueError, match="Invalid EvolutionStrategies: population: expected an even number"):
        EvolutionStrategies([w], population=5)
    with pytest.raises(ValueError, match="must be first-order"):
        EvolutionStrategies([w], inner=lambda ps: torch.optim.LBFGS(ps))
    with pytest.raises(lamina.ConfigError, match="population: expected an even number"):
        lamina.resolve("optimizer", {"type": "es", "population": 7})
