"""Generative adversarial networks (Goodfellow et al., 2014): the generator and discriminator as lamina models
(:mod:`.model`, with DCGAN's layers, Radford et al., 2016), the non-saturating, minimax and Wasserstein-GP losses
(:mod:`.losses`, Gulrajani et al., 2017), the alternating trainer (:mod:`.trainer`), the experiment file's ``[gan]``
section (:mod:`.config`) and the per-epoch sample grid (:mod:`.plots`)."""

from lamina.generative.adversarial.losses import (
    OBJECTIVES,
    AdversarialObjective,
    critic_loss,
    discriminator_loss,
    gradient_penalty,
    interpolate,
    minimax_generator_loss,
    non_saturating_generator_loss,
    wasserstein_generator_loss,
)
from lamina.generative.adversarial.model import GAN, build_gan, dcgan_layers
from lamina.generative.adversarial.trainer import DCGAN_ADAM, GANTrainer

__all__ = [
    "DCGAN_ADAM",
    "GAN",
    "OBJECTIVES",
    "AdversarialObjective",
    "GANTrainer",
    "build_gan",
    "critic_loss",
    "dcgan_layers",
    "discriminator_loss",
    "gradient_penalty",
    "interpolate",
    "minimax_generator_loss",
    "non_saturating_generator_loss",
    "wasserstein_generator_loss",
]
