"""Synthetic gradients (decoupled neural interfaces; Jaderberg et al., 2017): the predictor's regression, the
zero-predictor and oracle-predictor updates against backprop, the decoupling, and the trainer and experiment paths."""

from __future__ import annotations

import copy
import json

import pytest
import tomllib
import torch
from torch import nn

import lamina
from lamina.data import ArrayDataset
from lamina.errors import ConfigError
from lamina.nn import SyntheticGradient, build_model
from lamina.nn.synthetic_gradient import synthetic_gradient_logs
from lamina.registry import resolve
from lamina.train.trainer import Trainer


class Fixed(nn.Module):
    """A test double for the predictor: returns a given tensor whatever ``h`` is."""

    def __init__(self, value: torch.Tensor) -> None:
        super().__init__()
        self.value = value

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.value.clone()


def _net(seed: int = 0, **options) -> nn.Sequential:
    """A decoupled block dense(6 -> 5, tanh) under a dense(5 -> 3) head."""
    torch.manual_seed(seed)
    block = nn.Sequential(nn.Linear(6, 5), nn.Tanh())
    return nn.Sequential(SyntheticGradient(block, 5, **options), nn.Linear(5, 3))


def _batch(n: int = 8):
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 6, generator=g), torch.randint(0, 3, (n,), generator=g)


def test_predictor_regresses_onto_a_known_gradient():
    # the gradient arriving from above is A h_n / N (per example A h_n): the linear predictor must become A
    torch.manual_seed(0)
    a = torch.randn(4, 4) * 0.5
    layer = SyntheticGradient(nn.Identity(), 4)
    opt = torch.optim.SGD(layer.parameters(), lr=0.2)
    for _ in range(200):
        h = torch.randn(16, 4)
        opt.zero_grad()
        out = layer(h)
        target = (h @ a.T).detach()  # the per-example gradient A h_n
        (out * target).sum().div(16).backward()  # dL/dout_n = A h_n / N
        opt.step()
    first = layer.synthetic_loss()
    assert torch.allclose(layer.predictor.net.weight, a, atol=1e-3)
    assert torch.allclose(layer.predictor.net.bias, torch.zeros(4), atol=1e-3)
    # the recorded regression loss is (1/N) sum_n ||M(h_n) - A h_n||^2, by hand on one more batch
    h = torch.randn(16, 4)
    with torch.no_grad():
        expected = (layer.predictor(h) - h @ a.T).pow(2).sum() / 16
    (layer(h) * (h @ a.T)).sum().div(16).backward()
    assert layer.synthetic_loss() == pytest.approx(float(expected), rel=1e-5)
    assert first > 0  # the mean over the 200 training batches includes the early, wrong predictions


def test_zero_predictor_leaves_the_block_unchanged_and_trains_the_layers_above():
    model = _net()
    x, y = _batch()
    before = copy.deepcopy(model.state_dict())
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    opt.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    after = model.state_dict()
    for name in ("0.block.0.weight", "0.block.0.bias"):
        assert torch.equal(before[name], after[name]), name
    for name in ("1.weight", "1.bias", "0.predictor.net.weight", "0.predictor.net.bias"):
        assert not torch.equal(before[name], after[name]), name


def test_oracle_predictor_gives_backprops_update_exactly():
    x, y = _batch(8)
    reference = _net(seed=3)
    # backprop through the plain network: the block's gradient and the gradient at its output
    plain = nn.Sequential(reference[0].block, reference[1])
    h = plain[0](x)
    h.retain_grad()
    nn.functional.cross_entropy(plain[1](h), y).backward()
    true_grads = [p.grad.clone() for p in reference[0].block.parameters()]
    per_example = h.grad * 8  # what the predictor is trained to output: N dL/dh_n

    model = _net(seed=3)
    model[0].predictor = Fixed(per_example)
    for p in model.parameters():
        p.grad = None
    nn.functional.cross_entropy(model(x), y).backward()
    for got, want in zip(model[0].block.parameters(), true_grads):
        assert torch.equal(got.grad, want)


