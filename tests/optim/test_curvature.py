"""Gauss-Newton products and conjugate gradient against explicit matrices (float64)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.autograd.functional import jacobian
from torch.func import functional_call

from lamina.optim import GaussNewton, conjugate_gradient, empirical_fisher_diagonal
from lamina.optim.conjugate_gradient import CGBreakdown
from lamina.optim.curvature import flatten, unflatten


def _tiny_net(out: int, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, out)).double()


def _explicit_jacobian(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """d outputs / d weights as an (N * out, n) matrix, from torch.autograd.functional.jacobian."""
    names = [n for n, _ in model.named_parameters()]
    params = [p.detach() for p in model.parameters()]

    def outputs(*weights):
        return functional_call(model, dict(zip(names, weights)), (x,))

    blocks = jacobian(outputs, tuple(params))
    return torch.cat([b.reshape(b.shape[0] * b.shape[1], -1) for b in blocks], dim=1)


def test_gauss_newton_product_equals_explicit_jt_h_j_for_mse():
    model, x = _tiny_net(2), torch.randn(5, 3, dtype=torch.float64)
    t = torch.randn(5, 2, dtype=torch.float64)
    params = list(model.parameters())
    out = model(x)
    gn = GaussNewton(nn.functional.mse_loss(out, t), out, params)
    J = _explicit_jacobian(model, x)
    H = torch.eye(10, dtype=torch.float64) * 2 / 10  # mean over N * D = 10 squared errors
    G = J.T @ H @ J
    for seed in range(3):
        v = torch.randn(G.shape[0], dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
        torch.testing.assert_close(gn.matvec(v), G @ v, rtol=1e-10, atol=1e-12)


def test_gauss_newton_product_equals_explicit_jt_h_j_for_softmax_cross_entropy():
    model, x = _tiny_net(3), torch.randn(6, 3, dtype=torch.float64)
    labels = torch.tensor([0, 2, 1, 1, 0, 2])
    params = list(model.parameters())
    out = model(x)
    gn = GaussNewton(nn.functional.cross_entropy(out, labels), out, params)
    J = _explicit_jacobian(model, x)
    p = torch.softmax(out.detach(), dim=1)
    # the matching-loss Hessian of the mean softmax cross-entropy, (diag(p_i) - p_i p_i^T) / N per example
    H = torch.block_diag(*[(torch.diag(pi) - torch.outer(pi, pi)) / 6 for pi in p])
    G = J.T @ H @ J
    v = torch.randn(G.shape[0], dtype=torch.float64)
    torch.testing.assert_close(gn.matvec(v), G @ v, rtol=1e-10, atol=1e-12)
    assert torch.linalg.eigvalsh(G).min() > -1e-12  # positive semi-definite, as CG needs


def test_gauss_newton_product_on_a_recurrent_net():
    torch.manual_seed(1)
    rnn, head = nn.RNN(2, 3, batch_first=True).double(), nn.Linear(3, 1).double()
    x, t = torch.randn(4, 5, 2, dtype=torch.float64), torch.randn(4, 1, dtype=torch.float64)
    params = [*rnn.parameters(), *head.parameters()]

    def outputs(*weights):
        w = list(weights)
        rnn_out = functional_call(rnn, dict(zip([n for n, _ in rnn.named_parameters()], w[:4])), (x,))[0]
        return functional_call(head, dict(zip(["weight", "bias"], w[4:])), (rnn_out[:, -1],))

    J = torch.cat([b.reshape(4, -1) for b in jacobian(outputs, tuple(p.detach() for p in params))], dim=1)
    out = head(rnn(x)[0][:, -1])
    gn = GaussNewton(nn.functional.mse_loss(out, t), out, params)
    v = torch.randn(J.shape[1], dtype=torch.float64)
    torch.testing.assert_close(gn.matvec(v), J.T @ (J @ v) * 2 / 4, rtol=1e-10, atol=1e-12)


def test_unused_parameter_gets_zero_curvature():
    model, unused = _tiny_net(1), nn.Parameter(torch.ones(2, dtype=torch.float64))
    x = torch.randn(4, 3, dtype=torch.float64)
    out = model(x)
    params = [*model.parameters(), unused]
    gn = GaussNewton(out.pow(2).mean(), out, params)
    result = gn.matvec(torch.ones(sum(p.numel() for p in params), dtype=torch.float64))
    assert torch.equal(unflatten(result, params)[-1], torch.zeros(2, dtype=torch.float64))


@pytest.mark.parametrize("method", ["linear", "vmap"])
def test_empirical_fisher_diagonal_matches_a_loop_over_examples(method):
    model, x = _tiny_net(2), torch.randn(7, 3, dtype=torch.float64)
    t = torch.randn(7, 2, dtype=torch.float64)
    params = list(model.parameters())
    expected = torch.zeros(sum(p.numel() for p in params), dtype=torch.float64)
    for i in range(7):
        g = torch.autograd.grad(nn.functional.mse_loss(model(x[i : i + 1]), t[i : i + 1]), params)
        expected += flatten(g, params).pow(2) / 7
    got = empirical_fisher_diagonal(model, params, x, t, nn.functional.mse_loss, chunk=3, method=method)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-14)


def test_empirical_fisher_falls_back_to_vmap_beyond_linear_layers():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2)).double()  # LayerNorm weights
    x, t = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    params = list(model.parameters())
    expected = (
        sum(
            flatten(torch.autograd.grad(nn.functional.mse_loss(model(x[i : i + 1]), t[i : i + 1]), params), params).pow(
                2
            )
            for i in range(5)
        )
        / 5
    )
    torch.testing.assert_close(empirical_fisher_diagonal(model, params, x, t, nn.functional.mse_loss), expected)
    with pytest.raises(ValueError, match="method='vmap'"):
        empirical_fisher_diagonal(model, params, x, t, nn.functional.mse_loss, method="linear")


def test_conjugate_gradient_solves_a_spd_system_like_a_direct_solve():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(8, 8, dtype=torch.float64, generator=g)
    A = a @ a.T + 0.5 * torch.eye(8, dtype=torch.float64)
    b = torch.randn(8, dtype=torch.float64, generator=g)
    for precond in (None, A.diagonal().clone()):
        result = conjugate_gradient(lambda v: A @ v, b, preconditioner=precond, max_iter=50, tol=0)
        torch.testing.assert_close(result.x, torch.linalg.solve(A, -b), rtol=1e-8, atol=1e-10)
        assert result.stopped == "converged"
        assert result.phi == pytest.approx(float(0.5 * result.x @ A @ result.x + b @ result.x), rel=1e-10)
    # the kept iterates are at ceil(1.3^j) and the last, each with its phi
    kept = conjugate_gradient(lambda v: A @ v, b, max_iter=6, tol=0).iterates
    assert [i for i, _, _ in kept] == [1, 2, 3, 4, 5, 6]
    for _, x, phi in kept:
        assert phi == pytest.approx(float(0.5 * x @ A @ x + b @ x), rel=1e-10)


def test_relative_progress_rule_stops_before_max_iter_on_a_slow_problem():
    d = torch.logspace(0, 6, 2000, dtype=torch.float64)  # a badly conditioned diagonal A: CG crawls
    b = torch.ones(2000, dtype=torch.float64)
    result = conjugate_gradient(lambda v: d * v, b, max_iter=1000, tol=5e-4)
    assert result.stopped == "progress" and 10 < result.iterations < 1000
    i, k = result.iterations, max(10, int(0.1 * result.iterations))
    phis = [phi for _, _, phi in conjugate_gradient(lambda v: d * v, b, max_iter=i, tol=0, gamma=1.0).iterates]
    assert (phis[i - 1] - phis[i - 1 - k]) / phis[i - 1] < k * 5e-4  # the rule, recomputed from all iterates
    assert (phis[i - 2] - phis[i - 2 - k]) / phis[i - 2] >= k * 5e-4  # and it did not hold one iteration earlier


def test_conjugate_gradient_reports_negative_curvature():
    A = torch.diag(torch.tensor([1.0, -1.0], dtype=torch.float64))
    with pytest.raises(CGBreakdown, match="p\\^T A p"):
        conjugate_gradient(lambda v: A @ v, torch.tensor([1.0, 1.0], dtype=torch.float64))
