"""The Olivetti faces (AT&T Laboratories Cambridge, 1992-1994: 400 grey 64x64 photographs, 10 of each of 40
people), and FACES, the 25x25 augmented set Hinton & Salakhutdinov (2006, "Reducing the dimensionality of data with
neural networks", Science, supporting online material) made from them for the 625-2000-1000-500-30 autoencoder.

FACES is **generated as the paper describes, not the original files**: every face appears ``variants`` times (414
by default, so 400 x 414 = 165,600 images as in the paper), each turned, zoomed and shifted at random, then sampled
to 25x25. The split is by person, as the paper's: 25 people for training (103,500 images), 5 for validation
(20,700) and 10 for test (41,400), the people chosen by ``people_seed``. Where the paper is silent lamina chooses:
rotation uniform in [-90, 90] degrees, a scale factor uniform in [1.4, 1.8] (the paper's range; it does not say
relative to what, and lamina's 25x25 frame covers ``102.4 / scale`` source pixels, 57 to 73, so the whole face shows
as in the paper's figure 2), a shift uniform in [-4, 4] source pixels on each axis, and a
Gaussian blur (std 0.8 source pixels) before bilinear sampling against aliasing. Labels are person indices.

The offline copy in ``$LAMINA_DATA/olivetti/`` is a re-saved ``.mat`` holding the same faces as the canonical
file; both sha256 values are accepted (:attr:`lamina.data.sources.RemoteFile.alternatives`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from lamina.config.fields import count
from lamina.data.dataset import Splits
from lamina.data.generated import cached_arrays, to_uint8
from lamina.data.sources import RemoteFile, fetch
from lamina.data.vision import ImageDatasetSpec
from lamina.errors import DataError
from lamina.registry import register

__all__ = ["OLIVETTI_FILE", "Faces", "Olivetti", "augment_faces", "people_split", "read_olivetti"]

OLIVETTI_FILE = RemoteFile(
    "olivetti",
    "olivettifaces.mat",
    "b612fb967f2dc77c9c62d3e1266e0c73d5fca46a4b8906c18e454d41af987794",  # scikit-learn's (the figshare file)
    ("https://ndownloader.figshare.com/files/5976027", "https://cs.nyu.edu/~roweis/data/olivettifaces.mat"),
    alternatives=("b1988d02c72fe5b8ee82b5ef3bb7982eafc74f1e1ff0ae0ade35061ad0af534d",),  # a re-saved copy
)
PEOPLE, PER_PERSON = 40, 10


def read_olivetti(path: str | Path) -> np.ndarray:
    """The 400 faces of ``olivettifaces.mat`` as uint8 ``(400, 64, 64)``, upright, person by person."""
    from scipy.io import loadmat

    faces = loadmat(str(path))["faces"]  # (4096, 400), column-major 64x64 images
    if faces.shape != (4096, 400):
        raise DataError(f"{path}: expected a 'faces' array of shape (4096, 400), got {faces.shape}")
    return np.ascontiguousarray(faces.T.reshape(400, 64, 64).transpose(0, 2, 1)).astype(np.uint8)


def people_split(seed: int, test: int, validation: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Person indices for training, validation and test: a seeded permutation of the 40 people, test first."""
    order = np.random.default_rng([seed, 40]).permutation(PEOPLE)
    return np.sort(order[test + validation :]), np.sort(order[test : test + validation]), np.sort(order[:test])


def augment_faces(faces: torch.Tensor, rng: np.random.Generator, variants: int, size: int = 25) -> torch.Tensor:
    """``variants`` random turns, zooms and shifts of each face, sampled to ``size`` x ``size`` (see the module).

    Shapes: ``faces (N, 64, 64)`` float in [0, 1]; returns ``(N * variants, size, size)``, face by face.
    """
    n, side = len(faces), faces.shape[-1]
    k = n * variants
    angle = torch.from_numpy(rng.uniform(-math.pi / 2, math.pi / 2, k))
    zoom = torch.from_numpy(rng.uniform(1.4, 1.8, k))
    shift = torch.from_numpy(rng.uniform(-4, 4, (k, 2))) * (2 / side)  # in affine_grid's [-1, 1] units
    radius = 1.6 / zoom  # the frame's half-width, in units of the 64-pixel image's half-width
    cos, sin = torch.cos(angle) * radius, torch.sin(angle) * radius
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    blurred = _blur(faces.double(), 0.8)
    source = blurred.repeat_interleave(variants, 0)[:, None]
    grid = F.affine_grid(theta, [k, 1, size, size], align_corners=False)
    return F.grid_sample(source, grid, mode="bilinear", padding_mode="zeros", align_corners=False)[:, 0]


