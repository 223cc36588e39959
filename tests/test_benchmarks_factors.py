"""The factors-of-variation tables' shared code (``benchmarks/factors_common.py``): the printed 95% intervals, the
cells of both tables, validation-only selection with one test score per cell, the time budget, and the pages."""

from __future__ import annotations

import argparse
import dataclasses
import math
import time

import pytest
import torch

from benchmarks import depth_pretraining, vincent_sda
from benchmarks import factors_common as fc


@pytest.mark.parametrize(
    ("error", "printed"),
    [(3.03, 0.15), (14.58, 0.31), (55.18, 0.44), (1.99, 0.12), (21.59, 0.36), (6.73, 0.22)],
)
def test_interval_is_the_one_vincent_et_al_print(error, printed):
    # Vincent et al. (2008), Table 1 prints each error with this half-width, on 50,000 test examples
    assert round(fc.interval95(error, 50000), 2) == printed


def test_the_tables_have_all_their_cells_once_most_informative_first():
    cells = vincent_sda.cells()
    assert len(cells) == 32 == len({c.key for c in cells})
    assert {(c.dataset, c.method) for c in cells} == {(d, m) for d in fc.DATASETS for m in vincent_sda.METHODS}
    assert [c.key for c in cells[:4]] == [
        "mnist_basic/denoising_autoencoder/3",
        "mnist_basic/rbm/3",
        "mnist_bg_rand/denoising_autoencoder/3",
        "mnist_bg_rand/rbm/3",
    ]
    depth = depth_pretraining.cells()
    assert len(depth) == 24 == len({c.key for c in depth})
    assert {c.depth for c in depth[:6]} == {3}
    for d in depth_pretraining.DATASETS:  # every published cell is there, and only those
        assert {(c.method, c.depth) for c in depth if c.dataset == d} == {
            (m, k) for m, by_depth in fc.LAROCHELLE_2009[d].items() for k in by_depth
        }


def test_grid_sizes_and_an_unknown_method():
    paper = fc.SCALES["paper"]
    assert len(fc.grid("denoising_autoencoder", paper)) == len(paper.noise) * len(paper.lr_pretrained)
    assert len(fc.grid("svm_rbf", paper)) == len(paper.svm_c) * len(paper.svm_gamma)
    assert [g["lr"] for g in fc.grid("none", paper)] == list(paper.lr_none)
    with pytest.raises(ValueError, match="unknown method 'dbn'"):
        fc.grid("dbn", paper)


def test_command_line_overrides_of_a_scale():
    parser = argparse.ArgumentParser()
    fc.add_arguments(parser)
    args = parser.parse_args(
        ["--scale", "paper", "--finetune-epochs", "300", "--warmup", "5", "--lr-none", "0.03,0.02"]
    )
    scale = fc.scale_of(args)
    assert (scale.finetune_epochs, scale.warmup, scale.lr_none) == (300, 5, (0.03, 0.02))
    assert scale.patience == fc.SCALES["paper"].patience and scale.hidden == 1000  # the rest is the paper scale's
    assert "not monitored in the first 5 epochs" in fc.grid_text(scale)
    assert fc.scale_of(parser.parse_args(["--scale", "small"])) == fc.SCALES["small"]


def test_random_init_grid_searches_batch_sizes_when_asked():
    parser = argparse.ArgumentParser()
    fc.add_arguments(parser)
    scale = fc.scale_of(
        parser.parse_args(["--scale", "paper", "--hidden", "500", "--lr-none", "0.01,0.03", "--batch-none", "8,32"])
    )
    assert scale.hidden == 500
    configs = fc.grid("none", scale)
    assert configs == [
        {"lr": 0.01, "batch_size": 8},
        {"lr": 0.03, "batch_size": 8},
        {"lr": 0.01, "batch_size": 32},
        {"lr": 0.03, "batch_size": 32},
    ]
    assert "x batch [8, 32]" in fc.grid_text(scale)
    assert all("batch_size" not in c for c in fc.grid("rbm", scale))  # only the random-init grid searches it


