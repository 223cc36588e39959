"""Hessian-free: the Newton step on least squares, training through the Trainer, recurrent nets, bad input."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import lamina
from lamina.data import ArrayDataset
from lamina.optim import CurvatureError, HessianFree
from lamina.optim.hessian_free import adapt_damping, armijo, backtrack
from lamina.train import Closure, Trainer


def lamina_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _least_squares(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(60, 4, dtype=torch.float64, generator=g)
    y = x @ torch.randn(4, 2, dtype=torch.float64, generator=g) + 0.3 * torch.randn(
        60, 2, dtype=torch.float64, generator=g
    )
    return x, y


def test_one_step_on_linear_least_squares_is_the_closed_form_newton_step():
    x, y = _least_squares()
    torch.manual_seed(0)
    model = nn.Linear(4, 2).double()
    opt = HessianFree(
        model.parameters(), damping=1e-12, cg_tol=0, cg_max_iter=40, cg_decay=0, backtracking=False, line_search=False
    )

    def closure():
        outputs = model(x)
        return nn.functional.mse_loss(outputs, y), outputs

    opt.step(closure)
    solution, *_ = np.linalg.lstsq(np.c_[x.numpy(), np.ones(60)], y.numpy(), rcond=None)
    np.testing.assert_allclose(model.weight.detach().numpy().T, solution[:4], atol=1e-9)
    np.testing.assert_allclose(model.bias.detach().numpy(), solution[4], atol=1e-9)
    assert opt.state[model.weight]["rho"] == pytest.approx(1.0, abs=1e-6)  # a quadratic: the model is exact


def test_hessian_free_from_an_experiment_table_solves_least_squares_in_one_epoch():
    x, y = _least_squares(1)
    model = nn.Linear(4, 2).double()
    trainer = Trainer(
        model,
        loss="mse",
        optimizer={"type": "hessian_free", "damping": 1e-10, "cg_tol": 0, "cg_max_iter": 40},
        epochs=1,
        batch_size=60,
        seed=0,
    )
    trainer.fit(ArrayDataset(x, y))
    solution, *_ = np.linalg.lstsq(np.c_[x.numpy(), np.ones(60)], y.numpy(), rcond=None)
    np.testing.assert_allclose(model.weight.detach().numpy().T, solution[:4], atol=1e-7)
    assert trainer.history[-1]["loss"] > 0  # the trainer saw the batch's loss (recorded by the optimizer)


def test_hessian_free_trains_a_recurrent_net():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 6, 1, generator=g)
    y = x.sum(dim=1)  # the sum: the net must carry state across 6 steps

    class Summer(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.head = nn.RNN(1, 6, batch_first=True), nn.Linear(6, 1)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    torch.manual_seed(0)
    model = Summer()
    opt = HessianFree(model.parameters(), damping=1.0, cg_max_iter=15)

    def closure():
        outputs = model(x)
        return nn.functional.mse_loss(outputs, y), outputs

    first = float(opt.step(closure))
    for _ in range(8):
        last = float(opt.step(closure))
    assert last < 0.01 * first


def test_step_without_a_closure_says_what_form_it_needs():
    opt = HessianFree(nn.Linear(2, 1).parameters())
    with pytest.raises(
        TypeError,
        match=r"(?s)HessianFree.step\(\) needs a closure.*return loss_fn\(outputs, y\), "
        r"outputs",
    ):
        opt.step()
    with pytest.raises(TypeError, match=r"must return \(loss, outputs\)"):
        opt.step(lambda: torch.tensor(1.0))


def test_non_finite_curvature_damps_retries_then_stops_with_a_message():
    model = nn.Linear(2, 2)
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)  # outputs exactly 0, where |z|^1.5 has an infinite second derivative
    x, y = torch.randn(5, 2), torch.randn(5, 2)
    opt = HessianFree(model.parameters(), damping=1.0, max_retries=2)

    def closure():
        outputs = model(x)
        return nn.functional.mse_loss(outputs, y) + outputs.abs().pow(1.5).sum(), outputs

    with pytest.raises(CurvatureError, match=r"broke down .* even with damping lambda = 100 after 2 retries"):
        opt.step(closure)
    assert torch.equal(model.weight.detach(), torch.zeros(2, 2))  # no step taken


def test_indefinite_curvature_is_damped_until_cg_succeeds():
    torch.manual_seed(0)
    model, x = nn.Linear(3, 1), torch.randn(20, 3)
    opt = HessianFree(model.parameters(), damping=1e-3, max_retries=8, line_search=False)

    def closure():  # a loss concave in the outputs: its Gauss-Newton "curvature" is negative semi-definite
        outputs = model(x)
        return -outputs.pow(2).mean(), outputs

    opt.step(closure)
    state = opt.state[model.weight]
    assert state["retries"] >= 1 and state["damping"] >= 1e-2  # damped x10 per retry, then adapted


def test_a_loss_not_computed_from_the_returned_outputs_is_refused():
    model, x, y = nn.Linear(2, 1), torch.randn(4, 2), torch.randn(4, 1)
    opt = HessianFree(model.parameters())
    with pytest.raises(ValueError, match="the loss must be computed from the outputs"):
        opt.step(lambda: (nn.functional.mse_loss(model(x), y), model(x)))  # two forward passes


def test_preconditioner_needs_a_lamina_closure():
    model = nn.Linear(2, 1)
    opt = HessianFree(model.parameters(), preconditioner="empirical_fisher")
    x, y = torch.randn(4, 2), torch.randn(4, 1)

    def closure():
        outputs = model(x)
        return nn.functional.mse_loss(outputs, y), outputs

    with pytest.raises(ValueError, match=r"lamina.train.Closure\(model, x, y, loss_fn\)"):
        opt.step(closure)
    opt.step(Closure(model, x, y, nn.functional.mse_loss))  # the same batch as a lamina Closure works


def test_state_dict_round_trips_through_a_weights_only_checkpoint():
    x, y = _least_squares()
    model = nn.Linear(4, 2).double()
    opt = HessianFree(model.parameters(), damping=0.5)
    opt.step(Closure(model, x, y, nn.functional.mse_loss))
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    other = HessianFree(model.parameters())
    other.load_state_dict(torch.load(buffer, weights_only=True))
    state = other.state[model.weight]
    assert state["damping"] == opt.state[model.weight]["damping"] and torch.equal(
        state["direction"], opt.state[model.weight]["direction"]
    )


def test_damping_rule_backtracking_and_armijo():
    assert adapt_damping(1.0, 0.1) == 1.5 and adapt_damping(1.0, 0.9) == pytest.approx(2 / 3)
    assert adapt_damping(1.0, 0.5) == 1.0 and adapt_damping(1.0, float("nan")) == 1.5
    iterates = [(i, torch.tensor([float(i)]), 0.0) for i in (1, 2, 3, 4)]
    losses = {1: 5.0, 2: 1.0, 3: 2.0, 4: 3.0}  # the loss is lowest at iterate 2: go back from 4 to 2
    assert backtrack(iterates, lambda x: losses[int(x)]) == (1, 1.0)
    # f(a) = (a - 0.3)^2 from f(0) = 0.09 with slope -0.6: Armijo needs f(a) <= 0.09 - 0.006 a, which
    # a = 1, 0.8 and 0.64 miss (0.49, 0.25, 0.1156) and a = 0.512 meets (0.0449)
    alpha, f = armijo(lambda a: (a - 0.3) ** 2, 0.09, -0.6, 0.49)
    assert alpha == pytest.approx(0.512) and f == pytest.approx(0.212**2)
    assert armijo(lambda a: 1.0, 0.09, -0.6, 1.0, max_steps=5) == (0.0, 0.09)  # no acceptable step: stay


def test_spec_validates_cross_field_bounds():
    with pytest.raises(lamina.ConfigError, match="cg_min_iter: must be <= cg_max_iter"):
        lamina.resolve("optimizer", {"type": "hf", "cg_min_iter": 30, "cg_max_iter": 20})


def test_example_experiment_trains_with_hessian_free(tmp_path):
    # the experiment-file path: spec -> Trainer -> Closure, curvature mini-batches and the Fisher preconditioner
    exp = lamina.load_experiment(lamina_root() / "examples" / "digits_hessian_free.toml", overrides=["train.epochs=6"])
    run = lamina.train(exp, out=tmp_path, progress="none")
    assert run.evaluate("test")["accuracy"] > 0.9
    assert (run.dir / "config.toml").read_text().count('type = "hessian_free"') == 1


def test_bf16_curvature_runs_the_cg_products_in_bfloat16_and_trains_like_fp32(monkeypatch):
    import lamina.optim.hessian_free as hf

    seen = []

    class Recording(hf.GaussNewton):
        def __init__(self, loss, outputs, params):
            seen.append(outputs.dtype)
            super().__init__(loss, outputs, params)

    monkeypatch.setattr(hf, "GaussNewton", Recording)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 8, generator=g)
    y = torch.sin(x @ torch.randn(8, 3, generator=g))

    def fit(precision):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 3))
        opt = HessianFree(
            model.parameters(), damping=0.1, cg_max_iter=30, curvature_batch=0.25, curvature_precision=precision
        )
        start = nn.functional.mse_loss(model(x), y).item()
        for _ in range(15):
            opt.step(Closure(model, x, y, nn.functional.mse_loss))
        return start, nn.functional.mse_loss(model(x), y).item(), model

    start, fp32, _ = fit("fp32")
    assert set(seen) == {torch.float32}
    seen.clear()
    start_bf16, bf16, model = fit("bf16")
    assert set(seen) == {torch.bfloat16} and len(seen) == 15
    assert start_bf16 == start and bf16 < 0.2 * start  # it trains
    assert bf16 == pytest.approx(fp32, rel=0.1)  # about as well: the curvature is coarser, the gradient the same
    assert all(p.dtype == torch.float32 for p in model.parameters())
    # the products themselves: within 2% of the fp32 ones on the same batch (those are checked against explicit
    # Jacobians in test_curvature)
    out32 = model(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out16 = model(x)
    params = list(model.parameters())
    v = torch.randn(sum(p.numel() for p in params), generator=g)
    exact = hf.GaussNewton(nn.functional.mse_loss(out32, y), out32, params).matvec(v)
    coarse = hf.GaussNewton(nn.functional.mse_loss(out16.float(), y), out16, params).matvec(v)
    assert float((coarse - exact).norm() / exact.norm()) < 0.02


def test_curvature_precision_is_checked():
    model = nn.Linear(2, 1)
    with pytest.raises(
        ValueError,
        match=r"Invalid HessianFree: curvature_precision: expected one of 'fp32', 'bf16', "
        r"'fp16', got 'int8'",
    ):
        HessianFree(model.parameters(), curvature_precision="int8")
    with pytest.raises(lamina.ConfigError, match="curvature_precision"):
        lamina.resolve("optimizer", {"type": "hf", "curvature_precision": "fp64"})
    opt = lamina.resolve("optimizer", {"type": "hf", "curvature_precision": "bf16"}).build(model.parameters())
    assert opt.param_groups[0]["curvature_precision"] == "bf16"
