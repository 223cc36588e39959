"""Variational models: the variational autoencoder (Kingma & Welling, 2014) with its importance-weighted
log-likelihood estimate (Burda, Grosse & Salakhutdinov, 2016); the math in :mod:`.functions`, the model and its
``vae`` layer in :mod:`.vae`, its figures in :mod:`.plots`."""

from lamina.generative.variational.functions import (
    bernoulli_log_likelihood,
    gaussian_kl,
    gaussian_log_density,
    importance_weighted_bound,
    reparameterize,
)
from lamina.generative.variational.vae import ELBO, VAE, VAESpec

__all__ = [
    "ELBO",
    "VAE",
    "VAESpec",
    "bernoulli_log_likelihood",
    "gaussian_kl",
    "gaussian_log_density",
    "importance_weighted_bound",
    "reparameterize",
]
