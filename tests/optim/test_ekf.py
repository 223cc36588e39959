"""EKF training: exact Kalman filtering on a linear-Gaussian model (float64), decoupling, bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lamina.data import ArrayDataset
from lamina.optim import EKF
from lamina.optim.ekf import annealed
from lamina.optim.ekf_blocks import covariance_bytes, decoupled_blocks
from lamina.train import Closure, Trainer

P0, R, Q = 2.0, 0.3, 0.01


def _linear_problem(steps=6, n_in=3, m=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    xs = torch.randn(steps, 1, n_in, dtype=torch.float64, generator=g)
    w_true = torch.randn(m, n_in, dtype=torch.float64, generator=g)
    ys = xs @ w_true.T + 0.5 * torch.randn(steps, 1, m, dtype=torch.float64, generator=g)
    return xs, ys


def _observation_matrix(x, m):
    """y = W x + b for the flat weights [W (row-major), b]: H = [I_m kron x^T, I_m]."""
    return torch.cat([torch.kron(torch.eye(m, dtype=x.dtype), x.reshape(1, -1)), torch.eye(m, dtype=x.dtype)], 1)


def _kalman_closed_form(w0, xs, ys, m):
    """The posterior of w_{K+1} given y_1..y_K by conditioning one joint Gaussian: w_1 ~ N(w0, P0 I),
    w_{k+1} = w_k + N(0, Q I), y_k = H_k w_k + N(0, R I). No recursion: the oracle for the filter."""
    K, n = len(xs), len(w0)
    Hs = [_observation_matrix(x, m) for x in xs]
    eye = torch.eye(n, dtype=w0.dtype)

    def cov_w(i, j):  # Cov(w_i, w_j), 0-based
        return (P0 + min(i, j) * Q) * eye

    Czz = torch.cat(
        [
            torch.cat(
                [Hs[i] @ cov_w(i, j) @ Hs[j].T + (R * torch.eye(m, dtype=w0.dtype) if i == j else 0) for j in range(K)],
                1,
            )
            for i in range(K)
        ],
        0,
    )
    Cwz = torch.cat([cov_w(K, j) @ Hs[j].T for j in range(K)], 1)  # w_{K+1} against every y_j
    z = torch.cat([y.reshape(-1) - H @ w0 for y, H in zip(ys, Hs)])
    mean = w0 + Cwz @ torch.linalg.solve(Czz, z)
    cov = cov_w(K, K) - Cwz @ torch.linalg.solve(Czz, Cwz.T)
    return mean, cov


def _run_filter(decoupling, xs, ys, m):
    torch.manual_seed(3)
    model = nn.Linear(xs.shape[-1], m).double()
    w0 = torch.cat([model.weight.detach().reshape(-1), model.bias.detach()])
    opt = EKF(model.parameters(), decoupling=decoupling, initial_covariance=P0, measurement_noise=R, process_noise=Q)
    for x, y in zip(xs, ys):
        opt.step(lambda: y - model(x))
    w = torch.cat([model.weight.detach().reshape(-1), model.bias.detach()])
    return w0, w, opt


@pytest.mark.parametrize("decoupling", ["global", "layer", "neuron"])
def test_ekf_on_a_linear_gaussian_model_is_the_exact_kalman_filter(decoupling):
    # With diagonal R and P(0), a linear model's outputs do not couple the neurons' weights: every decoupling is
    # exact here, and GEKF's P stays block diagonal.
    xs, ys = _linear_problem()
    w0, w, opt = _run_filter(decoupling, xs, ys, m=2)
    mean, cov = _kalman_closed_form(w0, xs, ys, m=2)
    torch.testing.assert_close(w, mean, rtol=1e-10, atol=1e-12)
    if decoupling == "global":
        torch.testing.assert_close(
            opt.state[opt.param_groups[0]["params"][0]]["covariance"][0][0], cov, rtol=1e-10, atol=1e-12
        )


def test_dekf_with_a_single_block_equals_gekf_on_a_nonlinear_net():
    torch.manual_seed(0)
    x, y = torch.randn(12, 2, dtype=torch.float64), torch.randn(12, 1, dtype=torch.float64)
    weights = []
    for decoupling in ("global", "layer"):
        torch.manual_seed(1)
        net = nn.Sequential(nn.Linear(2, 1), nn.Tanh()).double()  # one layer: the layer block is everything
        opt = EKF(net.parameters(), decoupling=decoupling, process_noise=1e-3)
        for i in range(12):
            opt.step(lambda: y[i : i + 1] - net(x[i : i + 1]))
        weights.append(torch.cat([p.detach().reshape(-1) for p in net.parameters()]))
    torch.testing.assert_close(weights[0], weights[1], rtol=1e-12, atol=1e-12)


def test_decoupled_blocks_cover_every_weight_once_and_cost_sum_of_squares():
    net = nn.Sequential(nn.Linear(8, 20), nn.Tanh(), nn.Linear(20, 1))
    params = list(net.parameters())
    n = sum(p.numel() for p in params)
    for decoupling, sizes in (("global", [n]), ("layer", [9 * 20, 21]), ("neuron", [9] * 20 + [21])):
        blocks = decoupled_blocks(params, decoupling)
        covered = torch.cat([b.reshape(-1) for b in blocks]).sort().values
        assert torch.equal(covered, torch.arange(n))
        assert sorted(s for b in blocks for s in [b.shape[1]] * b.shape[0]) == sorted(sizes)
        assert covariance_bytes(blocks, torch.float32) == 4 * sum(s * s for s in sizes)
    # a neuron's block is its weight row and its bias entry
    neuron = decoupled_blocks(params, "neuron")[0][3]
    assert neuron.tolist() == [*range(3 * 8, 4 * 8), 160 + 3]


def test_ekf_trains_a_nonlinear_regression_through_the_trainer():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(200, 1, generator=g) * 6 - 3
    data = ArrayDataset(x, torch.sin(x))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 10), nn.Tanh(), nn.Linear(10, 1))
    trainer = Trainer(
        model,
        loss="mse",
        optimizer={"type": "ekf", "decoupling": "neuron", "initial_covariance": 10.0, "measurement_noise": 0.1},
        epochs=3,
        batch_size=1,
        seed=0,
    )
    before = trainer.evaluate(data)["loss"]
    trainer.fit(data)
    assert trainer.evaluate(data)["loss"] < 0.02 * before


def test_ekf_refuses_a_covariance_that_would_not_fit_before_allocating():
    net = nn.Linear(100, 10)  # 1010 weights: P would be 1010^2 * 4 bytes = 4.08 MB
    with pytest.raises(MemoryError, match=r"needs a covariance P of 3.89 MiB .* 1,010 weights .* 'neuron' needs"):
        EKF(net.parameters(), max_memory=1_000_000)
    EKF(net.parameters(), decoupling="neuron", max_memory=1_000_000)  # 10 blocks of 101: 0.4 MB
    huge = nn.Linear(50_000, 20)  # 1e6 weights: a 4 TB global P, more than any machine's free memory
    with pytest.raises(MemoryError, match="Use the decoupled filter"):
        EKF(huge.parameters())


def test_ekf_needs_a_closure_and_real_valued_targets():
    model = nn.Linear(2, 3)
    opt = EKF(model.parameters())
    with pytest.raises(TypeError, match=r"(?s)EKF.step\(\) needs a closure.*return y - model\(x\)"):
        opt.step()
    closure = Closure(model, torch.randn(4, 2), torch.tensor([0, 1, 2, 1]), nn.functional.cross_entropy)
    with pytest.raises(ValueError, match="integer class labels"):
        opt.step(closure)
    with pytest.raises(ValueError, match="no autograd graph"):
        opt.step(lambda: torch.zeros(3))


def test_annealing_is_geometric_then_held():
    assert annealed(100.0, 1.0, 4, 0) == 100.0
    assert annealed(100.0, 1.0, 4, 2) == pytest.approx(10.0)
    assert annealed(100.0, 1.0, 4, 9) == pytest.approx(1.0)
    assert annealed(1e-2, 0.0, 4, 2) == pytest.approx(5e-3)  # linear when an end is 0
    opt = EKF(nn.Linear(1, 1).parameters(), lr=2.0, measurement_noise=4.0, measurement_noise_final=1.0, anneal_steps=2)
    assert opt.noise() == (2.0, 1e-4)  # R / lr at step 0


def test_ekf_state_round_trips():
    xs, ys = _linear_problem()
    _, _, opt = _run_filter("neuron", xs, ys, m=2)
    state = opt.state_dict()
    other = EKF(nn.Linear(3, 2).double().parameters(), decoupling="neuron")
    other.load_state_dict(state)
    for a, b in zip(
        opt.state[opt.param_groups[0]["params"][0]]["covariance"],
        other.state[other.param_groups[0]["params"][0]]["covariance"],
    ):
        assert torch.equal(a, b)
