"""The shared pieces of the CURVES / FACES / Hessian-free tables (``benchmarks.autoencoder_tables``,
``benchmarks.martens_hf_curves``), each against an independent oracle: PCA against scikit-learn's, the squared
error against a hand sum, the logits net against the deep autoencoder it copies, L-BFGS's schedule against its
starting loss, and the time-boxed pretraining against its budget."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch.nn import functional as F

from benchmarks.autoencoder_tables import PCA, Deadline, ResultFile, pretrain_stack, seeded_model, squared_error
from benchmarks.martens_hf_curves import TASKS, LBFGSMethod, checks_of, error_of, logits_net, make_method, merge


def test_pca_matches_scikit_learn():
    from sklearn.decomposition import PCA as SkPCA

    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 12, generator=g) @ torch.randn(12, 12, generator=g)
    ours = PCA(x, 3).reconstruct(x[:20])
    sk = SkPCA(3).fit(x.numpy())
    theirs = torch.from_numpy(sk.inverse_transform(sk.transform(x[:20].numpy()))).float()
    torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=1e-4)


def test_squared_error_sums_pixels_and_averages_images():
    x = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.5, 0.5]])
    # reconstruction 0 everywhere: (1 + 0 + 0.5) / 3, in batches of 2 (the last batch shorter)
    assert squared_error(torch.zeros_like, x, batch=2) == pytest.approx(1.5 / 3)


def test_logits_net_reconstructs_like_the_deep_autoencoder():
    model = seeded_model([16, 8, 4, 2], 0, torch.device("cpu"), activation="sigmoid", code_activation="identity")
    net = logits_net(model, [16, 8, 4, 2])
    x = torch.rand(5, 16, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(torch.sigmoid(net(x)), model.reconstruct(x))
    assert error_of(net, x) == pytest.approx(squared_error(model.reconstruct, x), rel=1e-5)


def test_lbfgs_schedule_lowers_the_loss_of_its_batch():
    model = seeded_model([16, 8, 2], 0, torch.device("cpu"), activation="sigmoid", code_activation="identity")
    net = logits_net(model, [16, 8, 2])
    x = (torch.rand(50, 16, generator=torch.Generator().manual_seed(2)) > 0.5).float()
    with torch.no_grad():
        before = float(F.binary_cross_entropy_with_logits(net(x), x))
    LBFGSMethod(net, x, torch.Generator().manual_seed(3), batch=50, iterations=3).work()
    with torch.no_grad():
        assert float(F.binary_cross_entropy_with_logits(net(x), x)) < before


def test_each_row_of_martens_table_measures_and_minimises_its_own_loss():
    from benchmarks.hessian_free import autoencoder

    faces, curves = TASKS["faces"], TASKS["curves"]
    assert (faces.bottom, faces.validation, curves.bottom) == ("gaussian_rbm", 0, "rbm")  # FACES: its own split
    x = torch.randn(64, 16, generator=torch.Generator().manual_seed(7))  # standardised pixels, not in [0, 1]
    net = autoencoder([16, 8, 2])
    with torch.no_grad():
        out = net(x)
    # the squared error of the raw outputs (linear units) for FACES, of their logistic for CURVES: hand sums
    assert error_of(net, x, faces) == pytest.approx(float((out - x).pow(2).sum()) / 64, rel=1e-5)
    assert error_of(net, x, curves) == pytest.approx(float((torch.sigmoid(out) - x).pow(2).sum()) / 64, rel=1e-5)
    scale = {"hf_batch": 64, "curvature": 0.5, "cg_max_iter": 5}
    for name in ("rand_hf", "pt_lbfgs", "rand_adam"):  # each loop lowers the squared error it is given
        net = autoencoder([16, 8, 2])
        with torch.no_grad():
            before = float(F.mse_loss(net(x), x))
        make_method(name, net, x, 0, scale, 1e-2, faces).work()
        with torch.no_grad():
            assert float(F.mse_loss(net(x), x)) < before, name
    table = {"rand_hf": {"train": 2.0}, "rand_adam": {"train": 3.0}}
    assert checks_of(table, "faces") == {"rand_hf_train_below_rand_adam": True}  # the 0.3 target is CURVES'
    assert checks_of(table)["rand_hf_train_at_most_0.3"] is False


def test_hf_state_beside_each_evaluation_follows_the_levenberg_marquardt_rule():
    from benchmarks.hessian_free import Method, autoencoder

    x = (torch.rand(64, 16, generator=torch.Generator().manual_seed(5)) > 0.5).float()
    scale = {"hf_batch": 64, "curvature": 0.5, "cg_max_iter": 5}
    hf = Method("hf", autoencoder([16, 8, 2]), x, torch.Generator().manual_seed(6), scale, 1.0)
    assert hf.optimizer_state() == {}  # no step yet
    hf.work()
    state = hf.optimizer_state()
    assert 1 <= state["cg_iterations"] <= 5 and 0 < state["step_size"] <= 1
    # the damping started at 0.05: x 3/2 below rho 1/4 (or rho not finite, so not recorded), x 2/3 above 3/4, else
    # kept (Martens 2010, section 4.1)
    rho = state.get("rho", -math.inf)
    expected = 0.05 * (1.5 if rho < 0.25 else 2 / 3 if rho > 0.75 else 1.0)
    assert state["damping"] == pytest.approx(expected)
    adam = Method("adam", autoencoder([16, 8, 2]), x, torch.Generator().manual_seed(6), scale, 1e-3)
    adam.work()
    assert adam.optimizer_state() == {}


def test_pretraining_stops_each_layer_at_its_share_of_the_budget():
    model = seeded_model([16, 8, 2], 0, torch.device("cpu"), activation="sigmoid", code_activation="identity")
    x = torch.rand(64, 16, generator=torch.Generator().manual_seed(4))
    summary = pretrain_stack(
        model, x, bottom="rbm", epochs=1000, batch_size=32, device=torch.device("cpu"), seed=0, seconds=0.0
    )
    assert [layer["epochs"] for layer in summary] == [1, 1]  # a zero budget: one epoch per layer, not 1000
    assert not torch.equal(
        model.encoder.dense_0.linear.weight,
        seeded_model([16, 8, 2], 0, torch.device("cpu")).encoder.dense_0.linear.weight,
    )


def test_result_file_is_rewritten_with_each_update(tmp_path):
    out = ResultFile("table", tmp_path)
    out.update(status="running")
    out.update(status="done", error=float("nan"))
    record = json.loads((tmp_path / "table.json").read_text())
    assert record["status"] == "done" and record["error"] == "nan" and "machine" in record


def test_deadline():
    assert Deadline(0).passed() and not Deadline(1).passed() and Deadline(1).left() > 59


def test_report_puts_measured_beside_published_and_names_missing_tables(tmp_path):
    from benchmarks.autoencoder_tables_report import page

    run = {
        "benchmark": "martens_hf_curves",
        "status": "done",
        "published": {"rand_hf": [0.11, 0.20]},
        "table": {"rand_hf": {"train": 0.4321, "test": 0.6543, "seconds": 60.0}},
    }
    (tmp_path / "martens_hf_curves.json").write_text(json.dumps(run))
    text = page(tmp_path)
    assert "| RAND + HF | 0.432 | 0.654 | no curve | not recorded | 0.11 / 0.2 |" in text
    assert text.count("Not run yet.") == 2  # the two autoencoder tables have no JSON here
    assert "2 hours per method on the CPU" not in text  # no CPU run here: no section for it
    cpu = {**run, "benchmark": "martens_hf_curves_cpu2h", "table": {"rand_hf": {"train": 2.5, "test": 5.25}}}
    (tmp_path / "martens_hf_curves_cpu2h.json").write_text(json.dumps(cpu))
    text = page(tmp_path)
    assert "### Martens (2010), CURVES: 2 hours per method on the CPU" in text
    assert "| RAND + HF | 2.500 | 5.250 | no curve | not recorded | 0.11 / 0.2 |" in text
    assert "martens_hf_curves_cpu2h.png" in text
    cpu_section = text[text.index("2 hours per method") :]
    assert "pretraining" not in cpu_section and "Adam" not in cpu_section  # a RAND+HF-only run has neither


def _martens_run(method: str, train: list[float], *, seconds: float = 120.0, **fields) -> dict:
    """A ``martens_hf_curves`` record of one method, its curve through ``train`` at even times."""
    curve = [{"seconds": seconds * i / (len(train) - 1), "train": t, "val": t + 1} for i, t in enumerate(train)]
    return {
        "benchmark": f"martens_hf_curves_{method}",
        "command": f"python -m benchmarks.martens_hf_curves --methods {method}",
        "date": "2026-12-05 01:00:00",
        "widths": [4, 2],
        "device": "cpu",
        "seconds_per_method": seconds,
        "hf_settings": {"hf_batch": 2000},
        "published": {"rand_hf": [0.11, 0.20], "pt_ncg": [0.74, 0.82]},
        "status": "done",
        "curves": {method: curve},
        "table": {method: {"train": train[-1], "test": train[-1] + 1, "seconds": seconds}},
        **fields,
    }


def test_merge_joins_side_by_side_runs_and_checks_across_them(tmp_path):
    from benchmarks.autoencoder_tables_report import page

    runs = {
        "rand_hf": _martens_run("rand_hf", [9.0, 1.5, 2.0]),  # ends above its lowest point
        "pt_lbfgs": _martens_run("pt_lbfgs", [9.0, 3.0, 2.5], pretrain_seconds=19.0),
        "rand_adam": _martens_run("rand_adam", [9.0, 1.0, 1.8], adam_lr={"rand_adam": 0.003}),
    }
    for point in runs["rand_adam"]["curves"]["rand_adam"]:  # a shared core: 80 CPU seconds in 120 wall seconds
        point["cpu_seconds"] = point["seconds"] * 2 / 3
    paths = []
    for method, run in runs.items():
        paths.append(tmp_path / f"{method}.json")
        paths[-1].write_text(json.dumps(run))
    record = json.loads(merge(paths, "martens_hf_curves_cpu2h", tmp_path).read_text())
    assert set(record["table"]) == set(record["curves"]) == set(runs)
    assert record["checks"] == {  # 2.0 < 2.5, 2.0 > 1.8, 2.0 > 0.3
        "rand_hf_train_below_pt_lbfgs": True,
        "rand_hf_train_below_rand_adam": False,
        "rand_hf_train_at_most_0.3": False,
    }
    assert record["pretrain_seconds"] == 19.0 and record["adam_lr"] == {"rand_adam": 0.003}
    assert [r["methods"] for r in record["runs"]] == [["rand_hf"], ["pt_lbfgs"], ["rand_adam"]]
    assert (tmp_path / "autoencoders" / "martens_hf_curves_cpu2h.png").is_file()
    text = page(tmp_path)
    assert "each its own process" in text and "--methods pt_lbfgs" in text
    assert "| RAND + HF | 2.000 | 3.000 | 1.500 at 60 s | not recorded | 0.11 / 0.2 |" in text
    assert "| RAND + Adam | 1.800 | 2.800 | 1.000 at 60 s | 80 s of 120 s | not in the paper |" in text


def test_merge_refuses_runs_with_different_budgets(tmp_path):
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    paths[0].write_text(json.dumps(_martens_run("rand_hf", [2.0, 1.0])))
    paths[1].write_text(json.dumps(_martens_run("rand_adam", [2.0, 1.0], seconds=60.0)))
    with pytest.raises(SystemExit, match="budgets differ"):
        merge(paths, "merged", tmp_path)


def test_hessian_free_fine_tuning_keeps_the_weights_of_its_best_validation_error():
    from benchmarks.autoencoder_tables import Images, finetune_hf

    g = torch.Generator().manual_seed(5)
    x = (torch.rand(120, 16, generator=g) > 0.7).float()
    data = Images(x[:80], x[80:100], x[100:], (4, 4))
    model = seeded_model([16, 8, 2], 0, torch.device("cpu"), activation="sigmoid", code_activation="identity")
    before = squared_error(model.reconstruct, data.train)
    seen = []
    fit = finetune_hf(
        model,
        data,
        batch=80,
        curvature=0.5,
        cg_max_iter=5,
        deadline=Deadline(10),  # minutes: the 3 steps stop it; the deadline only bounds a hung run
        seed=0,
        report=seen.append,
        eval_seconds=0.0,
        max_steps=3,
    )
    assert fit["epochs_run"] == 3 and len(seen) == 3 and fit["stop_reason"] == "3 steps done"
    best = min(seen, key=lambda e: e["val_squared_error"])
    assert fit["best_epoch"] == best["epoch"]
    assert squared_error(model.reconstruct, data.val) == pytest.approx(best["val_squared_error"], rel=1e-6)
    assert squared_error(model.reconstruct, data.train) < before
