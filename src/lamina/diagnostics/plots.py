"""The diagnostics' figures, one message each, saved as PNGs (a run's ``plots/`` folder puts them in its report)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lamina.report.plots import literal, save_figure  # selects the file-only Agg backend first

# isort: split
import matplotlib.pyplot as plt  # noqa: E402

if TYPE_CHECKING:
    from lamina.diagnostics.features import Embedding, Filters, Saliency
    from lamina.diagnostics.gradient_flow import GradientFlow
    from lamina.diagnostics.jacobian import JacobianSpectrum
    from lamina.diagnostics.units import UnitStatistics

__all__ = [
    "plot_gradient_flow",
    "plot_gradient_flow_history",
    "plot_update_ratio_history",
    "plot_jacobian_depth",
    "plot_jacobian_layers",
    "plot_activation_histograms",
    "plot_unit_history",
    "plot_filters",
    "plot_embedding",
    "plot_saliency",
]


def _title(title: str, what: str) -> str:
    return f"{literal(title)}: {what}" if title else what  # the run's name, shown as typed (no mathtext)


def _depth_axis(ax: Any, names: Sequence[str]) -> None:
    ax.set_xticks(range(1, len(names) + 1))
    ax.set_xticklabels(names, rotation=45 if len(names) > 5 else 0, ha="right" if len(names) > 5 else "center")
    ax.set_xlabel("layer (input side \u2192 output side)")


def plot_gradient_flow(flow: GradientFlow, path: Path, *, title: str = "") -> Path:
    """Delta and weight-gradient norms against depth (log scale), and the gradient-to-weight ratio below."""
    names = [r.name for r in flow.layers]
    x = np.arange(1, len(names) + 1)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    top.semilogy(
        x, [r.delta_norm for r in flow.layers], "-o", label=r"back-propagated delta $\|\partial L/\partial z\|$"
    )
    top.semilogy(x, [r.grad_norm for r in flow.layers], "-s", label=r"weight gradient $\|\partial L/\partial W\|$")
    top.set_ylabel("Frobenius norm over the batch")
    top.set_title(_title(title, f"gradient flow (batch loss {flow.loss:.4g})"))
    top.grid(alpha=0.3, which="both")
    top.legend()
    bottom.semilogy(x, [r.ratio for r in flow.layers], "-^", color="tab:green")
    bottom.set_ylabel(r"$\|\partial L/\partial W\| \,/\, \|W\|$")
    bottom.grid(alpha=0.3, which="both")
    _depth_axis(bottom, names)
    return save_figure(fig, path)


def _history_lines(records: Sequence[dict[str, Any]], key: str) -> dict[str, tuple[list[int], list[float]]]:
    lines: dict[str, tuple[list[int], list[float]]] = {}
    for rec in records:
        for name, row in rec["layers"].items():
            value = row.get(key)
            if value is not None and math.isfinite(value) and value > 0:
                steps, values = lines.setdefault(name, ([], []))
                steps.append(rec["step"])
                values.append(value)
    return lines


def _layer_colors(n: int) -> list[Any]:
    return [plt.get_cmap("viridis")(0.85 * i / max(n - 1, 1)) for i in range(n)]  # no pale yellow end


def _history_axes(records: Sequence[dict[str, Any]], key: str) -> tuple[Any, Any, int] | None:
    """``(figure, axes, number of lines)``: each layer's ``key`` against the optimizer step on a log scale, one
    colour per layer, gridded; ``None`` when no record holds a positive finite value of it."""
    lines = _history_lines(records, key)
    if not lines:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (name, (steps, values)), color in zip(lines.items(), _layer_colors(len(lines))):
        ax.semilogy(steps, values, "-o", markersize=3, color=color, label=name)
    ax.set_xlabel("optimizer step")
    ax.grid(alpha=0.3, which="both")
    return fig, ax, len(lines)


def plot_gradient_flow_history(records: Sequence[dict[str, Any]], path: Path, *, title: str = "") -> Path | None:
    """The back-propagated delta norm of each layer against the optimizer step (log scale)."""
    drawn = _history_axes(records, "delta_norm")
    if drawn is None:
        return None
    fig, ax, n_lines = drawn
    ax.set_ylabel(r"delta norm $\|\partial L/\partial z\|$ (one batch)")
    ax.set_title(_title(title, "back-propagated gradient per layer during training"))
    ax.legend(title="layer (dark: input side)", fontsize=8, ncol=2 if n_lines > 6 else 1)
    return save_figure(fig, path)


def plot_update_ratio_history(records: Sequence[dict[str, Any]], path: Path, *, title: str = "") -> Path | None:
    """``||Delta W|| / ||W||`` of each layer's optimizer update against the step, with CS231n's 1e-3 guide."""
    drawn = _history_axes(records, "update_ratio")
    if drawn is None:
        return None
    fig, ax, n_lines = drawn
    ax.axhline(1e-3, color="gray", linestyle="--", label="1e-3 (rule of thumb)")
    ax.set_ylabel(r"relative update $\|\Delta W\| / \|W\|$")
    ax.set_title(_title(title, "size of each layer's weight update"))
    ax.legend(fontsize=8, ncol=2 if n_lines > 6 else 1)
    return save_figure(fig, path)


def _log_floor(arrays: Sequence[np.ndarray]) -> float:
    """A floor for a log axis: half the smallest positive value (exact zeros are drawn there)."""
    positive = [a[a > 0].min() for a in arrays if (a > 0).any()]
    return 0.5 * min(positive) if positive else 1e-12


def plot_jacobian_depth(spectrum: JacobianSpectrum, path: Path, *, title: str = "") -> Path:
    """Singular values of the product Jacobian ``J_l ... J_1`` against depth: median, 5-95% band, extremes."""
    names = [r.name for r in spectrum.layers]
    x = np.arange(1, len(names) + 1)
    pooled = [r.product.double().flatten().numpy() for r in spectrum.layers]
    floor = _log_floor(pooled)
    q = np.maximum(np.array([np.quantile(v, [0.05, 0.5, 0.95]) for v in pooled]), floor)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.fill_between(x, q[:, 0], q[:, 2], alpha=0.3, label="5th-95th percentile")
    ax.plot(x, q[:, 1], "-o", label="median")
    ax.plot(x, [v.max() for v in pooled], "v:", color="tab:red", markersize=4, label="largest")
    zeros = any((v == 0).any() for v in pooled)
    ax.plot(
        x,
        [max(v.min(), floor) for v in pooled],
        "^:",
        color="tab:purple",
        markersize=4,
        label="smallest" + (" (zero: at the bottom)" if zeros else ""),
    )
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--", label="isometry (all = 1)")
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor * 0.8)
    ax.set_ylabel(r"singular values of $J_l \cdots J_1$ (input $\to$ layer)")
    ax.set_title(_title(title, f"input-output Jacobian through depth ({spectrum.n_inputs} inputs)"))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    _depth_axis(ax, names)
    return save_figure(fig, path)


def plot_jacobian_layers(spectrum: JacobianSpectrum, path: Path, *, title: str = "") -> Path:
    """Each layer's own Jacobian spectrum (sorted singular values averaged over inputs) against relative rank."""
    spectra = [row.mean_spectrum.double().numpy() for row in spectrum.layers]
    floor = _log_floor(spectra)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for row, values, color in zip(spectrum.layers, spectra, _layer_colors(len(spectrum.layers))):
        ax.plot(np.linspace(0, 1, len(values)), np.maximum(values, floor), color=color, label=row.name)
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor * 0.8)
    ax.set_xlabel("rank of the singular value / number of singular values")
    ax.set_ylabel(r"singular value of $J_l$ (mean over inputs; 0 at the bottom)")
    ax.set_title(_title(title, "each layer's Jacobian spectrum"))
    ax.grid(alpha=0.3, which="both")
    ax.legend(title="layer (dark: input side)", fontsize=8, ncol=2 if len(spectrum.layers) > 6 else 1)
    return save_figure(fig, path)