def _blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``(N, H, W)`` images (zero padding)."""
    radius = math.ceil(3 * sigma)
    x = torch.arange(-radius, radius + 1, dtype=images.dtype)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    out = F.conv2d(images[:, None], kernel.view(1, 1, 1, -1), padding=(0, radius))
    return F.conv2d(out, kernel.view(1, 1, -1, 1), padding=(radius, 0))[:, 0]


@register("dataset", "olivetti")
class Olivetti(ImageDatasetSpec):
    """The Olivetti faces: 400 grey 64x64 photographs, 10 of each of 40 people (AT&T Laboratories Cambridge); labels
    are person indices. The test set holds every image of ``test_people`` people (chosen by ``people_seed``), so no
    person is in both; ``validation`` is then held out of the remaining images."""

    files: ClassVar[dict[str, RemoteFile]] = {"olivettifaces.mat": OLIVETTI_FILE}

    test_people: count(1, 39) = 10
    people_seed: count(0) = 0

    def load(self) -> Splits:
        """Read the ``.mat`` file (verified by sha256), split by person, and scale."""
        faces = torch.from_numpy(read_olivetti(fetch(OLIVETTI_FILE)))
        person = torch.arange(400) // PER_PERSON
        train, _, test = people_split(self.people_seed, self.test_people)
        tr, te = np.isin(person.numpy(), train), np.isin(person.numpy(), test)
        classes = [str(p) for p in range(PEOPLE)]
        return self._finish(
            faces[tr], person[tr], faces[te], person[te], max_value=255.0, classes=classes, name="olivetti"
        )


@register("dataset", "faces")
class Faces(ImageDatasetSpec):
    """FACES (Hinton & Salakhutdinov, 2006): the Olivetti faces turned, zoomed and shifted at random and sampled to
    25x25, ``variants`` per face (414: 165,600 images); 25 people train (103,500), 5 validate (20,700), 10 test
    (41,400). Generated as the paper describes, not the original files (see :mod:`lamina.data.faces`).

    Args:
        variants: augmented copies of each face.
        seed: the augmentation's seed.
        people_seed: chooses which people are in which split.
        validation_people, test_people: people held out for validation and test (validation is by person, so
            the by-example ``validation`` option must stay 0).
    """

    files: ClassVar[dict[str, RemoteFile]] = {"olivettifaces.mat": OLIVETTI_FILE}
    generator_version: ClassVar[int] = 1

    variants: count() = 414
    seed: count(0) = 0
    people_seed: count(0) = 0
    validation_people: count(0, 38) = 5
    test_people: count(1, 38) = 10

    def generate(self) -> dict[str, np.ndarray]:
        """The augmented faces of every person, face by face, as uint8 ``(400 * variants, 25, 25)``."""
        faces = torch.from_numpy(read_olivetti(fetch(OLIVETTI_FILE))).double() / 255.0
        parts = [
            augment_faces(
                faces[p * PER_PERSON : (p + 1) * PER_PERSON], np.random.default_rng([self.seed, p]), self.variants
            )
            for p in range(PEOPLE)
        ]
        return {"x": to_uint8(torch.cat(parts).numpy())}

    def load(self) -> Splits:
        """Generate (or read the cached copy) and split by person: training, then validation people, then test."""
        if self.validation:
            raise DataError("faces: validation holds out whole people here: set validation_people, not validation")
        if self.validation_people + self.test_people >= PEOPLE:
            raise DataError(f"faces: validation_people + test_people must leave training people (there are {PEOPLE})")
        params = {"seed": self.seed, "variants": self.variants, "version": self.generator_version}
        x = torch.from_numpy(cached_arrays("faces", params, self.generate)["x"])
        person = torch.arange(PEOPLE).repeat_interleave(PER_PERSON * self.variants)
        train, val, test = people_split(self.people_seed, self.test_people, self.validation_people)
        pick = [torch.from_numpy(np.isin(person.numpy(), group)) for group in (train, val, test)]
        x_train = torch.cat([x[pick[0]], x[pick[1]]])  # validation people last: held out below
        y_train = torch.cat([person[pick[0]], person[pick[1]]])
        held = self.model_copy(update={"validation": int(pick[1].sum())})
        classes = [str(p) for p in range(PEOPLE)]
        return held._finish(
            x_train, y_train, x[pick[2]], person[pick[2]], max_value=255.0, classes=classes, name="faces"
        )