def test_svm_grid_and_depth_subset_from_the_command_line():
    parser = argparse.ArgumentParser()
    fc.add_arguments(parser)
    args = parser.parse_args(["--scale", "paper", "--svm-c", "1,10", "--svm-gamma", "0.5,3", "--depths", "2,3"])
    assert fc.grid("svm_rbf", fc.scale_of(args)) == [
        {"C": 1.0, "gamma_factor": 0.5},
        {"C": 1.0, "gamma_factor": 3.0},
        {"C": 10.0, "gamma_factor": 0.5},
        {"C": 10.0, "gamma_factor": 3.0},
    ]
    cells = [fc.Cell("mnist_rot", m, d) for d in (3, 2, 1) for m in ("none", "rbm")]
    assert [(c.method, c.depth) for c in fc.select(cells, args)] == [
        ("none", 3),
        ("rbm", 3),
        ("none", 2),
        ("rbm", 2),
    ]
    with pytest.raises(SystemExit, match="--depths: unknown \\[5\\]"):
        fc.select(cells, parser.parse_args(["--depths", "5"]))


def test_the_pretrained_networks_grid_from_the_command_line():
    parser = argparse.ArgumentParser()
    fc.add_arguments(parser)
    options = ["--scale", "paper", "--lr-pretrained", "0.01,0.1", "--rbm-lr", "0.03", "--noise", "0.4"]
    scale = fc.scale_of(parser.parse_args([*options, "--pretrain-epochs", "40"]))
    assert scale.pretrain_epochs == 40 and fc.pretrain_spec("rbm", {"rbm_lr": 0.03}, scale)["epochs"] == 40
    assert fc.grid("rbm", scale) == [{"lr": 0.01, "rbm_lr": 0.03}, {"lr": 0.1, "rbm_lr": 0.03}]
    assert fc.grid("denoising_autoencoder", scale) == [{"lr": 0.01, "noise": 0.4}, {"lr": 0.1, "noise": 0.4}]
    assert fc.grid("none", scale) == [{"lr": lr} for lr in fc.SCALES["paper"].lr_none]  # untouched


class _FakeTrainer:
    """Stands in for a trained network: counts the test evaluations and answers a fixed accuracy."""

    def __init__(self, accuracy: float, calls: list) -> None:
        self.accuracy, self.calls = accuracy, calls

    def evaluate(self, dataset):
        self.calls.append((self.accuracy, len(dataset)))
        return {"accuracy": self.accuracy}


def test_a_cell_chooses_on_validation_and_scores_the_test_set_once(monkeypatch):
    scale = dataclasses.replace(
        fc.SCALES["smoke"], name="three", lr_none=(0.1, 0.2, 0.3), lr_pretrained=(0.1, 0.2, 0.3)
    )
    validation = {0.1: 5.0, 0.2: 3.0, 0.3: 4.0}  # the middle one is best on validation ...
    test_accuracy = {0.1: 0.99, 0.2: 0.90, 0.3: 0.95}  # ... and worst on test: only validation may decide
    calls: list = []

    def fake_fit(data, method, depth, config, scale, **kwargs):
        lr = config["lr"]
        trainer = _FakeTrainer(test_accuracy[lr], calls)
        return {
            "trainer": trainer,
            "validation_error": validation[lr],
            "best_epoch": 1,
            "epochs_run": 1,
            "seconds": 0.0,
            "cut_short": False,
        }

    monkeypatch.setattr(fc, "fit_network", fake_fit)
    record = fc.run_cell(fc.Cell("rectangles", "none", 2), scale, "cpu", math.inf, 0, None)
    assert calls == [(0.90, 200)]  # one test evaluation, of the validation-best configuration
    assert record["chosen"]["lr"] == 0.2 and record["validation_error"] == 3.0
    assert record["test_error"] == pytest.approx(10.0)
    assert record["test_interval95"] == pytest.approx(100 * 1.96 * math.sqrt(0.1 * 0.9 / 200))
    assert [g["lr"] for g in record["grid"]] == [0.1, 0.2, 0.3] and record["status"] == "done"
    assert "pretrain_epochs" not in record["grid"][0]  # no pretraining in this cell
    pretrained = fc.run_cell(fc.Cell("rectangles", "autoencoder", 2), scale, "cpu", math.inf, 0, None)
    assert {g["pretrain_epochs"] for g in pretrained["grid"]} == {scale.pretrain_epochs}  # merged grids tell runs apart