def plot_activation_histograms(stats: UnitStatistics, path: Path, *, title: str = "") -> Path | None:
    """One histogram of activation values per layer, annotated with its dead or saturated units."""
    if not stats.layers:
        return None
    n = len(stats.layers)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for ax, row in zip(axes.flat, stats.layers):
        edges = np.asarray(row.edges)
        total = max(sum(row.counts), 1)
        ax.bar(edges[:-1], np.asarray(row.counts) / total, width=np.diff(edges), align="edge")
        note = (
            f"dead {row.dead}/{row.units}"
            if row.rectified
            else f"saturated {row.saturated}/{row.units}"
            if row.bounded
            else f"{row.units} units"
        )
        ax.set_title(f"{row.name} ({row.kind})\n{note}", fontsize=9)
        ax.set_xlabel("activation value", fontsize=8)
        ax.set_ylabel("fraction of outputs", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(_title(title, f"activation histograms ({stats.n_inputs} inputs)"))
    fig.tight_layout()
    return save_figure(fig, path)


def plot_unit_history(records: Sequence[dict[str, Any]], path: Path, *, title: str = "") -> Path | None:
    """The percentage of dead (rectified) or saturated (bounded) units per layer against the step."""
    if not records or not records[-1]["layers"]:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    colors = _layer_colors(len(records[-1]["layers"]))
    for i, name in enumerate(records[-1]["layers"]):
        for style, what in (("-o", "dead"), ("--s", "saturated")):
            points = [
                (r["step"], r["layers"][name][f"{what}_percent"])
                for r in records
                if r["layers"].get(name, {}).get(f"{what}_percent") is not None
            ]
            if points:
                ax.plot(*zip(*points), style, markersize=3, color=colors[i], label=f"{name} ({what})")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("units (% of the layer)")
    ax.set_ylim(-2, 102)
    ax.set_title(_title(title, "dead and saturated units during training (one batch)"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2 if len(colors) > 6 else 1)
    return save_figure(fig, path)


def plot_filters(filters: Filters, path: Path, *, max_filters: int = 64, title: str = "") -> Path:
    """A grid of first-layer filters; each gray-scale filter is scaled symmetrically (white > 0, black < 0)."""
    images = filters.images[:max_filters].numpy()
    n = len(images)
    cols = min(n, 8)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.3 * rows + 0.4), squeeze=False, layout="constrained")
    for ax, img in zip(axes.flat, images):
        if img.shape[0] == 3:  # RGB: each filter scaled to [0, 1]
            lo, hi = img.min(), img.max()
            ax.imshow(np.transpose((img - lo) / (hi - lo + 1e-12), (1, 2, 0)))
        else:
            g = img.mean(0) if img.shape[0] > 1 else img[0]
            bound = np.abs(g).max() + 1e-12
            ax.imshow(g, cmap="gray", vmin=-bound, vmax=bound)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    shown = f"{n} of {len(filters.images)}" if n < len(filters.images) else f"{n}"
    fig.suptitle(
        _title(title, f"first-layer filters of {filters.layer} ({shown}; white: positive weight)"), fontsize=10
    )
    return save_figure(fig, path)


