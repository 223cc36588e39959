"""Digit pairs: a two-input, two-target dataset built from a registered digit dataset, for multi-task and
multi-input models (a DAG with two inputs and two heads).

Each example is two images ``(a, b)`` of handwritten digits; its targets are

- ``digit``: the class of the first image (int64, 0..9; needs only input ``a``);
- ``greater``: 1.0 if the first digit is larger than the second, else 0.0 (float; needs both inputs).

Every image of a split is the first image of ``pairs_per_image`` pairs, each partner drawn at random (seeded) from
the same split, so training, validation and test pairs never share an image.
"""

from __future__ import annotations

from typing import Annotated

import torch

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import choice
from lamina.data.dataset import ArrayDataset, DatasetSpec, Splits
from lamina.registry import register, resolve

__all__ = ["DigitPairs", "make_pairs"]


@validated
def make_pairs(
    images: torch.Tensor,
    labels: torch.Tensor,
    generator: torch.Generator,
    pairs_per_image: Annotated[int, Bounds(ge=1)] = 1,
) -> ArrayDataset:
    """Pair each image with ``pairs_per_image`` random partners; targets ``(labels[i], labels[i] > labels[j])``.

    Args:
        images: ``(N, *shape)``.
        labels: ``(N,)`` class indices.
        generator: draws the partners.
        pairs_per_image: pairs whose first image is each image (more pairs: more comparisons to learn from).

    Returns:
        An :class:`ArrayDataset` of ``N * pairs_per_image`` pairs: inputs ``(a, b)``, targets ``(digit, greater)``.
    """
    first = torch.arange(len(images)).repeat(pairs_per_image)
    partner = torch.randint(len(images), (len(first),), generator=generator)
    greater = (labels[first] > labels[partner]).float()
    return ArrayDataset([images[first], images[partner]], (labels[first], greater), name="digit_pairs")


@register("dataset", "digit_pairs")
class DigitPairs(spec_base(make_pairs, DatasetSpec, exclude=("images", "labels", "generator"))):  # type: ignore[misc]  # spec_base's base
    """Pairs of digit images with two targets: the first digit's class, and whether it exceeds the second
    (a two-input, two-head task built from ``digits`` or ``mnist``). ``pairs_per_image`` is :func:`make_pairs`',
    with its default and bounds.

    Args:
        source: ``digits`` (scikit-learn's 8x8 digits, no download) or ``mnist`` (28x28).
        pair_seed: seeds the choice of partners.
        validation, split_seed: held out of the source's training images before pairing.
    """

    source: choice("digits", "mnist") = "digits"
    pair_seed: int = 0

    def load(self) -> Splits:
        """Load the source digits and pair the images of each split among themselves (seeded by ``pair_seed``)."""
        source = {"name": self.source, "validation": self.validation, "split_seed": self.split_seed}
        base = resolve("dataset", source, path="data.source").load()
        generator = torch.Generator().manual_seed(self.pair_seed)
        parts = [make_pairs(part.x, part.y, generator, **self.options()) if part is not None else None for part in base]
        return Splits(*parts)