def test_real_cells_at_smoke_scale_train_and_score():
    network = fc.run_cell(fc.Cell("rectangles", "rbm", 1), fc.SCALES["smoke"], "cpu", math.inf, 0, 1)
    svm = fc.run_cell(fc.Cell("rectangles", "svm_rbf", 0), fc.SCALES["smoke"], "cpu", math.inf, 0, 1)
    for record in (network, svm):
        assert record["status"] == "done" and record["sizes"] == {"train": 300, "validation": 100, "test": 200}
        assert 0 <= record["test_error"] <= 100 and 0 <= record["validation_error"] <= 100
    assert svm["chosen"]["gamma"] > 0 and network["hidden"] == fc.SCALES["smoke"].hidden


def test_a_searched_batch_size_reaches_the_trainer():
    smoke = fc.SCALES["smoke"]
    data = fc._on_device(fc.load_arrays("rectangles", smoke), torch.device("cpu"))
    fit = fc.fit_network(data, "none", 1, {"lr": 0.05, "batch_size": 50}, smoke, device="cpu", seed=0)
    assert fit["trainer"].batch_size == 50 != smoke.batch_size


def test_the_budget_stops_training_and_skips_cells_not_started():
    import lamina
    from lamina.data import ArrayDataset

    x, y = torch.rand(64, 4), torch.randint(0, 2, (64,))
    stop = fc.Deadline(time.time() - 1)
    trainer = lamina.Trainer(
        lamina.build_model([{"type": "dense", "units": 2}], (4,)),
        epochs=5,
        batch_size=16,
        device="cpu",
        callbacks=[fc._as_callback(stop)],
        verbose=0,
    )
    trainer.fit(ArrayDataset(x, y))
    assert trainer.epoch == 1 and stop.fired
    record = fc.run_cell(fc.Cell("rectangles", "none", 1), fc.SCALES["smoke"], "cpu", time.time() - 1, 0, None)
    assert record["status"] == "not_reached" and "test_error" not in record


def test_a_budget_that_ends_inside_the_warm_up_still_gives_a_validation_error():
    # the depth-4 run of 2026-12-05 lost a cell this way: early stopping had monitored nothing, so the validation
    # error was infinite, no configuration was "best" and the cell failed
    warm = dataclasses.replace(fc.SCALES["smoke"], finetune_epochs=5, warmup=5)
    data = fc._on_device(fc.load_arrays("rectangles", warm), torch.device("cpu"))
    fit = fc.fit_network(data, "none", 1, {"lr": 0.05}, warm, device="cpu", seed=0, deadline=time.time() - 1)
    assert fit["cut_short"] and fit["epochs_run"] == 1 and fit["best_epoch"] == 1
    assert 0 <= fit["validation_error"] <= 100
    accuracy = fit["trainer"].evaluate(data[1])["accuracy"]
    assert fit["validation_error"] == pytest.approx(100 * (1 - accuracy))  # the last epoch's, evaluated again


def test_the_pages_print_measured_beside_published():
    record = {
        "cell": "mnist_basic/denoising_autoencoder/3",
        "status": "done",
        "test_error": 3.5,
        "test_interval95": 0.36,
        "validation_error": 3.1,
        "grid": [{}],
        "chosen": {"lr": 0.05, "noise": 0.1},
    }
    text = vincent_sda.page({record["cell"]: record}, fc.SCALES["small"])
    assert "| basic | - | 3.03 ± 0.15 | - | 3.46 ± 0.16 | - | 3.11 ± 0.15 | 3.50 ± 0.36 | 2.80 ± 0.14 |" in text
    assert "small scale" in text and "validation set only" in text
    none = {**record, "cell": "mnist_rot/none/2", "test_error": 11.0}
    depth = depth_pretraining.page({none["cell"]: none}, fc.SCALES["paper"])
    assert "| 2 | 11.00 ± 0.36 | 10.63 ± 0.27 |" in depth and "+0.37 points, within 0.5" in depth


