"""Depth against pretraining (Larochelle, Bengio, Louradour & Lamblin 2009, JMLR, "Exploring strategies for training
deep neural networks"; Erhan et al. 2010): test error of logistic networks of 1 to 4 hidden layers trained from a
random initialisation, after greedy autoassociator (autoencoder) pretraining, and after RBM pretraining, on
MNIST-small (``mnist_basic``: 10,000 training images) and MNIST-rotation (``mnist_rot``): 24 cells.

Targets (issue 26): pretraining beats no pretraining at every depth >= 2 on both sets; the random-init baseline
within 0.5 points of the published one, its learning rate and epochs tuned on validation as the paper did.

Every cell picks its configuration on the validation set only and scores the test set once
(``benchmarks/factors_common.py``: grid, sizes, fine-tuning).

    python -m benchmarks.depth_pretraining --scale small
    python -m benchmarks.depth_pretraining --scale paper --device cuda --workers 12 --threads 1 --budget-minutes 7

Results: ``<out-dir>/depth_pretraining_<scale>.json`` (rewritten after each cell) and the page
``<out-dir>/depth_pretraining_<scale>.md``.
"""

from __future__ import annotations

from benchmarks import factors_common as fc

DATASETS = ["mnist_basic", "mnist_rot"]
METHODS = ["none", "autoencoder", "rbm"]
DEPTHS = [1, 2, 3, 4]


def cells() -> list[fc.Cell]:
    """All 24 cells, depth 3 first (the issue's quote), then 2, 1 and 4; MNIST-small before MNIST-rotation."""
    return [fc.Cell(d, m, depth) for depth in (3, 2, 1, 4) for d in DATASETS for m in METHODS]


def page(results: dict[str, dict], scale: fc.Scale, cmd: str | list[str] | None = None) -> str:
    """The results page: per set, a depth x method table of measured beside published, then the target checks."""
    label = "" if scale.name == "paper" else f" ({scale.name} scale)"
    lines = [
        f"# Depth and pretraining: Larochelle et al. (2009) on MNIST-small and MNIST-rotation{label}",
        "",
        "Test error (%) ± the 95% interval 1.96·sqrt(p(1-p)/n) (n: our test examples; the paper's n = 50,000).",
        "`*`: cut short by the time budget. `-`: not run.",
        "",
        *fc.scale_note(scale),
    ]
    for d in DATASETS:
        head = " | ".join(f"{fc.DEPTH_COLUMNS[m]} measured | published" for m in METHODS)
        lines += [f"## {fc.SHORT[d]}", "", f"| hidden layers | {head} |", "|---|" + "---|---|" * len(METHODS)]
        for depth in DEPTHS:
            row = []
            for m in METHODS:
                row += [
                    fc.format_measured(fc.measured(results, fc.Cell(d, m, depth))),
                    fc.format_published(fc.LAROCHELLE_2009[d][m][depth]),
                ]
            lines.append(f"| {depth} | " + " | ".join(row) + " |")
        lines.append("")
    lines += ["## Target checks", "", *checks(results), ""]
    chosen = [
        f"- {r['cell']}: {fc.config_text(r)}" for r in results.values() if r.get("status") in ("done", "cut_short")
    ]
    lines += [
        "## How the cells were run",
        "",
        "Every hyper-parameter was chosen on the validation set only; the test set was scored once per cell. "
        + fc.grid_text(scale),
        "",
        "Published figures: Larochelle et al. (2009), the table of error against depth (MNIST-small, MNIST-rotation; "
        "the depth-3 figures are those the issue quotes). Their autoassociator pretraining is the plain autoencoder "
        "(`autoencoder` here), not the denoising one. Data: lamina's generated `mnist_basic` and `mnist_rot`.",
        "",
        *fc.command_lines(cmd, chosen),
    ]
    return "\n".join(lines)


def checks(results: dict[str, dict]) -> list[str]:
    """The issue's targets, on the cells measured so far."""
    out = []
    for d in DATASETS:
        for depth in DEPTHS:
            none = fc.measured(results, fc.Cell(d, "none", depth))
            if none is None:
                continue
            published = fc.LAROCHELLE_2009[d]["none"][depth]
            gap = none["test_error"] - published
            out.append(
                f"- {fc.SHORT[d]} depth {depth}: random init {none['test_error']:.2f}% vs published {published:.2f}% "
                f"({gap:+.2f} points, {'within' if abs(gap) <= 0.5 else 'outside'} 0.5)"
            )
            for m in ("autoencoder", "rbm"):
                pre = fc.measured(results, fc.Cell(d, m, depth))
                if pre is not None and depth >= 2:
                    verdict = "beats" if pre["test_error"] < none["test_error"] else "does not beat"
                    out.append(
                        f"  - {fc.DEPTH_COLUMNS[m]} {pre['test_error']:.2f}% {verdict} no pretraining "
                        f"({none['test_error'] - pre['test_error']:+.2f} points)"
                    )
    return out or ["- no random-init cell measured yet"]


def main() -> None:
    fc.table_main("depth_pretraining", __doc__, cells(), page)


if __name__ == "__main__":
    main()
