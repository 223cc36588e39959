"""The "many factors of variation" benchmarks of Larochelle, Erhan, Courville, Bergstra & Bengio (2007), "An
empirical evaluation of deep architectures on problems with many factors of variation", ICML: MNIST digits rotated
and on noisy or natural-image backgrounds, tall-versus-wide rectangles and convex-versus-non-convex regions, all
28x28.

**Generated as the paper describes, not the original files** (the ``.amat`` archives are not redistributed
here): every set is made from ``seed`` and cached (:mod:`lamina.data.generated`). The rules, from the paper and its
online companion (the LISA lab's pages for each set):

- ``mnist_basic``: MNIST digits as they are. The 70,000 MNIST images (training and test files pooled) are drawn
  without replacement by a seeded permutation: training examples from its front, test examples from its back.
- ``mnist_rot``: each digit rotated about the image centre by an angle uniform in [0, 2π) (bilinear).
- ``mnist_bg_rand``: behind the digit, background pixels uniform over 0..255 (the paper: "a random background was
  inserted"); the composite is the pixel-wise maximum of digit and background, so stroke pixels stay bright.
- ``mnist_bg_img``: behind the digit, a random 28x28 patch of a grey-level natural image, again by maximum. The
  paper cut patches from 20 images downloaded from the internet and skipped low-variance patches; here the images
  are the two that ship inside scikit-learn (``sklearn.datasets.load_sample_images``: ``china.jpg`` and
  ``flower.jpg``, converted to grey with the ITU-R 601 luma weights), and a patch is drawn uniformly among those
  whose pixel standard deviation is at least ``MIN_PATCH_STD`` (0.1 on the [0, 1] scale; the paper gives no figure).
- ``mnist_rot_bg_img``: rotation, then an image background.
- ``rectangles``: the one-pixel outline of a rectangle (255 on 0); height and width uniform over 1..28, a pair
  whose difference is under 3 pixels rejected; the top-left corner uniform among the positions where the
  rectangle fits. Label 1 when the rectangle is taller than wide.
- ``rectangles_img``: a filled rectangle showing one natural-image patch, on another patch; as ``rectangles`` but
  sides of at least 10 pixels differing by at least 5, covering 25% to 75% of the image.
- ``convex``: label 1: a convex white region (255 on 0), the intersection of a number of half-planes, each through
  a point uniform in the image with a uniform orientation, their number geometric with parameter 0.195; fewer than
  19 white pixels rejected. Label 0: the union of 2 to 4 (uniform) such regions drawn with parameter 0.07 and at
  least 10 pixels each, kept only if it is not convex. Convexity is digital: a pixel set is convex when it equals
  the set of pixel centres inside the convex hull of its own centres (:func:`is_digitally_convex`). The paper
  says its parameters make both classes' mean number of white pixels equal; with them as read here they do not
  (seed 0: 276 white pixels in convex images, 472 in non-convex ones), so the paper must have placed its
  half-planes by a rule it does not state. A benchmark on ``convex`` should report a pixel-count baseline.

Sizes (training file = training + validation, validation held out from its end; test): MNIST variations
12,000 (2,000) / 50,000; ``rectangles`` 1,200 (200) / 50,000; ``rectangles_img`` 12,000 (2,000) / 50,000;
``convex`` 8,000 (2,000) / 50,000 (the companion page: "8000 train, 50000 test", the last 2,000 for validation).
The labels of ``rectangles*`` and ``convex`` are balanced exactly within every block of 1,000 examples.
"""

from __future__ import annotations

import functools
from typing import ClassVar, cast

import numpy as np
import torch
import torch.nn.functional as F

from lamina.config.fields import count
from lamina.data.dataset import ArrayDataset, Holdout
from lamina.data.generated import GeneratedImageSpec, chunked, to_uint8
from lamina.data.vision import MNIST
from lamina.errors import DataError
from lamina.registry import register

__all__ = [
    "MIN_PATCH_STD",
    "Convex",
    "MnistBackgroundImage",
    "MnistBackgroundRandom",
    "MnistBasic",
    "MnistRotated",
    "MnistRotatedBackgroundImage",
    "Rectangles",
    "RectanglesImage",
    "grey_natural_images",
    "is_digitally_convex",
    "natural_patches",
    "rotate",
]

