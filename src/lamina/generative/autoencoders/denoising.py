"""The denoising autoencoder (Vincent, Larochelle, Bengio & Manzagol, 2008): reconstruct the clean input from a
corrupted copy.

    x~ ~ q(x~ | x)                  masking, salt-and-pepper or Gaussian corruption (.corruption)
    h = f(W x~ + c),  r = g(W' h + b)
    L = loss(r, x)                  against the *clean* x
"""

from __future__ import annotations

from typing import Annotated, Any

import torch

from lamina.config.component import Bounds, Choices, validated
from lamina.generative.autoencoders.autoencoder import Autoencoder
from lamina.generative.autoencoders.corruption import CORRUPTIONS, corrupt

__all__ = ["DenoisingAutoencoder"]


class DenoisingAutoencoder(Autoencoder):
    """An :class:`Autoencoder` trained to undo a corruption of its input.

    Args:
        n_visible, n_hidden, tied, activation, loss, output_activation, device, dtype: as :class:`Autoencoder`.
        corruption: ``masking`` (inputs forced to 0), ``salt_and_pepper`` (forced to 0 or 1) or ``gaussian``
            (additive isotropic noise).
        level: the fraction of each example's inputs destroyed (masking, salt-and-pepper: exactly
            ``round(level * n_visible)`` of them), or the Gaussian noise's standard deviation.
        generator: the corruption's random stream (``None``: torch's global generator, which the trainer seeds).

    Only :meth:`training_loss` corrupts; :meth:`transform`, :meth:`reconstruct` and the validation metrics see the
    clean input.

    Example:
        >>> dae = DenoisingAutoencoder(784, 500, corruption="masking", level=0.25)

    References:
        Vincent, Larochelle, Bengio & Manzagol, "Extracting and composing robust features with denoising
        autoencoders", ICML 2008.
        Vincent, Larochelle, Lajoie, Bengio & Manzagol, "Stacked denoising autoencoders", JMLR 2010.
    """

    @validated
    def __init__(
        self,
        n_visible: Annotated[int, Bounds(ge=1)],
        n_hidden: Annotated[int, Bounds(ge=1)],
        *,
        corruption: Annotated[str, Choices(*CORRUPTIONS)] = "masking",
        level: Annotated[float, Bounds(ge=0)] = 0.25,  # within the range Vincent et al. (2010) found best
        generator: torch.Generator | None = None,
        **options: Any,
    ) -> None:
        super().__init__(n_visible, n_hidden, **options)
        if corruption != "gaussian" and level > 1:
            raise ValueError(
                f"Invalid {type(self).__name__}: level: expected a fraction of inputs in [0, 1] for "
                f"{corruption} corruption, got {level!r}"
            )
        self.corruption, self.level, self.generator = corruption, float(level), generator

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        """``x~ ~ q(x~ | x)``: the configured corruption of a batch."""
        return corrupt(x, self.corruption, self.level, generator=self.generator)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, corruption={self.corruption!r}, level={self.level:g}"
