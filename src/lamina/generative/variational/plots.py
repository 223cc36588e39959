"""Figures for the variational autoencoder: samples from the prior beside test images and their reconstructions,
and the latent space (the encoder's means of test images, coloured by class; projected on their first two principal
components when there are more than two latent dimensions)."""

from __future__ import annotations

from pathlib import Path

import torch

from lamina.generative.autoencoders.plots import plot_codes_2d
from lamina.generative.variational.vae import VAE
from lamina.report.plots import plt, save_figure  # pyplot on the Agg backend (files only)

__all__ = ["plot_latent_space", "plot_samples_and_reconstructions", "principal_components_2d"]


def principal_components_2d(codes: torch.Tensor) -> torch.Tensor:
    """``(N, d) -> (N, 2)``: the centred codes projected on their first two principal directions (``d = 2``: the
    codes themselves)."""
    codes = codes.detach().float().cpu()
    if codes.shape[1] <= 2:
        return codes
    centred = codes - codes.mean(dim=0)
    _, _, v = torch.linalg.svd(centred, full_matrices=False)
    return centred @ v[:2].T


@torch.no_grad()
def plot_samples_and_reconstructions(
    vae: VAE,
    x: torch.Tensor,
    path: str | Path,
    *,
    image_shape: tuple[int, int],
    samples: int = 40,
    generator: torch.Generator | None = None,
    title: str = "",
) -> Path:
    """Three panels of images, gray level = pixel probability ``E[x | z]``: test images ``x`` (first 10 columns,
    top row) over their reconstructions at the encoder's mean; below, ``samples`` decodings of ``z ~ N(0, I)``."""
    was_training = vae.training
    vae.eval()
    try:
        shown = x[:10]
        recon = vae.reconstruct(shown)
        drawn = vae.sample(samples, generator=generator)
    finally:
        vae.train(was_training)
    cols = 10
    sample_rows = -(-samples // cols)
    fig, axes = plt.subplots(2 + sample_rows, cols, figsize=(cols * 0.9, (2 + sample_rows) * 0.95 + 0.6), squeeze=False)
    rows = [shown, recon] + [drawn[r * cols : (r + 1) * cols] for r in range(sample_rows)]
    names = ["test image", "reconstruction"] + ["sample" if r == 0 else "" for r in range(sample_rows)]
    for r, (row, name) in enumerate(zip(rows, names)):
        for c in range(cols):
            ax = axes[r][c]
            if c < len(row):
                ax.imshow(row[c].float().cpu().reshape(image_shape).clamp(0, 1).numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.axis("on" if c < len(row) else "off")
        axes[r][0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(title or "VAE: test images, reconstructions and samples from the prior (pixel probabilities)")
    return save_figure(fig, Path(path))


@torch.no_grad()
def plot_latent_space(vae: VAE, x: torch.Tensor, labels: torch.Tensor, path: str | Path, *, title: str = "") -> Path:
    """The encoder's means ``mu(x)`` of the images ``x``, coloured by ``labels``, in 2-D (principal components when
    the latent space has more than two dimensions)."""
    was_training = vae.training
    vae.eval()
    try:
        codes = vae.transform(x)
    finally:
        vae.train(was_training)
    if vae.n_latent <= 2:
        name, axes = "latent means", ("z 1", "z 2")
    else:
        name, axes = f"latent means ({vae.n_latent}-D), first two principal components", ("PC 1", "PC 2")
    panels = [(name, principal_components_2d(codes))]
    return plot_codes_2d(panels, labels, path, title=title or "VAE latent space", axis_labels=axes)