def plot_embedding(embedding: Embedding, path: Path, *, classes: Sequence[str] | None = None, title: str = "") -> Path:
    """The 2-D embedding as a scatter plot coloured by label."""
    pts = embedding.points.numpy()
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    if embedding.labels is None or embedding.labels.is_floating_point():
        c = None if embedding.labels is None else embedding.labels.numpy().reshape(len(pts), -1)[:, 0]
        sc = ax.scatter(pts[:, 0], pts[:, 1], s=8, c=c, cmap="viridis")
        if c is not None:
            fig.colorbar(sc, ax=ax, label="target")
    else:
        labels = embedding.labels.numpy()
        cmap = plt.get_cmap("tab10" if labels.max() < 10 else "tab20")
        for k in np.unique(labels):
            name = classes[k] if classes is not None and k < len(classes) else str(k)
            ax.scatter(*pts[labels == k].T, s=8, color=cmap(k % cmap.N), label=name)
        ax.legend(title="label", fontsize=8, markerscale=2, bbox_to_anchor=(1.02, 1), loc="upper left")
    if embedding.method == "pca" and embedding.explained_variance is not None:
        ax.set_xlabel(f"principal component 1 ({100 * embedding.explained_variance[0]:.1f}% of variance)")
        ax.set_ylabel(f"principal component 2 ({100 * embedding.explained_variance[1]:.1f}% of variance)")
    else:
        ax.set_xlabel("t-SNE dimension 1 (no unit)")
        ax.set_ylabel("t-SNE dimension 2 (no unit)")
    ax.set_title(
        _title(
            title,
            f"{embedding.method.upper() if embedding.method == 'pca' else 't-SNE'} of layer "
            f"{embedding.layer}'s outputs ({len(pts)} examples)",
        )
    )
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_saliency(
    sal: Saliency,
    path: Path,
    *,
    labels: Any = None,
    classes: Sequence[str] | None = None,
    max_samples: int = 6,
    title: str = "",
) -> Path:
    """Inputs (top row) above their saliency maps ``|dS_c/dx|`` (bottom row)."""
    n = min(max_samples, len(sal.inputs))
    fig, axes = plt.subplots(2, n, figsize=(1.9 * n, 4.2), squeeze=False)
    name = lambda k: classes[k] if classes is not None and k < len(classes) else str(k)  # noqa: E731
    for i in range(n):
        x, m = sal.inputs[i].float().cpu().numpy(), sal.maps[i].float().cpu().numpy()
        img = x.mean(0) if x.ndim == 3 else x
        if img.ndim == 1:  # a vector: one row
            img, m = img[None, :], m[None, :]
        axes[0, i].imshow(img, cmap="gray", aspect="auto" if img.shape[0] == 1 else "equal")
        truth = f"label {name(int(labels[i]))}\n" if labels is not None and not labels.is_floating_point() else ""
        axes[0, i].set_title(f"{truth}scored class {name(int(sal.targets[i]))}", fontsize=8)
        axes[1, i].imshow(m, cmap="hot", aspect="auto" if m.shape[0] == 1 else "equal")
        for ax in axes[:, i]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("input", fontsize=9)
    axes[1, 0].set_ylabel(r"$|\partial S_c / \partial x|$", fontsize=9)
    fig.suptitle(_title(title, "saliency: where the class score is most sensitive (bright)"), fontsize=10)
    return save_figure(fig, path)
