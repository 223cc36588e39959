"""The shared MNIST-MLP benchmark code (``benchmarks/mnist_mlp``): the budget stops training in time, each table's
cell is a valid experiment with the options its page claims, and the learning-curve figure is drawn."""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

import torch

from benchmarks.ciresan_mlp import check_elastic
from benchmarks.dropout_mnist import layers
from benchmarks.mnist_mlp import (
    Budget,
    add_mnist_options,
    hidden_layers,
    max_hidden_unit_norm,
    mnist_experiment,
    plot_cells,
)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_mnist_options(parser)
    return parser.parse_args(list(argv))


def test_budget_stops_before_an_epoch_that_would_overrun():
    trainer = SimpleNamespace(stop_training=False, stop_reason="")
    budget = Budget(time.perf_counter() + 0.5)
    budget.on_epoch_begin(trainer, 0)
    budget.on_epoch_end(trainer, 0, {})  # an instant epoch: another one fits
    assert not trainer.stop_training
    budget.epoch_start -= 1.0  # an epoch of a second cannot repeat inside half a second
    budget.on_epoch_end(trainer, 1, {})
    assert trainer.stop_training and "budget" in trainer.stop_reason
    late = SimpleNamespace(stop_training=False, stop_reason="")
    Budget(time.perf_counter() - 1).on_batch_end(late, 50, None)
    assert late.stop_training


def test_dropout_cell_is_the_papers_network():
    args = _args("--device", "cpu")
    exp = mnist_experiment(
        "dropout_max_norm",
        layers([1024, 1024, 1024], 3.5),
        optimizer={"type": "sgd", "lr": 1.0, "momentum": 0.95, "dampening": 0.95},
        schedule={"type": "exponential", "gamma": 0.98},
        epochs=5,
        batch_size=100,
        args=args,
    )
    kinds = [
        (layer.type_name, getattr(layer, "p", None), getattr(layer, "max_norm", None)) for layer in exp.model.layers
    ]
    assert kinds == [
        ("dropout", 0.2, None),
        *[("dense", None, 3.5), ("dropout", 0.5, None)] * 3,
        ("dense", None, None),
    ]
    assert exp.data.validation == 10000 and exp.data.split_seed is None  # the last 10,000 training images
    assert exp.train.optimizer.dampening == exp.train.optimizer.momentum == 0.95
    assert exp.train.early_stopping.restore_best


def test_ciresan_cell_distorts_and_smoke_shrinks(tmp_path):
    args = _args("--smoke")
    exp = mnist_experiment(
        "mlp",
        hidden_layers([1000, 500], "scaled_tanh", init={"type": "uniform", "low": -0.05, "high": 0.05}),
        optimizer={"type": "sgd", "lr": 0.032},
        schedule=None,
        epochs=800,
        batch_size=32,
        args=args,
        augment=[{"type": "affine", "rotation": 7.5, "scale": 0.15}, {"type": "elastic", "alpha": 36.0, "sigma": 6.0}],
    )
    assert [a.type_name for a in exp.data.augment] == ["affine", "elastic"]
    assert exp.train.epochs == 1 and exp.data.train_subset == 2000
    cell = {"name": "a", "published_percent": 1.0, "history": [{"epoch": 1, "val_accuracy": 0.9, "accuracy": 0.8}]}
    assert plot_cells([cell], tmp_path / "curves.png", "t").stat().st_size > 0


def test_elastic_device_check_on_the_cpu():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small convolutions: one thread is fastest, and much faster on a busy machine
    try:
        found = check_elastic("cpu", 36.0, 6.0, repeats=1, fields=8)
    finally:
        torch.set_num_threads(threads)
    assert found["identity_at_alpha_0"] and found["affine_identity_at_0"]
    assert abs(found["field_std_ratio"] - 1) < 0.1
    assert found["max_abs_difference_device_vs_cpu"] == 0.0


def test_max_hidden_unit_norm_skips_the_output_layer():
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 2))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[3.0, 4.0, 0.0], [1.0, 0.0, 0.0]]))
        model[2].weight.fill_(100.0)
    assert max_hidden_unit_norm(model) == 5.0
