"""Random affine distortions (Ciresan et al., 2010): the identity at zero, a quarter turn against ``torch.rot90``,
the displacements against torch's ``affine_grid`` + ``grid_sample``, the draws' ranges, and the registered transform."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from lamina.data.affine import RandomAffine, affine_displacements, random_affine
from lamina.data.elastic import bilinear_sample
from lamina.registry import resolve


@pytest.mark.parametrize("shape", [(4, 1, 28, 28), (4, 784), (4, 9, 13)])
def test_zero_rotation_and_scale_is_the_exact_identity(shape):
    x = torch.rand(shape)
    assert torch.equal(random_affine(x, 0.0, 0.0, generator=torch.Generator().manual_seed(0)), x)


def test_a_quarter_turn_is_rot90_clockwise():
    x = torch.rand(2, 3, 7, 7, dtype=torch.float64)
    theta = torch.full((2,), math.pi / 2, dtype=torch.float64)
    ones = torch.ones(2, dtype=torch.float64)
    dy, dx = affine_displacements(theta, ones, ones, 7, 7)
    torch.testing.assert_close(bilinear_sample(x, dy, dx), torch.rot90(x, -1, (2, 3)), atol=1e-9, rtol=0)


def test_displacements_agree_with_affine_grid_and_grid_sample():
    gen = torch.Generator().manual_seed(1)
    n, side = 5, 17
    x = torch.rand(n, 2, side, side, generator=gen, dtype=torch.float64)
    theta = (torch.rand(n, generator=gen, dtype=torch.float64) - 0.5) * 1.0
    sy, sx = 0.8 + 0.4 * torch.rand(2, n, generator=gen, dtype=torch.float64)
    ours = bilinear_sample(x, *affine_displacements(theta, sy, sx, side, side))
    cos, sin = torch.cos(theta), torch.sin(theta)
    # input (x, y) = A (x, y) of the output, in affine_grid's normalised coordinates (square: same scale on both axes)
    matrix = torch.stack(
        [torch.stack([cos / sx, sin / sx, 0 * cos], -1), torch.stack([-sin / sy, cos / sy, 0 * cos], -1)], 1
    )
    grid = F.affine_grid(matrix, list(x.shape), align_corners=True)
    theirs = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    torch.testing.assert_close(ours, theirs, atol=1e-9, rtol=0)


def test_draws_stay_in_their_ranges():
    # a single bright pixel at distance r from the centre lands at distance r * s with s in [1 - scale, 1 + scale]
    x = torch.zeros(200, 1, 41, 41)
    x[:, 0, 20, 30] = 1.0  # 10 pixels right of the centre
    out = random_affine(x, 30.0, 0.2, generator=torch.Generator().manual_seed(2))
    rows, cols = torch.meshgrid(torch.arange(41.0), torch.arange(41.0), indexing="ij")
    mass = out.sum((1, 2, 3))
    cy = (out[:, 0] * rows).sum((1, 2)) / mass - 20
    cx = (out[:, 0] * cols).sum((1, 2)) / mass - 20
    radius, angle = torch.hypot(cy, cx), torch.rad2deg(torch.atan2(cy, cx))
    assert radius.min() > 10 * 0.8 - 0.5 and radius.max() < 10 * 1.2 + 0.5
    assert angle.abs().max() < 30 * 1.25 + 2  # anisotropic scaling bends the angle a little
    assert angle.std() > 10  # the angles are spread, not all zero


def test_registered_transform_builds_the_module():
    module = resolve("transform", {"type": "affine", "rotation": 7.5, "scale": 0.15}).build()
    assert isinstance(module, RandomAffine) and (module.rotation, module.scale) == (7.5, 0.15)
    torch.manual_seed(0)
    a = module(torch.rand(3, 784))
    assert a.shape == (3, 784)
    with pytest.raises(Exception, match="scale"):
        RandomAffine(scale=1.5)