def test_the_headline_check_reads_the_measured_rows():
    errors = {"svm_rbf": 14.0, "autoencoder": 11.0, "rbm": 7.0, "denoising_autoencoder": 10.0}
    results = {}
    for method, error in errors.items():
        cell = fc.Cell("mnist_bg_rand", method, 0 if method == "svm_rbf" else 3)
        results[cell.key] = {"cell": cell.key, "status": "done", "test_error": error, "test_interval95": 0.3}
    lines = vincent_sda._headline(results)
    assert "- bg-rand: best DBN-3; SdA-3 best or tied: no" in lines
    assert "  - DBN-3 best on bg-rand (the paper's exception): yes" in lines
    assert lines[-1].startswith("- SdA-3 best or tied on 0 of 1 complete rows")


def test_a_failing_cell_is_recorded_and_the_run_goes_on(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no such device")

    monkeypatch.setattr(fc, "run_cell", broken)
    record = fc._run_cell_star((fc.Cell("convex", "rbm", 3), fc.SCALES["smoke"], "cuda", math.inf, 0, None))
    assert record["status"] == "failed" and "RuntimeError: no such device" in record["error"]
    assert record["scale"] == "smoke"  # the scale's name: the record goes into the JSON
    assert fc.measured({record["cell"]: record}, fc.Cell("convex", "rbm", 3)) is None


def _run_json(path, cells, scale="paper"):
    from lamina import jsonio

    cells = {key: {**record, "cell": key} for key, record in cells.items()}
    path.write_text(jsonio.dumps({"command": f"python -m x {path.name}", "scale": {"name": scale}, "cells": cells}))
    return path


def _cell(validation, test, lrs, status="done"):
    grid = [{"lr": lr, "validation_error": validation + i} for i, lr in enumerate(lrs)]
    return {
        "status": status,
        "validation_error": validation,
        "test_error": test,
        "test_interval95": fc.interval95(test, 50000),
        "grid": grid,
        "chosen": grid[0],
    }


def test_merged_runs_keep_the_lowest_validation_record_and_every_grid_point(tmp_path):
    a = _run_json(
        tmp_path / "a.json",
        {
            "mnist_rot/none/3": _cell(4.0, 14.0, [0.03, 0.01]),
            "mnist_rot/rbm/3": _cell(3.0, 11.0, [0.05], status="not_reached"),
            "convex/svm_rbf/0": _cell(20.0, 21.0, [0.1]),
        },
    )
    b = _run_json(
        tmp_path / "b.json", {"mnist_rot/none/3": _cell(3.5, 15.0, [0.05]), "mnist_rot/rbm/3": _cell(3.0, 9.0, [0.05])}
    )
    results, runs = fc.merge_runs([a, b], {c.key for c in depth_pretraining.cells()})
    assert set(results) == {"mnist_rot/none/3", "mnist_rot/rbm/3"}  # another table's cell and unfinished ones out
    none = results["mnist_rot/none/3"]
    assert (none["validation_error"], none["test_error"]) == (3.5, 15.0)  # validation decides, not the lower test
    assert [(p["lr"], p["run"]) for p in none["grid"]] == [(0.03, 0), (0.01, 0), (0.05, 1)]
    assert results["mnist_rot/rbm/3"]["test_error"] == 9.0
    assert [r["cells"] for r in runs] == [["mnist_rot/none/3"], ["mnist_rot/none/3", "mnist_rot/rbm/3"]]
    assert results["mnist_rot/none/3"]["chosen"]["run"] == 1  # the run that measured the chosen point
    page = depth_pretraining.page(
        results, fc.SCALES["paper"], [f"run {i}: `{r['command']}`" for i, r in enumerate(runs)]
    )
    assert "Runs joined with `--merge`" in page and "run 1: `python -m x b.json`" in page
    assert "mnist_rot/none/3: lr 0.05, run 1; validation error 3.50% (3 tried)" in page
    cut = _run_json(tmp_path / "cut.json", {"mnist_rot/rbm/3": _cell(3.0, 9.0, [0.05], status="cut_short")})
    whole = _run_json(tmp_path / "whole.json", {"mnist_rot/rbm/3": _cell(3.0, 9.0, [0.05, 0.01])})
    for order in ([cut, whole], [whole, cut]):  # a tie on validation: the search that finished is the record
        assert fc.merge_runs(order, {"mnist_rot/rbm/3"})[0]["mnist_rot/rbm/3"]["status"] == "done"
    small = _run_json(tmp_path / "small.json", {}, scale="small")
    with pytest.raises(SystemExit, match="small-scale run"):
        fc.merge_runs([a, small], {"mnist_rot/none/3"})