def test_no_gradient_reaches_the_block_from_above():
    model = _net(zero_init=False)
    x, y = _batch()
    out = model(x)
    after_forward = [p.grad.clone() for p in model[0].block.parameters()]
    assert all(g.abs().sum() > 0 for g in after_forward)  # the synthetic update, made in the forward pass
    loss = nn.functional.cross_entropy(out, y)
    grads = torch.autograd.grad(loss, list(model[0].block.parameters()), allow_unused=True, retain_graph=True)
    assert all(g is None for g in grads)  # no path from the loss into the block
    loss.backward()
    assert all(torch.equal(p.grad, g) for p, g in zip(model[0].block.parameters(), after_forward))


def test_stacked_blocks_bootstrap_the_lower_target_from_the_upper_prediction():
    # the lower predictor's target is the upper synthetic gradient back-propagated through the upper block
    torch.manual_seed(0)
    lower = SyntheticGradient(nn.Linear(6, 5), 5, zero_init=False)
    upper = SyntheticGradient(nn.Linear(5, 4), 4, zero_init=False)
    x = torch.randn(8, 6)
    upper(lower(x))  # the forward pass alone trains the lower predictor
    h1 = lower.block(x).detach()
    expected_target = (upper.predictor(upper.block(h1)) / 8) @ upper.block.weight * 8  # N dL^/dh1
    with torch.no_grad():
        expected = (lower.predictor(h1) - expected_target).pow(2).sum() / 8
    assert lower.synthetic_loss() == pytest.approx(float(expected), rel=1e-5)


def test_evaluation_is_the_block_alone():
    model = _net(zero_init=False).eval()
    x, _ = _batch()
    assert torch.equal(model(x), model[1](model[0].block(x)))
    assert all(p.grad is None for p in model.parameters())


def test_spec_builds_from_a_table_and_checks_its_block():
    model = build_model(
        [{"type": "synthetic_gradient", "layers": [{"type": "dense", "units": 5, "activation": "relu"}]}], (6,)
    )
    assert isinstance(model[0], SyntheticGradient) and model[0].predictor.net.weight.shape == (5, 5)
    spec = resolve("layer", {"type": "dni", "hidden": 7, "layers": [{"type": "dense", "units": 5}]})
    assert spec.output_shape((6,)) == (5,)
    with pytest.raises(ConfigError, match="layers"):
        resolve("layer", {"type": "synthetic_gradient", "layers": []})
    with pytest.raises(ConfigError, match="hidden"):
        resolve("layer", {"type": "synthetic_gradient", "hidden": -1, "layers": [{"type": "dense", "units": 5}]})
    with pytest.raises(ValueError, match="features"):
        SyntheticGradient(nn.Identity(), 0)


def test_trainer_logs_the_predictor_loss_and_learns():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 6, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    model = build_model(
        [
            {"type": "synthetic_gradient", "layers": [{"type": "dense", "units": 16, "activation": "relu"}]},
            {"type": "synthetic_gradient", "layers": [{"type": "dense", "units": 16, "activation": "relu"}]},
            {"type": "dense", "units": 3},
        ],
        (6,),
    )
    trainer = Trainer(model, optimizer={"type": "adam", "lr": 0.01}, epochs=5, batch_size=32, verbose=0)
    history = trainer.fit(ArrayDataset(x, y))
    assert {"dni1_loss", "dni2_loss"} <= set(history[-1])
    assert history[-1]["loss"] < history[0]["loss"]
    assert synthetic_gradient_logs(model) == {}  # the trainer read (and reset) the running means