SIZE = 28
MIN_PATCH_STD = 0.1  # a background patch with less texture than this (pixel std on [0, 1]) is not used


def rotate(images: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate each image about its centre by its angle (radians, counter-clockwise as displayed with row 0 at the
    top), bilinear, zero outside.

    Shapes: ``images (N, H, W)`` float, ``angles (N,)``; returns ``(N, H, W)``.
    """
    cos, sin = torch.cos(angles), torch.sin(angles)
    # affine_grid maps output (x right, y down) to input coordinates; a counter-clockwise turn on screen (y down)
    # samples the input at R(-angle) applied with y flipped, i.e. [[cos, -sin], [sin, cos]] in (x, y-down)
    theta = torch.stack([torch.stack([cos, -sin, torch.zeros_like(cos)], 1), torch.stack([sin, cos, 0 * cos], 1)], 1)
    grid = F.affine_grid(theta.to(images.dtype), [len(images), 1, *images.shape[1:]], align_corners=False)
    return F.grid_sample(images[:, None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[:, 0]


@functools.cache
def _mnist_pool() -> tuple[np.ndarray, np.ndarray]:
    """The 70,000 MNIST images (uint8, training then test file) and labels, through lamina's MNIST loader."""
    train, _, test = MNIST(scale="none").load()
    test = cast(ArrayDataset, test)  # MNIST always has its test file
    images = torch.cat([train.x, test.x])[:, 0].to(torch.uint8).numpy()
    labels = torch.cat([cast(torch.Tensor, train.y), cast(torch.Tensor, test.y)]).numpy()
    return images, labels


@functools.cache
def grey_natural_images() -> tuple[np.ndarray, ...]:
    """scikit-learn's bundled sample photographs (``china.jpg``, ``flower.jpg``) in grey, float64 in [0, 1]."""
    from sklearn.datasets import load_sample_images

    luma = np.array([0.299, 0.587, 0.114])
    return tuple(np.asarray(img, dtype=np.float64) @ luma / 255.0 for img in load_sample_images().images)


@functools.cache
def _patch_positions(size: int) -> tuple[tuple[int, np.ndarray], ...]:
    """Per image, the top-left corners (flat indices into the corner grid) of ``size`` x ``size`` patches whose
    pixel std is at least :data:`MIN_PATCH_STD`, found with summed-area tables."""
    out = []
    for image in grey_natural_images():
        s1 = np.pad(image, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
        s2 = np.pad(image**2, ((1, 0), (1, 0))).cumsum(0).cumsum(1)

        def box(t: np.ndarray) -> np.ndarray:
            """Sums of ``t`` over every ``size`` x ``size`` window, from its cumulative sums."""
            return t[size:, size:] - t[:-size, size:] - t[size:, :-size] + t[:-size, :-size]

        n = size * size
        var = box(s2) / n - (box(s1) / n) ** 2
        out.append((var.shape[1], np.flatnonzero(var >= MIN_PATCH_STD**2)))
    return tuple(out)


def natural_patches(rng: np.random.Generator, n: int, size: int = SIZE) -> np.ndarray:
    """``n`` random ``size`` x ``size`` grey patches of the bundled natural images (float64 in [0, 1]): an image
    chosen uniformly, then a corner uniformly among its patches with pixel std >= :data:`MIN_PATCH_STD`.

    Shape: ``(n, size, size)``.
    """
    images, positions = grey_natural_images(), _patch_positions(size)
    which = rng.integers(len(images), size=n)
    out = np.empty((n, size, size))
    offsets = np.arange(size)
    for k, (image, (width, valid)) in enumerate(zip(images, positions)):
        idx = np.flatnonzero(which == k)
        corners = valid[rng.integers(len(valid), size=len(idx))]
        r, c = np.divmod(corners, width)
        out[idx] = image[(r[:, None] + offsets)[:, :, None], (c[:, None] + offsets)[:, None, :]]
    return out


class _MnistVariation(GeneratedImageSpec):
    """MNIST digits with a factor of variation added; classes 0..9."""

    classes: ClassVar[list[str]] = [str(d) for d in range(10)]
    rotated: ClassVar[bool] = False
    background: ClassVar[str] = "none"  # "none", "random" or "image"

    def generate(self) -> dict[str, np.ndarray]:
        """The digits of a seeded draw of MNIST, each with this set's rotation and background."""
        images, labels = _mnist_pool()
        if self.train_size + self.test_size > len(images):
            raise DataError(
                f"{self.registered_name}: train_size + test_size = {self.train_size + self.test_size} exceeds the "
                f"{len(images)} MNIST images the digits are drawn from"
            )
        order = np.random.default_rng([self.seed, 7]).permutation(len(images))
        parts = {"train": order, "test": order[::-1]}  # training from the front, test from the back: disjoint
        out = {}
        for part, (name, n) in enumerate((("train", self.train_size), ("test", self.test_size))):
            source = parts[name]

            def make(rng: np.random.Generator, start: int, k: int, source=source) -> tuple[np.ndarray, np.ndarray]:
                """``k`` varied digits (uint8) and their labels, from one block's generator."""
                pick = source[start : start + k]
                return self._vary(images[pick], rng), labels[pick]

            out[f"x_{name}"], out[f"y_{name}"] = chunked(n, self.seed, part, make)
        return out

    def _vary(self, digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Apply this set's factors to uint8 digits ``(k, 28, 28)``; uint8 out."""
        x = digits.astype(np.float64) / 255.0
        angles = rng.uniform(0.0, 2 * np.pi, size=len(x))  # drawn for every set, so streams stay aligned
        if self.rotated:
            x = rotate(torch.from_numpy(x), torch.from_numpy(angles)).numpy()
        if self.background == "random":
            x = np.maximum(x, rng.integers(0, 256, size=x.shape) / 255.0)
        elif self.background == "image":
            x = np.maximum(x, natural_patches(rng, len(x)))
        return to_uint8(x)


@register("dataset", "mnist_basic")
class MnistBasic(_MnistVariation):
    """MNIST-basic (Larochelle et al., 2007): 12,000 MNIST digits for training (the last 2,000 held out for
    validation) and 50,000 for test, drawn from MNIST by ``seed``; generated as the paper describes, not the original
    files (see :mod:`lamina.data.factors_of_variation`)."""


@register("dataset", "mnist_rot")
class MnistRotated(_MnistVariation):
    """MNIST-rotation (Larochelle et al., 2007): digits rotated by an angle uniform in [0, 2π); 10,000 / 2,000 /
    50,000; generated as the paper describes, not the original files."""

    rotated: ClassVar[bool] = True


@register("dataset", "mnist_bg_rand")
class MnistBackgroundRandom(_MnistVariation):
    """MNIST-background-random (Larochelle et al., 2007): digits over uniform random pixels (maximum of the two);
    10,000 / 2,000 / 50,000; generated as the paper describes, not the original files."""

    background: ClassVar[str] = "random"


@register("dataset", "mnist_bg_img")
class MnistBackgroundImage(_MnistVariation):
    """MNIST-background-image (Larochelle et al., 2007): digits over patches of grey natural images (scikit-learn's
    bundled china.jpg and flower.jpg); 10,000 / 2,000 / 50,000; generated as the paper describes, not the original
    files."""

    background: ClassVar[str] = "image"


@register("dataset", "mnist_rot_bg_img")
class MnistRotatedBackgroundImage(_MnistVariation):
    """MNIST-rotation-background-image (Larochelle et al., 2007): rotated digits over natural-image patches;
    10,000 / 2,000 / 50,000; generated as the paper describes, not the original files."""

    rotated: ClassVar[bool] = True
    background: ClassVar[str] = "image"


def _balanced_labels(rng: np.random.Generator, k: int) -> np.ndarray:
    """``k`` labels, half 1 and half 0 (one more 0 when odd), in random order."""
    return rng.permutation(np.arange(k) < k // 2).astype(np.int64)


def _rectangle_sides(rng: np.random.Generator, tall: np.ndarray, *, filled: bool) -> tuple[np.ndarray, np.ndarray]:
    """Heights and widths by rejection, one pair per entry of ``tall`` (height > width where True)."""
    h, w = np.empty(len(tall), np.int64), np.empty(len(tall), np.int64)
    todo = np.arange(len(tall))
    while len(todo):
        lo = 10 if filled else 1
        a, b = rng.integers(lo, SIZE + 1, size=(2, len(todo)))
        ok = np.abs(a - b) >= (5 if filled else 3)
        if filled:
            ok &= (a * b >= SIZE * SIZE // 4) & (a * b <= 3 * SIZE * SIZE // 4)
        # a pair drawn for a wide slot is kept only if wide, and likewise for tall: the accepted pairs keep the
        # distribution of the rejection rule, restricted to each class
        ok &= (a > b) == tall[todo]
        h[todo[ok]], w[todo[ok]] = a[ok], b[ok]
        todo = todo[~ok]
    return h, w


def _rectangle_masks(rng: np.random.Generator, h: np.ndarray, w: np.ndarray, *, filled: bool) -> np.ndarray:
    """Boolean masks ``(k, 28, 28)`` of rectangles with these sides, top-left corners uniform where they fit."""
    r0 = rng.integers(0, SIZE - h + 1)
    c0 = rng.integers(0, SIZE - w + 1)
    rows, cols = np.arange(SIZE)[None, :, None], np.arange(SIZE)[None, None, :]
    r0, c0, r1, c1 = r0[:, None, None], c0[:, None, None], (r0 + h - 1)[:, None, None], (c0 + w - 1)[:, None, None]
    inside = (rows >= r0) & (rows <= r1) & (cols >= c0) & (cols <= c1)
    if filled:
        return inside
    return inside & ((rows == r0) | (rows == r1) | (cols == c0) | (cols == c1))


class _BinaryGenerated(GeneratedImageSpec):
    """A generated two-class set; ``_make(rng, labels)`` draws the images for the given labels."""

    classes: ClassVar[list[str]] = ["0", "1"]

    def generate(self) -> dict[str, np.ndarray]:
        """Balanced labels per block of examples, then the images for them."""
        out = {}
        for part, (name, n) in enumerate((("train", self.train_size), ("test", self.test_size))):

            def make(rng: np.random.Generator, start: int, k: int) -> tuple[np.ndarray, np.ndarray]:
                """``k`` balanced examples (uint8) and their labels, from one block's generator."""
                labels = _balanced_labels(rng, k)
                return to_uint8(self._make(rng, labels)), labels

            out[f"x_{name}"], out[f"y_{name}"] = chunked(n, self.seed, part, make)
        return out

    def _make(self, rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@register("dataset", "rectangles")
class Rectangles(_BinaryGenerated):
    """Rectangles (Larochelle et al., 2007): the outline of a rectangle; label 1 if taller than wide. 1,000 /
    200 / 50,000; generated as the paper describes, not the original files."""

    train_size: count() = 1200
    validation: Holdout = 200

    def _make(self, rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
        h, w = _rectangle_sides(rng, labels == 1, filled=False)
        return _rectangle_masks(rng, h, w, filled=False).astype(np.float64)


@register("dataset", "rectangles_img")
class RectanglesImage(_BinaryGenerated):
    """Rectangles-image (Larochelle et al., 2007): a rectangle filled with one natural-image patch on another;
    label 1 if taller than wide. 10,000 / 2,000 / 50,000; generated as the paper describes, not the original
    files."""

    def _make(self, rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
        h, w = _rectangle_sides(rng, labels == 1, filled=True)
        mask = _rectangle_masks(rng, h, w, filled=True)
        inside, outside = natural_patches(rng, len(labels)), natural_patches(rng, len(labels))
        return np.where(mask, inside, outside)


_CENTRES = np.stack(np.meshgrid(np.arange(SIZE) + 0.5, np.arange(SIZE) + 0.5, indexing="ij"), -1).reshape(-1, 2)


def _convex_regions(rng: np.random.Generator, n: int, p: float, min_pixels: int) -> np.ndarray:
    """``n`` masks ``(n, 784)``, each the intersection of Geometric(``p``) random half-planes with at least
    ``min_pixels`` pixels (rejection).

    Half-planes are applied one at a time to a batch of candidates, and a candidate is dropped as soon as it has
    fewer than ``min_pixels`` pixels (an intersection only shrinks), which gives the same accepted sets as drawing
    every half-plane first.
    """
    out = np.empty((n, SIZE * SIZE), bool)
    filled = 0
    while filled < n:
        batch = max(4 * (n - filled), 256)
        k = rng.geometric(p, size=batch)
        masks = np.ones((batch, SIZE * SIZE), bool)
        alive = np.arange(batch)
        j = 0
        while len(alive) and (k[alive] > j).any():
            cut = alive[k[alive] > j]
            point = rng.uniform(0, SIZE, size=(len(cut), 2))
            angle = rng.uniform(0, 2 * np.pi, size=len(cut))
            normal = np.stack([np.cos(angle), np.sin(angle)], 1)
            # inside the half-plane: (x - point) . normal >= 0
            masks[cut] &= normal @ _CENTRES.T >= (point * normal).sum(1, keepdims=True)
            alive = alive[masks[alive].sum(1) >= min_pixels]
            j += 1
        keep = masks[alive][: n - filled]
        out[filled : filled + len(keep)] = keep
        filled += len(keep)
    return out


@functools.cache
def _grid(shape: tuple[int, int]) -> np.ndarray:
    """Every pixel's (row, column) as floats, ``(H * W, 2)``."""
    return np.stack(np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij"), -1).reshape(-1, 2) * 1.0


def is_digitally_convex(mask: np.ndarray) -> bool:
    """Whether a pixel set is digitally convex: it holds every pixel whose centre lies in the convex hull of its
    pixels' centres (for a set of collinear centres, the hull is the segment between the extreme ones).

    Shape: ``mask (H, W)`` bool.
    """
    from scipy.spatial import ConvexHull, QhullError

    mask = np.asarray(mask, bool)
    rows, cols = np.nonzero(mask)
    if len(rows) < 2:
        return True
    points = np.stack([rows, cols], 1).astype(np.float64)
    grid = _grid(mask.shape)
    try:
        hull = ConvexHull(points)
        on = np.all(grid @ hull.equations[:, :2].T + hull.equations[:, 2] <= 1e-9, axis=1)
    except QhullError:  # collinear centres: the hull is the segment between the extreme ones
        centred = points - points.mean(0)
        direction = centred[np.argmax(np.abs(centred).sum(1))]
        t = centred @ direction / (direction @ direction)
        a, d = points.mean(0) + t.min() * direction, (t.max() - t.min()) * direction
        s = np.clip((grid - a) @ d / (d @ d), 0, 1)
        on = np.linalg.norm(grid - (a + s[:, None] * d), axis=1) < 1e-9
    return bool(np.array_equal(on.reshape(mask.shape), mask))


@register("dataset", "convex")
class Convex(_BinaryGenerated):
    """Convex (Larochelle et al., 2007): a white region; label 1 if it is convex. 6,000 / 2,000 / 50,000;
    generated as the paper describes, not the original files."""

    train_size: count() = 8000

    def _make(self, rng: np.random.Generator, labels: np.ndarray) -> np.ndarray:
        out = np.zeros((len(labels), SIZE * SIZE), bool)
        positive = np.flatnonzero(labels == 1)
        out[positive] = _convex_regions(rng, len(positive), 0.195, 19)
        negative = list(np.flatnonzero(labels == 0))
        while negative:
            parts = rng.integers(2, 5, size=len(negative))
            regions = _convex_regions(rng, int(parts.sum()), 0.07, 10)
            start = np.concatenate([[0], np.cumsum(parts)[:-1]])
            unions = np.logical_or.reduceat(regions, start, axis=0)
            kept = [u for u in unions if not is_digitally_convex(u.reshape(SIZE, SIZE))]
            for u in kept[: len(negative)]:
                out[negative.pop()] = u
        return out.reshape(-1, SIZE, SIZE).astype(np.float64)
