"""Multi-label and multi-task losses against hand-computed log losses; tuple outputs and targets through the
trainer; a two-input, two-head DAG trained from TOML; heads without a loss or a target."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import lamina
from lamina.data import ArrayDataset
from lamina.errors import ConfigError
from lamina.registry import resolve


def _log_loss(logit: float, target: float) -> float:
    p = 1 / (1 + math.exp(-logit))
    return -(target * math.log(p) + (1 - target) * math.log(1 - p))


def test_multi_label_loss_is_the_sum_of_per_class_log_losses():
    logits = torch.tensor([[2.0, -1.0, 0.5], [-0.3, 0.0, 4.0]], dtype=torch.float64)
    targets = torch.tensor([[1, 0, 0], [1, 1, 1]])
    expected = sum(sum(_log_loss(float(l), float(t)) for l, t in zip(row, trow)) for row, trow in zip(logits, targets))
    loss = resolve("loss", "multi_label").build()(logits, targets)
    assert float(loss) == pytest.approx(expected / 2, rel=1e-12)


def test_multi_label_metrics():
    from lamina.losses.multi_label import SubsetAccuracy
    from lamina.metrics.standard import Accuracy

    logits = torch.tensor([[2.0, -1.0, 0.5], [-0.3, 0.2, 4.0]])
    targets = torch.tensor([[1, 0, 1], [1, 1, 1]])
    subset, per_label = SubsetAccuracy(), Accuracy()
    subset.update(logits, targets)
    per_label.update(logits, targets)
    assert subset.compute() == 0.5 and per_label.compute() == pytest.approx(5 / 6)


def test_multi_label_training_learns_independent_labels():
    torch.manual_seed(0)
    x = torch.randn(512, 4)
    y = torch.stack([x[:, 0] > 0, x[:, 1] + x[:, 2] > 0, x[:, 3] < 0.5], dim=1).float()  # 3 labels, any subset
    trainer = lamina.Trainer(
        nn.Linear(4, 3), loss="multi_label", optimizer={"type": "adam", "lr": 0.05}, epochs=15, batch_size=64
    )
    trainer.fit(ArrayDataset(x, y))
    results = trainer.evaluate(ArrayDataset(x, y))
    assert results["accuracy"] > 0.95 and results["subset_accuracy"] > 0.85


def _two_head_loss(**head1):
    return resolve(
        "loss",
        {
            "type": "multi_task",
            "heads": [
                {"name": "digit", "loss": "cross_entropy"},
                {"name": "parity", "loss": "binary_cross_entropy", "weight": 0.5, **head1},
            ],
        },
    )


def test_multi_task_loss_is_the_weighted_sum_of_the_heads():
    g = torch.Generator().manual_seed(0)
    digit_logits, parity_logits = torch.randn(4, 10, generator=g), torch.randn(4, 1, generator=g)
    digits, parity = torch.tensor([3, 1, 4, 1]), torch.tensor([1.0, 1.0, 0.0, 1.0])
    loss = _two_head_loss().build()((digit_logits, parity_logits), (digits, parity))
    ce = -torch.log_softmax(digit_logits, 1)[torch.arange(4), digits].mean()
    bce = sum(_log_loss(float(z), float(t)) for z, t in zip(parity_logits[:, 0], parity)) / 4
    assert float(loss) == pytest.approx(float(ce) + 0.5 * bce, rel=1e-6)


def test_heads_log_their_own_loss_and_metrics():
    metrics = _two_head_loss().default_metrics
    assert [m.name for m in metrics] == ["digit_loss", "digit_accuracy", "parity_loss", "parity_accuracy"]


def test_auxiliary_heads_share_a_single_target():
    spec = resolve(
        "loss",
        {
            "type": "multi_task",
            "heads": [
                {"name": "main", "loss": "cross_entropy"},
                {"name": "aux", "loss": "cross_entropy", "weight": 0.3},
            ],
        },
    )
    main, aux, y = torch.randn(5, 3), torch.randn(5, 3), torch.randint(0, 3, (5,))
    ce = nn.CrossEntropyLoss()
    torch.testing.assert_close(spec.build()((main, aux), y), ce(main, y) + 0.3 * ce(aux, y))


def test_trainer_with_two_inputs_and_two_targets():
    torch.manual_seed(0)
    a, b = torch.randn(256, 3), torch.randn(256, 2)
    y1, y2 = (a.sum(1) > 0).long(), b[:, :1] * 2 - 1  # a class from input a, a regression target from input b
    model = lamina.build_model(
        {
            "inputs": ["a", "b"],
            "outputs": ["cls", "reg"],
            "nodes": [
                {"name": "cls", "type": "dense", "units": 2, "inputs": ["a"]},
                {"name": "reg", "type": "dense", "units": 1, "inputs": ["b"]},
            ],
        },
        {"a": (3,), "b": (2,)},
    )
    data = ArrayDataset([a, b], (y1, y2))
    loss = {
        "type": "multi_task",
        "heads": [{"name": "cls", "loss": "cross_entropy"}, {"name": "reg", "loss": "mse", "metrics": ["mae"]}],
    }
    trainer = lamina.Trainer(model, loss=loss, optimizer={"type": "adam", "lr": 0.1}, epochs=12, batch_size=32)
    history = trainer.fit(data, data.subset(slice(0, 64)))
    last = history[-1]
    assert {"cls_loss", "cls_accuracy", "reg_loss", "reg_mae", "val_reg_mae"} <= set(last)
    assert last["cls_accuracy"] > 0.95 and last["reg_mae"] < 0.05
    assert last["loss"] == pytest.approx(last["cls_loss"] + last["reg_loss"], rel=1e-5)  # same batches, same sum
    cls_out, reg_out = trainer.predict(data)
    assert cls_out.shape == (256, 2) and reg_out.shape == (256, 1)


def test_plain_metrics_with_a_multi_task_loss_are_refused():
    with pytest.raises(ConfigError, match=r"train.metrics: a multi-task loss logs metrics per head"):
        lamina.Trainer(nn.Linear(2, 2), loss=_two_head_loss(), metrics=["accuracy"])


def test_a_head_without_a_loss_is_a_config_error():
    with pytest.raises(ConfigError, match=r"train.loss.heads\[1\].loss: required, but missing"):
        resolve(
            "loss",
            {
                "type": "multi_task",
                "heads": [{"name": "digit", "loss": "cross_entropy"}, {"name": "parity", "weight": 0.5}],
            },
            path="train.loss",
        )


def test_a_head_without_a_target_names_the_head():
    loss = _two_head_loss(target=2).build()
    with pytest.raises(
        ConfigError,
        match=r"head 'parity' has no target: it reads target 2, but the data gives 2 "
        r"target\(s\)",
    ):
        loss((torch.randn(3, 10), torch.randn(3, 1)), (torch.tensor([1, 2, 3]), torch.ones(3)))


def test_more_heads_than_model_outputs_is_an_error():
    with pytest.raises(ConfigError, match=r"2 heads \(digit, parity\) but the model returns 1 output"):
        _two_head_loss().build()(torch.randn(3, 10), torch.tensor([1, 2, 3]))


DAG = """
name = "pairs"
[data]
name = "digit_pairs"
validation = 0.1
[model]
inputs = ["a", "b"]
outputs = ["digit", "greater"]
[[model.nodes]]
name = "fa"
type = "flatten"
inputs = ["a"]
[[model.nodes]]
name = "fb"
type = "flatten"
inputs = ["b"]
[[model.nodes]]
name = "digit"
type = "dense"
units = 10
inputs = ["fa"]
[[model.nodes]]
name = "both"
type = "concat"
inputs = ["fa", "fb"]
[[model.nodes]]
name = "hidden"
type = "highway"
[[model.nodes]]
name = "greater"
type = "dense"
units = 1
inputs = ["hidden"]
[train]
epochs = 5
batch_size = 64
optimizer = { type = "adam", lr = 1e-2 }
loss = { type = "multi_task", heads = [
  { name = "digit", loss = "cross_entropy" },
  { name = "greater", loss = "binary_cross_entropy", weight = 0.5 },
] }
"""


def test_two_input_two_head_dag_trains_from_toml(tmp_path):
    path = tmp_path / "pairs.toml"
    path.write_text(DAG)
    run = lamina.train(path, out=tmp_path / "runs", progress="none")
    test = run.summary["test"]
    assert run.summary["status"] == "completed"
    assert test["digit_accuracy"] > 0.85 and test["greater_accuracy"] > 0.6
    assert test["loss"] == pytest.approx(test["digit_loss"] + 0.5 * test["greater_loss"], rel=1e-4)
    assert (run.dir / "plots" / "greater_accuracy.png").is_file()
    reopened = lamina.Run.open(run.dir).evaluate("test")  # the model rebuilds from the run folder's two input shapes
    assert reopened["digit_accuracy"] == pytest.approx(test["digit_accuracy"])


def test_the_example_file_validates():
    exp = lamina.load_experiment("examples/digit_pairs_multitask.toml")
    assert [h.name for h in exp.train.loss.heads] == exp.model.outputs == ["digit", "greater"]


AUX = """
[data]
name = "digits"
[model]
outputs = ["main", "aux"]
[[model.nodes]]
name = "flat"
type = "flatten"
[[model.nodes]]
name = "hidden"
type = "dense"
units = 32
activation = "relu"
[[model.nodes]]
name = "main"
type = "dense"
units = 10
inputs = ["hidden"]
[[model.nodes]]
name = "aux"
type = "dense"
units = 10
inputs = ["flat"]
[train]
epochs = 3
optimizer = { type = "adam", lr = 1e-2 }
loss = { type = "multi_task", heads = [
  { name = "main", loss = "cross_entropy" },
  { name = "aux", loss = "cross_entropy", weight = 0.3 },
] }
"""


def test_auxiliary_head_run_trains_and_predicts_the_main_output(tmp_path):
    import numpy as np
    from typer.testing import CliRunner

    from lamina.cli import app

    (tmp_path / "aux.toml").write_text(AUX)
    run = lamina.train(tmp_path / "aux.toml", out=tmp_path / "runs", progress="none")
    assert {"main_accuracy", "aux_accuracy"} <= set(run.summary["test"]) and run.summary["test"]["main_accuracy"] > 0.8
    np.save(tmp_path / "x.npy", run.splits.test.x[:3].numpy())
    result = CliRunner().invoke(app, ["predict", str(run.dir), str(tmp_path / "x.npy")])
    assert result.exit_code == 0 and "2 outputs; showing the first" in result.output
