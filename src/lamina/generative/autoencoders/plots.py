"""Figures for autoencoders: inputs beside their reconstructions, encoder filters as images, greedy pretraining
losses, and 2-D codes coloured by class beside PCA's (Hinton & Salakhutdinov, 2006, fig. 3)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from lamina.report.plots import plt, save_figure  # pyplot on the Agg backend (files only)

__all__ = ["plot_reconstructions", "plot_filters", "plot_pretraining_losses", "plot_codes_2d"]


def plot_reconstructions(
    originals: torch.Tensor,
    reconstructions: torch.Tensor | Sequence[torch.Tensor],
    path: str | Path,
    *,
    image_shape: tuple[int, int],
    labels: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """One column per example: the input on the top row, then one row per model's reconstruction.

    Args:
        originals: ``(N, H*W)`` inputs in [0, 1].
        reconstructions: a tensor like ``originals``, or a list of them (one row each).
        image_shape: ``(H, W)``.
        labels: the rows' names (default: ``input``, ``reconstruction``).
    """
    rows = [originals] + (list(reconstructions) if isinstance(reconstructions, (list, tuple)) else [reconstructions])
    names = ["input", *(labels or ["reconstruction"] * (len(rows) - 1))]
    n = len(originals)
    fig, axes = plt.subplots(len(rows), n, figsize=(1.1 * n + 1.2, 1.15 * len(rows)), squeeze=False)
    for r, (row, name) in enumerate(zip(rows, names)):
        for c in range(n):
            ax = axes[r][c]
            ax.imshow(
                row[c].detach().float().cpu().reshape(image_shape).clamp(0, 1).numpy(), cmap="gray", vmin=0, vmax=1
            )
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r][0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(title or "inputs and reconstructions (gray level in [0, 1])")
    return save_figure(fig, Path(path))


def plot_filters(
    weight: torch.Tensor, path: str | Path, *, image_shape: tuple[int, int], count: int = 64, title: str = ""
) -> Path:
    """The first ``count`` rows of an encoder's ``(n_hidden, H*W)`` weights as images, each scaled to its own
    range (black: most negative, white: most positive)."""
    w = weight.detach().float().cpu()[:count]
    cols = math.ceil(math.sqrt(len(w)))
    rows = math.ceil(len(w) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 0.9 + 0.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i < len(w):
            ax.imshow(w[i].reshape(image_shape).numpy(), cmap="gray")
        else:
            ax.axis("off")
    fig.suptitle(title or "encoder filters (each scaled to its own range)")
    return save_figure(fig, Path(path))


def plot_pretraining_losses(layers: Sequence[Any], path: str | Path, *, title: str = "") -> Path:
    """Each pretrained layer's training objective against the epoch (``layers``: the greedy driver's records)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for record in layers:
        epochs = [e.get("epoch", i + 1) for i, e in enumerate(record.history)]
        ax.plot(
            epochs,
            [e.get("loss", float("nan")) for e in record.history],
            "-o",
            markersize=3,
            label=f"{record.layer} ({record.module.weight.shape[1]} -> {record.module.weight.shape[0]})",
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("training objective per example")
    ax.set_yscale("log")
    ax.set_title(title or "greedy layer-wise pretraining")
    ax.legend()
    return save_figure(fig, Path(path))


def plot_codes_2d(
    panels: Sequence[tuple[str, torch.Tensor]],
    labels: torch.Tensor,
    path: str | Path,
    *,
    title: str = "",
    max_points: int = 5000,
    axis_labels: tuple[str, str] = ("code unit 1", "code unit 2"),
) -> Path:
    """Side-by-side scatter plots of 2-D codes coloured by class (e.g. PCA's and a deep autoencoder's).

    Args:
        panels: ``(name, codes (N, 2))`` pairs.
        labels: ``(N,)`` class indices.
        max_points: plot at most this many examples (the first ones), as the paper's figure does.
        axis_labels: the x and y axes' names.
    """
    labels = labels.detach().cpu()[:max_points].numpy()
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 5), squeeze=False)
    classes = sorted({int(c) for c in labels})
    cmap = plt.get_cmap("tab10")
    for ax, (name, codes) in zip(axes[0], panels):
        codes = codes.detach().float().cpu()[:max_points].numpy()
        for c in classes:
            pick = labels == c
            ax.scatter(codes[pick, 0], codes[pick, 1], s=3, color=cmap(c % 10), label=str(c), alpha=0.7)
        ax.set_title(name)
        ax.set_xlabel(axis_labels[0])
        ax.set_ylabel(axis_labels[1])
    axes[0][-1].legend(title="class", markerscale=4, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(title or "2-D codes of test images, coloured by class")
    return save_figure(fig, Path(path))