def test_fp16_autocast_is_refused_with_a_clear_error():
    model = _net()
    x, _ = _batch()
    with torch.autocast("cpu", dtype=torch.float16), pytest.raises(ConfigError, match="fp16"):
        model(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        model(x)  # bf16 needs no gradient scaler


def test_experiment_file_trains_decoupled_blocks(tmp_path):
    exp = lamina.parse_experiment(
        tomllib.loads(
            """
        name = "digits_dni"
        [data]
        name = "digits"
        flatten = true
        [model]
        layers = [
          { type = "dni", layers = [{ type = "dense", units = 32, activation = "relu" }] },
          { type = "dense", units = 10 },
        ]
        [train]
        epochs = 2
        batch_size = 64
        """
        )
    )
    run = lamina.train(exp, out=tmp_path, progress="none")
    assert run.summary["status"] == "completed"
    rows = [json.loads(line) for line in (run.dir / "metrics.jsonl").read_text().splitlines()]
    assert any("dni_loss" in row for row in rows)


# -- conditioned DNI (cDNI): the predictor also reads the one-hot label --------------------------------------------


def test_conditioned_predictor_is_a_linear_map_of_activation_and_one_hot_label():
    torch.manual_seed(0)
    layer = SyntheticGradient(nn.Identity(), 4, classes=3, zero_init=False)
    weight, bias = layer.predictor.net.weight, layer.predictor.net.bias
    assert weight.shape == (4, 4 + 3)
    h, y = torch.randn(5, 4), torch.tensor([0, 2, 1, 2, 0])
    by_hand = h @ weight[:, :4].T + weight[:, 4:][:, y].T + bias  # A h + B onehot(y) + b
    assert torch.allclose(layer.predictor(h, y), by_hand, atol=1e-6)
    soft = torch.full((5, 3), 1 / 3)  # (N, K) rows are read as they are
    assert torch.allclose(layer.predictor(h, soft), h @ weight[:, :4].T + weight[:, 4:].mean(1) + bias, atol=1e-6)


def test_conditioned_predictor_learns_a_label_dependent_gradient_the_plain_one_cannot():
    # the true per-example gradient is c_{y_n} (one vector per class), whatever h is: only the label predicts it
    torch.manual_seed(0)
    centres = torch.randn(3, 4)

    def regression_loss(classes: int) -> float:
        torch.manual_seed(1)
        layer = SyntheticGradient(nn.Identity(), 4, classes=classes)
        opt = torch.optim.SGD(layer.parameters(), lr=0.1)
        for _ in range(300):
            h, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
            opt.zero_grad()
            with lamina.nn.batch_targets(y):
                out = layer(h)
            (out * centres[y]).sum().div(32).backward()  # dL/dout_n = c_{y_n} / N
            opt.step()
        layer.synthetic_loss()  # reset; score the trained predictor on a fresh batch
        h, y = torch.randn(256, 4), torch.randint(0, 3, (256,))
        with torch.no_grad():
            got = layer.predictor(h, y) if classes else layer.predictor(h)
        return float((got - centres[y]).pow(2).sum(1).mean())

    floor = float((centres[torch.randint(0, 3, (4096,))] - centres.mean(0)).pow(2).sum(1).mean())
    assert regression_loss(3) < 1e-3  # it recovers c_y exactly
    assert regression_loss(0) > 0.5 * floor  # h carries nothing about y: at best the mean over classes


def test_conditioned_block_without_labels_or_with_wrong_labels_is_refused_clearly():
    layer = SyntheticGradient(nn.Linear(6, 5), 5, classes=3)
    x = torch.randn(4, 6)
    with pytest.raises(ConfigError, match="needs the batch's labels"):
        layer(x)
    with lamina.nn.batch_targets(torch.tensor([0, 1, 3, 0])), pytest.raises(ConfigError, match=r"0\.\.2"):
        layer(x)
    with lamina.nn.batch_targets(torch.zeros(4, 2)), pytest.raises(ConfigError, match="class indices"):
        layer(x)
    with lamina.nn.batch_targets(torch.tensor([0, 1])), pytest.raises(ConfigError, match="4 rows"):
        layer(x)
    layer.eval()
    assert layer(x).shape == (4, 5)  # evaluation is the block alone: no labels needed


def test_trainer_gives_the_conditioned_blocks_their_labels():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 6, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    model = build_model(
        [
            {"type": "dni", "classes": 3, "layers": [{"type": "dense", "units": 16, "activation": "relu"}]},
            {"type": "dense", "units": 3},
        ],
        (6,),
    )
    assert model[0].predictor.net.weight.shape == (16, 16 + 3)
    history = Trainer(model, optimizer={"type": "adam", "lr": 0.01}, epochs=4, batch_size=32, verbose=0).fit(
        ArrayDataset(x, y)
    )
    assert "dni_loss" in history[-1] and history[-1]["loss"] < history[0]["loss"]
    assert lamina.nn.targets_context.current_batch_targets() is None  # nothing left set after training
    with pytest.raises(ConfigError, match="classes"):
        resolve("layer", {"type": "dni", "classes": -1, "layers": [{"type": "dense", "units": 5}]})
