"""gradient_flow against back-propagation written out by hand; the sigmoid's 1/4 bound on random nets; the
callback against gradient_flow on the same batch; bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

import lamina
from lamina.data import ArrayDataset
from lamina.diagnostics import DiagnosticsError, GradientFlowLog, LayerNotFoundError, gradient_flow
from lamina.train import Trainer


def _mlp(widths, activation, seed=0, scale=None):
    torch.manual_seed(seed)
    layers = [{"type": "dense", "units": w, "activation": activation} for w in widths[1:-1]]
    model = lamina.build_model(layers + [{"type": "dense", "units": widths[-1]}], (widths[0],)).double()
    if scale is not None:
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(scale)
    return model


def test_deltas_and_weight_gradients_match_backprop_written_out():
    model = _mlp([5, 7, 6, 3], "sigmoid")
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(8, 5, generator=g, dtype=torch.float64), torch.randint(0, 3, (8,), generator=g)
    flow = gradient_flow(model, (x, y))
    # forward and backward by the textbook formulas, in numpy
    Ws = [m.weight.detach().numpy() for m in model.modules() if isinstance(m, nn.Linear)]
    bs = [m.bias.detach().numpy() for m in model.modules() if isinstance(m, nn.Linear)]
    hs, zs = [x.numpy()], []
    for i, (W, b) in enumerate(zip(Ws, bs)):
        zs.append(hs[-1] @ W.T + b)
        hs.append(1 / (1 + np.exp(-zs[-1])) if i < len(Ws) - 1 else zs[-1])
    p = np.exp(zs[-1] - zs[-1].max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    deltas = [(p - np.eye(3)[y.numpy()]) / len(x)]  # d mean CE / d logits
    for i in range(len(Ws) - 2, -1, -1):
        s = hs[i + 1]
        deltas.insert(0, s * (1 - s) * (deltas[0] @ Ws[i + 1]))
    assert [r.name for r in flow.layers] == ["dense_0", "dense_1", "dense_2"]
    for row, delta, h, W in zip(flow.layers, deltas, hs, Ws):
        assert row.delta_norm == pytest.approx(np.linalg.norm(delta), rel=1e-10)
        assert row.grad_norm == pytest.approx(np.linalg.norm(delta.T @ h), rel=1e-10)
        assert row.weight_norm == pytest.approx(np.linalg.norm(W), rel=1e-12)
        assert row.ratio == pytest.approx(np.linalg.norm(delta.T @ h) / np.linalg.norm(W), rel=1e-10)
        assert row.bias_grad_norm == pytest.approx(np.linalg.norm(delta.sum(0)), rel=1e-10)
    ce = -np.log(p[np.arange(8), y.numpy()]).mean()
    assert flow.loss == pytest.approx(ce, rel=1e-10)
    assert all(p.grad is None for p in model.parameters())  # the model's .grad fields are left alone


def test_sigmoid_delta_shrinks_by_at_most_a_quarter_of_the_weight_norm_on_random_nets():
    rng = np.random.default_rng(0)
    ratios = []
    for trial in range(15):
        depth = int(rng.integers(2, 6))
        widths = [int(w) for w in rng.integers(2, 20, size=depth + 2)]
        model = _mlp(widths, "sigmoid", seed=trial, scale=float(rng.uniform(0.2, 8.0)))
        x = torch.randn(int(rng.integers(1, 16)), widths[0], dtype=torch.float64)
        y = torch.randint(0, widths[-1], (len(x),))
        flow = gradient_flow(model, (x, y))
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        for lower, upper, W in zip(flow.layers, flow.layers[1:], linears[1:]):
            bound = 0.25 * torch.linalg.matrix_norm(W.weight.detach(), ord=2).item() * upper.delta_norm
            assert lower.delta_norm <= bound * (1 + 1e-12)
            ratios.append(lower.delta_norm / bound)
    assert max(ratios) > 0.3  # the bound is not vacuous: some layers come close to it


def test_restricting_to_named_layers_and_the_plot(tmp_path):
    model = _mlp([4, 6, 5, 2], "tanh")
    batch = (torch.randn(10, 4, dtype=torch.float64), torch.randn(10, 2, dtype=torch.float64))
    full = gradient_flow(model, batch)  # float targets: mean squared error
    part = gradient_flow(model, batch, layers=["dense_2", "dense_0"])
    assert [r.name for r in part.layers] == ["dense_2", "dense_0"]
    assert part["dense_0"].grad_norm == pytest.approx(full["dense_0"].grad_norm)
    assert "dense_1" in full.table() and "||dL/dW||/||W||" in full.table()
    path = full.plot(tmp_path / "flow.png", title="test")
    assert path.is_file() and path.stat().st_size > 10_000
    json.dumps(full.to_dict())


def test_callback_record_at_step_1_equals_gradient_flow_on_that_batch(tmp_path):
    torch.manual_seed(0)
    model = lamina.build_model(
        [{"type": "dense", "units": 6, "activation": "sigmoid"}, {"type": "dense", "units": 3}], (4,)
    )
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    expected = gradient_flow(model, (x, y))  # full batch: the first step sees all of it, in any order
    weights = {n: m.weight.detach().clone() for n, m in [("dense_0", model[0][0]), ("dense_1", model[1])]}
    lr = 0.3
    log = GradientFlowLog(every=2, folder=tmp_path)
    Trainer(model, optimizer={"type": "sgd", "lr": lr}, epochs=5, batch_size=16, callbacks=[log], seed=0).fit(
        ArrayDataset(x, y)
    )
    lines = [json.loads(s) for s in (tmp_path / "gradient_flow.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [1, 2, 4] and lines == log.records
    first = lines[0]["layers"]
    for row in expected.layers:
        got = first[row.name]
        assert got["delta_norm"] == pytest.approx(row.delta_norm, rel=1e-5)
        assert got["grad_norm"] == pytest.approx(row.grad_norm, rel=1e-5)
        assert got["weight_norm"] == pytest.approx(weights[row.name].norm().item(), rel=1e-6)
        # plain SGD moves the weights by lr * gradient
        assert got["update_ratio"] == pytest.approx(lr * row.grad_norm / row.weight_norm, rel=1e-4)
    assert (tmp_path / "plots" / "gradient_flow_during_training.png").is_file()
    assert (tmp_path / "plots" / "update_ratio_during_training.png").is_file()


def test_resumed_callback_drops_records_past_the_checkpoint(tmp_path):
    path = tmp_path / "gradient_flow.jsonl"
    path.write_text("".join(json.dumps({"step": s, "layers": {}}) + "\n" for s in (1, 5, 10, 15)))

    class Resumed:
        step, epoch, model = 10, 2, nn.Linear(2, 2)

    log = GradientFlowLog(every=5, folder=tmp_path)
    log.on_train_begin(Resumed())
    assert [r["step"] for r in log.records] == [1, 5, 10]
    assert len(path.read_text().splitlines()) == 3
    log.on_train_end(Resumed())


def test_callback_spec_from_a_config():
    spec = lamina.resolve("callback", {"type": "gradient_flow", "every": 20, "layers": ["dense_0"]})
    log = spec.build()
    assert isinstance(log, GradientFlowLog) and log.every == 20 and log.layers == ["dense_0"]
    assert spec.to_config() == {"type": "gradient_flow", "every": 20, "layers": ["dense_0"]}
    with pytest.raises(lamina.ConfigError, match=r"train.callbacks\[0\].every: expected an integer >= 1, got 0"):
        lamina.resolve("callback", {"type": "gradient_flow", "every": 0}, path="train.callbacks[0]")


def test_bad_input_is_named():
    model = lamina.build_model(
        [{"type": "flatten"}, {"type": "dense", "units": 3, "activation": "relu"}, {"type": "dense", "units": 2}],
        (1, 2, 2),
    )
    batch = (torch.randn(4, 1, 2, 2), torch.tensor([0, 1, 0, 1]))
    with pytest.raises(
        DiagnosticsError, match="gradient_flow needs a model with trainable parameters; Sequential has none"
    ):
        gradient_flow(nn.Sequential(nn.ReLU(), nn.Flatten()), batch)
    with pytest.raises(
        lamina.ShapeError,
        match=r"expects inputs of shape \(N, 1, 2, 2\) \(one example: \(1, 2, 2\)\), "
        r"got a batch of shape \(4, 4\)",
    ):
        gradient_flow(model, (torch.randn(4, 4), batch[1]))
    with pytest.raises(
        LayerNotFoundError,
        match=r"no layer 'dense_9' in the model; did you mean 'dense_2'\? its layers "
        r"are: flatten_0, dense_1, dense_2",
    ):
        gradient_flow(model, batch, layers=["dense_9"])
    with pytest.raises(DiagnosticsError, match="layer 'flatten_0' \\(Flatten\\) has no trainable parameters"):
        gradient_flow(model, batch, layers=["flatten_0"])
    with pytest.raises(DiagnosticsError, match="the batch has no targets"):
        gradient_flow(model, batch[0])
    # float64 inputs to a float32 model are measured in the model's dtype, not refused
    assert gradient_flow(model, (batch[0].double(), batch[1])).to_dict() == gradient_flow(model, batch).to_dict()
