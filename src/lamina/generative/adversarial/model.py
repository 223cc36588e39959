"""A generative adversarial network as one module: a generator ``G: z -> x`` and a discriminator (or critic)
``D: x -> score``, each an ordinary lamina model built from a layer list (Goodfellow et al., 2014), and the
DCGAN architecture guidelines as such layer lists (Radford, Metz & Chintala, 2016).

References:
    Goodfellow et al. (2014), "Generative Adversarial Nets", NeurIPS. Radford, Metz & Chintala (2016),
    "Unsupervised Representation Learning with Deep Convolutional Generative Adversarial Networks", ICLR.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import torch
from torch import nn

from lamina.config.component import Bounds, validated
from lamina.errors import ShapeError
from lamina.nn.builder import build_model

__all__ = ["GAN", "build_gan", "dcgan_layers"]


class GAN(nn.Module):
    """A generator and a discriminator trained against each other (:class:`~lamina.generative.adversarial.trainer.
    GANTrainer` does the training; the module holds no optimizer).

    ``forward(z)`` is the generator: ``(N, latent_dim) -> (N, *image_shape)``; ``discriminator(x)`` scores
    examples ``(N, *image_shape) -> (N, 1)`` (a logit of ``D(x)``, or a Wasserstein critic's score).

    Args:
        generator: maps a latent batch ``(N, latent_dim)`` to examples ``(N, *image_shape)``.
        discriminator: maps examples to one score each.
        latent_dim: the size of ``z``; the prior is the standard normal ``N(0, I)`` (Radford et al. use U(-1, 1);
            either works, the normal is the common choice since).
        image_shape: one example's shape, e.g. ``(1, 28, 28)``.
    """

    @validated
    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        latent_dim: Annotated[int, Bounds(ge=1)],
        image_shape: Sequence[int],
    ) -> None:
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.image_shape = tuple(int(s) for s in image_shape)

    def sample_latent(
        self, n: int, *, device: torch.device | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``n`` latent vectors from the prior ``N(0, I)``, shape ``(n, latent_dim)`` (``generator=None``: the global
        generator, which the trainer seeds)."""
        device = device if device is not None else next(self.parameters()).device
        return torch.randn(n, self.latent_dim, device=device, generator=generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """The generator: ``(N, latent_dim) -> (N, *image_shape)``."""
        return self.generator(z)

    @torch.no_grad()
    def sample(
        self, n: int, *, generator: torch.Generator | None = None, z: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``n`` generated examples (or those of the latent batch ``z``), in evaluation mode (batch normalisation's
        running statistics); the module's training flag is restored afterwards."""
        was_training = self.generator.training
        self.generator.eval()
        try:
            z = self.sample_latent(n, generator=generator) if z is None else z
            return self.generator(z)
        finally:
            self.generator.train(was_training)

    def extra_repr(self) -> str:
        """The latent size and the example shape."""
        return f"latent_dim={self.latent_dim}, image_shape={self.image_shape}"


def _last_shape(model: nn.Module) -> tuple[int, ...] | None:
    """The output shape of one example that the builder recorded for a stack (``None`` for a DAG's outputs)."""
    shapes: Any = getattr(model, "shapes", None)
    return tuple(shapes[-1]) if isinstance(shapes, list) and shapes else None


def build_gan(
    generator: Any, discriminator: Any, *, latent_dim: int, image_shape: Sequence[int], where: str = "gan"
) -> GAN:
    """A :class:`GAN` from two layer lists (or ``{"layers": [...]}`` tables), as an experiment file's
    ``[gan] generator = [...]`` and ``discriminator = [...]`` give them.

    Raises:
        ShapeError: the generator's output is not ``image_shape`` or the discriminator's is not one score, naming
            ``where.generator`` / ``where.discriminator``.
    """
    image_shape = tuple(int(s) for s in image_shape)
    try:
        g = build_model(generator, (latent_dim,))
    except ShapeError as err:
        raise ShapeError(f"{where}.generator: {err}") from None
    out = _last_shape(g)
    if out != image_shape:
        raise ShapeError(
            f"{where}.generator: must map latent vectors ({latent_dim},) to examples of shape "
            f"{image_shape}, its last layer gives {out}"
        )
    try:
        d = build_model(discriminator, image_shape)
    except ShapeError as err:
        raise ShapeError(f"{where}.discriminator: {err}") from None
    scores = _last_shape(d)
    if scores != (1,):
        raise ShapeError(
            f"{where}.discriminator: must give one score per example, shape (1,); its last layer gives "
            f'{scores} (end it with {{ type = "dense", units = 1 }})'
        )
    return GAN(g, d, latent_dim, image_shape)


def dcgan_layers(
    image_shape: Sequence[int] = (1, 28, 28), *, latent_dim: int = 64, width: int = 64
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The generator's and the discriminator's layer lists of a two-stage DCGAN for images whose height and width
    are multiples of 4 (MNIST's 28x28: 7x7 -> 14x14 -> 28x28).

    Radford et al.'s guidelines: strided (transposed) convolutions instead of pooling, batch normalisation in the
    generator, ReLU in the generator with a bounded output (``sigmoid`` here, for pixels scaled to [0, 1]; the paper
    uses ``tanh`` on [-1, 1]), leaky ReLU (slope 0.2) in the discriminator, weights drawn from N(0, 0.02).
    The discriminator has no batch normalisation, so the same layers serve as a WGAN-GP critic (which must not
    have any: the gradient penalty is per example), and the generator's step leaves its state untouched.

    Args:
        image_shape: ``(channels, height, width)``.
        latent_dim: the size of ``z``.
        width: channels of the generator's 7x7 stage and of the discriminator's second convolution (the other
            stage has half).

    Returns:
        ``(generator_layers, discriminator_layers)``, for :func:`build_gan` or an experiment file.
    """
    channels, height, wide = (int(s) for s in image_shape)
    if height % 4 or wide % 4:
        raise ValueError(f"`image_shape` must have a height and width divisible by 4, got {tuple(image_shape)}")
    init = {"type": "normal", "std": 0.02}  # Radford et al., section 4
    half = max(width // 2, 1)
    generator: list[dict[str, Any]] = [
        {"type": "dense", "units": width * (height // 4) * (wide // 4), "init": init},
        {"type": "reshape", "shape": [width, height // 4, wide // 4]},
        {"type": "batchnorm"},
        {"type": "relu"},
        {"type": "conv_transpose2d", "filters": half, "kernel_size": 4, "stride": 2, "padding": 1, "init": init},
        {"type": "batchnorm"},
        {"type": "relu"},
        {"type": "conv_transpose2d", "filters": channels, "kernel_size": 4, "stride": 2, "padding": 1, "init": init},
        {"type": "sigmoid"},
    ]
    slope: dict[str, Any] = {"type": "leaky_relu", "negative_slope": 0.2}
    discriminator: list[dict[str, Any]] = [
        {"type": "conv2d", "filters": half, "kernel_size": 4, "stride": 2, "padding": 1, "init": init},
        slope,
        {"type": "conv2d", "filters": width, "kernel_size": 4, "stride": 2, "padding": 1, "init": init},
        slope,
        {"type": "flatten"},
        {"type": "dense", "units": 1, "init": init},
    ]
    return generator, discriminator
