"""Waveforms: a generated variable-length sequence classification task. Each example is a noisy periodic signal of
one of four shapes (sine, square, sawtooth, triangle) with a random period, phase and amplitude, ``min_length`` to
``max_length`` steps long, padded with zeros after its end to ``max_length`` steps, ``(max_length, 1)``; the target
is the shape.

The signals never take the exact value 0 (Gaussian noise is added to every step), so the padding is recognisable:
``pad_value = 0.0`` in ``[data] bucketing`` and ``mask_value = 0.0`` in a ``masked`` layer recover each length. A
recurrent layer that ignores the padding has to carry its answer across up to ``max_length - min_length`` zero
steps; one that masks it (packed) stops at the sequence's end.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import numpy as np
import torch
from pydantic import model_validator

from lamina.config.component import Bounds, spec_base, validated
from lamina.config.fields import raise_problems
from lamina.data.dataset import ArrayDataset, DatasetSpec, Splits, hold_out
from lamina.registry import register

__all__ = ["WaveformSet", "Waveforms", "make_waveforms"]

SHAPES = ("sine", "square", "sawtooth", "triangle")


def make_waveforms(
    n: int, min_length: int, max_length: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` padded signals ``(n, max_length, 1)`` float32, their shapes ``(n,)`` int64 (indices into ``SHAPES``)
    and lengths ``(n,)`` int64.

    A signal is ``a * w(t / p + phi) + e_t``: ``w`` the shape's unit wave of period 1, period ``p`` uniform in
    [4, 16] steps, phase ``phi`` in [0, 1), amplitude ``a`` in [0.5, 1.5], ``e_t ~ N(0, noise^2)``.
    """
    labels = rng.integers(0, len(SHAPES), n)
    lengths = rng.integers(min_length, max_length + 1, n)
    period = rng.uniform(4.0, 16.0, (n, 1))
    phase = rng.uniform(0.0, 1.0, (n, 1))
    amplitude = rng.uniform(0.5, 1.5, (n, 1))
    u = (np.arange(max_length)[None, :] / period + phase) % 1.0  # position within the period, (n, L)
    waves = np.stack(
        [np.sin(2 * np.pi * u), np.where(u < 0.5, 1.0, -1.0), 2 * u - 1, 1 - 4 * np.abs(u - 0.5)]
    )  # (4, n, L)
    signal = amplitude * waves[labels, np.arange(n)] + noise * rng.standard_normal((n, max_length))
    signal = np.where(signal == 0.0, 1e-6, signal)  # never the padding value
    signal[np.arange(max_length)[None, :] >= lengths[:, None]] = 0.0
    return signal[..., None].astype(np.float32), labels.astype(np.int64), lengths.astype(np.int64)


class WaveformSet:
    """The signals behind ``waveforms`` (see :func:`make_waveforms`), the same for the same ``seed``.

    Args:
        seed: which signals are drawn.
        train_size, test_size: examples generated for training (the validation examples included) and test.
        min_length, max_length: the range of lengths; every example is padded to ``max_length``.
        noise: standard deviation of the Gaussian noise on every step.
    """

    @validated
    def __init__(
        self,
        seed: Annotated[int, Bounds(ge=0)] = 0,
        train_size: Annotated[int, Bounds(ge=1)] = 4000,
        test_size: Annotated[int, Bounds(ge=1)] = 1000,
        min_length: Annotated[int, Bounds(ge=1)] = 10,
        max_length: Annotated[int, Bounds(ge=1)] = 100,
        noise: Annotated[float, Bounds(ge=0)] = 0.3,
    ) -> None:
        if min_length > max_length:
            raise ValueError(f"waveforms: min_length ({min_length}) must be at most max_length ({max_length})")
        self.seed, self.sizes = seed, (train_size, test_size)
        self.min_length, self.max_length, self.noise = min_length, max_length, noise

    def arrays(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``[train, test]``, each :func:`make_waveforms`' ``(x, labels, lengths)``, from ``default_rng([seed, k])``."""
        return [
            make_waveforms(n, self.min_length, self.max_length, self.noise, np.random.default_rng([self.seed, part]))
            for part, n in enumerate(self.sizes)
        ]


@register("dataset", "waveforms")
class Waveforms(spec_base(WaveformSet, DatasetSpec)):  # type: ignore[misc]  # a base made by spec_base
    """Noisy sine, square, sawtooth and triangle waves of random lengths, zero-padded: ``(max_length, 1)``
    sequences, 4 classes (see :mod:`lamina.data.waveforms`); deterministic from ``seed``. ``seed``, the sizes, the
    lengths and ``noise``: :class:`WaveformSet`'s."""

    classes: ClassVar[list[str]] = list(SHAPES)

    @model_validator(mode="after")
    def _lengths(self) -> Waveforms:
        if self.min_length > self.max_length:
            raise_problems(
                "waveforms",
                [(("min_length",), f"must be at most max_length ({self.max_length}), got {self.min_length}")],
            )
        return self

    def known_train_examples(self) -> int | None:
        """``train_size``."""
        return self.train_size

    def load(self) -> Splits:
        """Generate the training and test signals and hold out ``validation`` training examples."""
        parts = [
            ArrayDataset(torch.from_numpy(x), torch.from_numpy(y), classes=self.classes, name="waveforms")
            for x, y, _ in WaveformSet(**self.options()).arrays()
        ]
        train, validation = hold_out(parts[0], self.validation, self.split_seed)
        return Splits(train, validation, parts[1])
