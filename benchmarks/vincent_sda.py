"""Vincent, Larochelle, Bengio & Manzagol (2008), "Extracting and composing robust features with denoising
autoencoders", ICML, Table 1: test error of SVM-rbf, SAA-3 (stacked autoencoders), DBN-3 (stacked RBMs) and SdA-3
(stacked denoising autoencoders) on the eight factors-of-variation sets of Larochelle et al. (2007), each network
3 hidden layers, pretrained greedily then fine-tuned.

Every cell picks its configuration on the validation set only and scores the test set once
(``benchmarks/factors_common.py``: grid, sizes, fine-tuning). The sets are lamina's generated ones
(``lamina.data.factors_of_variation``: generated as the paper describes, not the original files).

    python -m benchmarks.vincent_sda --scale small                       # CPU, reduced (labelled "small scale")
    python -m benchmarks.vincent_sda --scale paper --device cuda --workers 12 --threads 1 --budget-minutes 7

Results: ``<out-dir>/vincent_sda_<scale>.json`` (rewritten after each cell) and ``<out-dir>/vincent_sda_<scale>.md``
(measured beside published, with both 95% intervals).
"""

from __future__ import annotations

from benchmarks import factors_common as fc

METHODS = ["svm_rbf", "autoencoder", "rbm", "denoising_autoencoder"]


def cells() -> list[fc.Cell]:
    """All 32 cells, most informative first: SdA-3 and DBN-3 on basic and bg-rand (the paper's headline: SdA best
    on most sets, DBN best on bg-rand), then the SVMs (long, on the CPU: started early), then the rest by dataset."""
    order = [
        fc.Cell("mnist_basic", "denoising_autoencoder", 3),
        fc.Cell("mnist_basic", "rbm", 3),
        fc.Cell("mnist_bg_rand", "denoising_autoencoder", 3),
        fc.Cell("mnist_bg_rand", "rbm", 3),
    ]
    order += [fc.Cell(d, "svm_rbf", 0) for d in fc.DATASETS]
    for method in ("denoising_autoencoder", "rbm", "autoencoder"):
        order += [fc.Cell(d, method, 3) for d in fc.DATASETS]
    seen: set[str] = set()
    return [c for c in order if not (c.key in seen or seen.add(c.key))]


def _cell_of(dataset: str, method: str) -> fc.Cell:
    return fc.Cell(dataset, method, 0 if method == "svm_rbf" else 3)


def page(results: dict[str, dict], scale: fc.Scale, cmd: str | list[str] | None = None) -> str:
    """The results page: the measured table beside the published one, then the headline checks."""
    label = "" if scale.name == "paper" else f" ({scale.name} scale)"
    head = " | ".join(f"{fc.VINCENT_COLUMNS[m]} measured | published" for m in METHODS)
    lines = [
        f"# Vincent et al. (2008), Table 1: SVM-rbf / SAA-3 / DBN-3 / SdA-3 on the factors-of-variation sets{label}",
        "",
        "Test error (%) ± the 95% interval 1.96·sqrt(p(1-p)/n) (n: our test examples; the paper's n = 50,000).",
        "`*`: the cell's grid or training was cut short by the time budget. `-`: not run.",
        "",
        *fc.scale_note(scale),
        f"| dataset | {head} |",
        "|---|" + "---|---|" * len(METHODS),
    ]
    for d in fc.DATASETS:
        row = []
        for m in METHODS:
            row += [
                fc.format_measured(fc.measured(results, _cell_of(d, m))),
                fc.format_published(fc.VINCENT_2008[d][m]),
            ]
        lines.append(f"| {fc.SHORT[d]} | " + " | ".join(row) + " |")
    lines += ["", "## Headline checks", ""]
    lines += _headline(results)
    chosen = [
        f"- {r['cell']}: {fc.config_text(r)}" for r in results.values() if r.get("status") in ("done", "cut_short")
    ]
    lines += [
        "",
        "## How the cells were run",
        "",
        "Every hyper-parameter was chosen on the validation set only; the test set was scored once per cell, with the "
        "chosen configuration. " + fc.grid_text(scale),
        "",
        "Published figures: Vincent et al. (2008), Table 1 (SdA-3 with the noise level the paper selected: "
        + ", ".join(f"{fc.SHORT[d]} {int(100 * v)}%" for d, v in fc.VINCENT_2008_NOISE.items())
        + "). Data: lamina's generated sets, not the original files (see `lamina.data.factors_of_variation`).",
        "",
        *fc.command_lines(cmd, chosen),
    ]
    return "\n".join(lines)


def _headline(results: dict[str, dict]) -> list[str]:
    """Whether SdA-3 is best or tied (within the intervals) on most sets and DBN-3 best on bg-rand, measured."""
    out, sda_best, complete = [], 0, 0
    for d in fc.DATASETS:
        records = {m: fc.measured(results, _cell_of(d, m)) for m in METHODS}
        if any(r is None for r in records.values()):
            continue
        complete += 1
        best = min(records, key=lambda m: records[m]["test_error"])
        sda = records["denoising_autoencoder"]
        tied = (
            sda["test_error"] - sda["test_interval95"] <= records[best]["test_error"] + records[best]["test_interval95"]
        )
        sda_best += tied
        out.append(f"- {fc.SHORT[d]}: best {fc.VINCENT_COLUMNS[best]}; SdA-3 best or tied: {'yes' if tied else 'no'}")
        if d == "mnist_bg_rand":
            out.append(f"  - DBN-3 best on bg-rand (the paper's exception): {'yes' if best == 'rbm' else 'no'}")
    out.append(f"- SdA-3 best or tied on {sda_best} of {complete} complete rows (paper: 6 of 8 best, tied on the rest)")
    return out


def main() -> None:
    fc.table_main("vincent_sda", __doc__, cells(), page)


if __name__ == "__main__":
    main()
