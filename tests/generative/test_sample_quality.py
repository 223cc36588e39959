"""The Fréchet distance and the class-balance scores (issue #27) against closed forms."""

from __future__ import annotations

import math

import pytest
import torch

from lamina.generative.sample_quality import GaussianStatistics, class_balance, frechet_distance, gaussian_statistics


def _stats(mean, cov) -> GaussianStatistics:
    return GaussianStatistics(torch.tensor(mean, dtype=torch.float64), torch.tensor(cov, dtype=torch.float64), 100)


def test_frechet_distance_of_diagonal_gaussians_has_its_closed_form():
    # commuting covariances: ||mu_a - mu_b||^2 + sum (sqrt(s_a) - sqrt(s_b))^2
    a = _stats([0.0, 1.0, 2.0], torch.diag(torch.tensor([1.0, 4.0, 9.0])).tolist())
    b = _stats([1.0, 1.0, 0.0], torch.diag(torch.tensor([4.0, 1.0, 0.25])).tolist())
    expected = (1 + 0 + 4) + (1 - 2) ** 2 + (2 - 1) ** 2 + (3 - 0.5) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-12)


def test_frechet_distance_is_rotation_invariant_zero_on_itself_and_symmetric():
    g = torch.Generator().manual_seed(0)
    m = torch.randn(4, 4, generator=g, dtype=torch.float64)
    cov_a, cov_b = m @ m.T + 0.1 * torch.eye(4, dtype=torch.float64), torch.eye(4, dtype=torch.float64) * 2
    a, b = _stats([0.0] * 4, cov_a.tolist()), _stats([1.0, 0, 0, 0], cov_b.tolist())
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64))
    ra = GaussianStatistics(q @ a.mean, q @ a.covariance @ q.T, 100)
    rb = GaussianStatistics(q @ b.mean, q @ b.covariance @ q.T, 100)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)
    assert frechet_distance(ra, rb) == pytest.approx(frechet_distance(a, b), rel=1e-9)


def test_frechet_distance_against_scipy_sqrtm():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(50, 5, generator=g), torch.randn(60, 5, generator=g) * 1.5 + 0.3
    a, b = gaussian_statistics(x), gaussian_statistics(y)
    cross = scipy_linalg.sqrtm(a.covariance.numpy() @ b.covariance.numpy()).real  # the FID reference formula
    diff = (a.mean - b.mean).numpy()
    expected = diff @ diff + a.covariance.trace().item() + b.covariance.trace().item() - 2 * cross.trace()
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)


def test_gaussian_statistics_match_torch_cov():
    x = torch.randn(30, 3, generator=torch.Generator().manual_seed(2))
    stats = gaussian_statistics(x)
    assert torch.allclose(stats.covariance, torch.cov(x.T.double()), atol=1e-12)
    with pytest.raises(ValueError, match=r"shape \(n >= 2, d\)"):
        gaussian_statistics(torch.zeros(1, 3))


def test_class_balance_of_uniform_and_of_a_missing_class():
    uniform = class_balance(torch.arange(10).repeat(5), 10)
    assert uniform.counts == [5] * 10 and uniform.chi_square == 0 and uniform.max_min_ratio == 1
    assert uniform.entropy_ratio == pytest.approx(1.0)
    skewed = class_balance(torch.tensor([0, 0, 0, 1]), 3)  # expected 4/3 each
    e = 4 / 3
    assert skewed.chi_square == pytest.approx(((3 - e) ** 2 + (1 - e) ** 2 + e**2) / e)
    assert skewed.max_min_ratio == math.inf
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        class_balance(torch.tensor([3]), 3)
