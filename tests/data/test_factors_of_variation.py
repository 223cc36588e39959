"""The factors-of-variation datasets (Larochelle et al., 2007), generated at small sizes: declared sizes, labels,
rotation angles, backgrounds, rectangles' sides and the convexity of ``convex``, each against an independent
measurement."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

import lamina
from lamina.data import factors_of_variation as fov
from tests.conftest import needs_mnist

SMALL = {"train_size": 300, "test_size": 200, "validation": 100}
MNIST_SETS = ["mnist_basic", "mnist_rot", "mnist_bg_rand", "mnist_bg_img", "mnist_rot_bg_img"]
ALL = [*MNIST_SETS, "rectangles", "rectangles_img", "convex"]


@pytest.mark.parametrize(
    ("name", "sizes"),
    [
        *[(n, (10000, 2000, 50000)) for n in MNIST_SETS],
        ("rectangles", (1000, 200, 50000)),
        ("rectangles_img", (10000, 2000, 50000)),
        ("convex", (6000, 2000, 50000)),
    ],
)
def test_declared_sizes_are_the_papers(name, sizes):
    spec = lamina.data.spec(name)
    assert (spec.train_size - spec.validation, spec.validation, spec.test_size) == sizes


@needs_mnist
@pytest.mark.parametrize("name", ALL)
def test_small_sets_have_the_asked_sizes_and_range(name):
    train, val, test = lamina.data.load(name, **SMALL)
    assert (len(train), len(val), len(test)) == (200, 100, 200)
    for part in (train, val, test):
        assert part.x.shape[1:] == (1, 28, 28) and part.x.dtype == torch.float32
        assert 0 <= float(part.x.min()) and float(part.x.max()) <= 1
    assert train.num_classes == (10 if name.startswith("mnist") else 2)


def test_generation_is_deterministic_and_whole_blocks_are_a_prefix():
    a = lamina.data.load("rectangles", train_size=2000, test_size=10, validation=0).train.x
    b = lamina.data.load("rectangles", train_size=1000, test_size=10, validation=0).train.x
    other = lamina.data.load("rectangles", train_size=1000, test_size=10, validation=0, seed=1).train.x
    assert torch.equal(a[:1000], b)
    assert not torch.equal(b, other)


@pytest.mark.parametrize("name", ["rectangles", "rectangles_img", "convex"])
def test_binary_labels_are_balanced(name):
    train, _, test = lamina.data.load(name, train_size=2000, test_size=300, validation=0)
    assert float(train.y.float().mean()) == 0.5  # exactly, per block of 1,000
    assert abs(float(test.y.float().mean()) - 0.5) <= 0.01


@needs_mnist
def test_digit_classes_follow_mnist():
    train = lamina.data.load("mnist_basic", train_size=3000, test_size=10, validation=0).train
    freq = torch.bincount(train.y, minlength=10).float() / len(train)
    assert freq.min() > 0.07 and freq.max() < 0.14  # MNIST's classes hold 9%-11% each


def _orientation(images: torch.Tensor) -> torch.Tensor:
    """The principal axis' angle of each image's intensity (second moments), in a y-up frame, mod pi."""
    n, h, w = images.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    x, y = xs, -ys  # row 0 at the top: y up is minus the row
    m = images.double().sum((1, 2))
    cx, cy = (images * x).sum((1, 2)) / m, (images * y).sum((1, 2)) / m
    dx, dy = x - cx[:, None, None], y - cy[:, None, None]
    mxx, myy, mxy = (images * dx * dx).sum((1, 2)), (images * dy * dy).sum((1, 2)), (images * dx * dy).sum((1, 2))
    return 0.5 * torch.atan2(2 * mxy, mxx - myy)


def _angle_gap(a: torch.Tensor, b: torch.Tensor, period: float) -> torch.Tensor:
    return torch.remainder(a - b + period / 2, period) - period / 2


def test_rotate_turns_counter_clockwise_by_the_angle():
    bar = torch.zeros(1, 28, 28, dtype=torch.float64)
    bar[0, 13:15, 4:24] = 1.0  # a horizontal bar through the centre
    angles = torch.linspace(0.1, 3.0, 12, dtype=torch.float64)
    turned = fov.rotate(bar.expand(12, 28, 28), angles)
    assert _angle_gap(_orientation(turned), angles, math.pi).abs().max() < 0.03
    assert torch.allclose(fov.rotate(bar, torch.zeros(1, dtype=torch.float64)), bar, atol=1e-9)  # no turn


@needs_mnist
def test_rotation_angles_are_uniform_and_recoverable():
    sizes = {"train_size": 150, "test_size": 10, "validation": 0, "scale": "none"}
    basic = lamina.data.load("mnist_basic", **sizes).train.x[:, 0]
    rotated = lamina.data.load("mnist_rot", **sizes).train.x[:, 0]
    # recover each angle by brute force: the turn of the upright digit closest to the rotated one (2-degree grid)
    grid = torch.arange(180, dtype=torch.float64) * (2 * math.pi / 180)
    best = torch.empty(len(basic), dtype=torch.float64)
    residual = torch.empty(len(basic))
    for i in range(len(basic)):
        turned = fov.rotate(basic[i].double().expand(len(grid), 28, 28), grid)
        err = ((turned - rotated[i].double()) ** 2).mean((1, 2))
        best[i], residual[i] = grid[err.argmin()], err.min().sqrt()
    assert residual.median() < 8.0  # on the 0..255 scale: the rotated image is that turn of the digit
    assert stats.kstest(best.numpy() / (2 * math.pi), "uniform").pvalue > 0.01
    assert abs(float(torch.cos(best).mean())) < 0.15 and abs(float(torch.sin(best).mean())) < 0.15


@needs_mnist
def test_random_background_is_uniform_behind_the_digit():
    basic = lamina.data.load("mnist_basic", **SMALL).train.x
    noisy = lamina.data.load("mnist_bg_rand", **SMALL).train.x
    assert bool((noisy >= basic - 1e-6).all())  # the digit stays on top (maximum of digit and background)
    background = noisy[basic == 0].double() * 255  # pixels away from the digit: the background alone
    assert len(background) > 100_000
    assert (background - background.round()).abs().max() < 1e-3 and background.min() == 0 and background.max() == 255
    # uniform over 0..255: mean 127.5, variance (256^2 - 1) / 12
    assert abs(float(background.mean()) - 127.5) < 0.6
    assert abs(float(background.var()) / ((256**2 - 1) / 12) - 1) < 0.01


def test_natural_patches_are_textured_windows_of_the_bundled_images():
    patches = fov.natural_patches(np.random.default_rng(0), 50)
    assert patches.shape == (50, 28, 28)
    assert patches.std(axis=(1, 2)).min() >= fov.MIN_PATCH_STD - 1e-12
    images = fov.grey_natural_images()
    for patch in patches[:3]:
        found = False
        for image in images:
            windows = np.lib.stride_tricks.sliding_window_view(image, (28, 28))
            rows, cols = np.nonzero((windows[:, :, 0, :] == patch[0]).all(-1))
            found |= any(np.array_equal(windows[r, c], patch) for r, c in zip(rows, cols))
        assert found


@needs_mnist
def test_image_background_shows_behind_the_digit():
    basic = lamina.data.load("mnist_basic", **SMALL).train.x
    framed = lamina.data.load("mnist_bg_img", **SMALL).train.x
    assert bool((framed >= basic - 1e-6).all())
    away = (basic == 0).float()
    # the background is a textured patch, not blank: per image, the pixels away from the digit vary
    spread = [float(framed[i][basic[i] == 0].std()) for i in range(len(basic))]
    assert np.median(spread) > 0.08 and float((framed * away).sum() / away.sum()) > 0.1


def test_rectangle_labels_match_the_measured_sides():
    train = lamina.data.load("rectangles", train_size=1000, test_size=10, validation=0).train
    masks = train.x[:, 0] > 0.5
    for mask, label in zip(masks, train.y):
        rows, cols = torch.nonzero(mask, as_tuple=True)
        r0, r1, c0, c1 = int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())
        height, width = r1 - r0 + 1, c1 - c0 + 1
        assert int(label) == int(height > width) and abs(height - width) >= 3
        outline = torch.zeros(28, 28, dtype=torch.bool)
        outline[r0 : r1 + 1, c0 : c1 + 1] = True
        outline[r0 + 1 : r1, c0 + 1 : c1] = False
        assert torch.equal(mask, outline)  # exactly the one-pixel border of its bounding box


def test_filled_rectangles_obey_the_papers_constraints():
    rng = np.random.default_rng(3)
    tall = rng.random(2000) < 0.5
    h, w = fov._rectangle_sides(rng, tall, filled=True)
    masks = fov._rectangle_masks(rng, h, w, filled=True)
    assert np.array_equal(h > w, tall)
    assert (np.minimum(h, w) >= 10).all() and (np.abs(h - w) >= 5).all()
    area = masks.sum((1, 2))
    assert np.array_equal(area, h * w) and (area >= 196).all() and (area <= 588).all()  # 25%..75% of 784


def _monotone_chain(points: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Andrew's monotone-chain convex hull, counter-clockwise, collinear points dropped."""
    points = sorted(set(points))

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in points:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(points):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _hull_convex(mask: np.ndarray) -> bool:
    """Digital convexity through a hand-written hull (an implementation independent of scipy's): the set equals
    the pixel centres inside the hull of its centres."""
    hull = np.array(_monotone_chain([tuple(p) for p in np.argwhere(mask)]), dtype=float)
    grid = np.argwhere(np.ones_like(mask)).astype(float)
    if len(hull) < 3:  # a point or a segment
        a, b = hull[0], hull[-1]
        d = b - a
        along = (grid - a) @ d / max(d @ d, 1e-12)
        off = np.abs((grid[:, 0] - a[0]) * d[1] - (grid[:, 1] - a[1]) * d[0])
        inside = (off < 1e-9) & (along >= -1e-9) & (along <= 1 + 1e-9)
    else:
        edges = np.roll(hull, -1, axis=0) - hull
        rel = grid[:, None, :] - hull[None]
        inside = (edges[None, :, 0] * rel[..., 1] - edges[None, :, 1] * rel[..., 0] >= -1e-9).all(1)
    return bool(np.array_equal(inside.reshape(mask.shape), mask))


def test_digital_convexity_on_known_shapes_and_against_an_independent_hull():
    yy, xx = np.mgrid[:28, :28]
    disc = (yy - 13.2) ** 2 + (xx - 14.1) ** 2 <= 60
    ring = disc & ((yy - 13.2) ** 2 + (xx - 14.1) ** 2 > 20)
    ell = np.zeros((28, 28), bool)
    ell[5:20, 5:9] = ell[16:20, 5:20] = True
    two = np.zeros((28, 28), bool)
    two[2:6, 2:6] = two[20:25, 20:25] = True
    row = np.zeros((28, 28), bool)
    row[4, 3:20] = True
    gap = row.copy()
    gap[4, 10] = False
    assert fov.is_digitally_convex(disc) and fov.is_digitally_convex(row)
    assert not any(fov.is_digitally_convex(m) for m in (ring, ell, two, gap))
    rng = np.random.default_rng(0)
    for _ in range(40):
        regions = fov._convex_regions(rng, 2, 0.195, 19).reshape(2, 28, 28)
        for mask in (regions[0], regions[0] | regions[1]):
            assert fov.is_digitally_convex(mask) == _hull_convex(mask)


def test_convex_positives_are_convex_and_negatives_are_not():
    train = lamina.data.load("convex", train_size=200, test_size=10, validation=0).train
    masks = (train.x[:, 0] > 0.5).numpy()
    assert set(np.unique(train.x.numpy())) <= {0.0, 1.0}
    for mask, label in zip(masks, train.y.tolist()):
        assert _hull_convex(mask) == bool(label)
        if label:
            assert mask.sum() >= 19
