"""The max-norm constraint (Srivastava et al., 2014): the projection against a hand-written renormalisation, the
layer option, and the trainer applying it after every optimizer step."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lamina
import lamina.data
from lamina.errors import ConfigError
from lamina.nn import apply_max_norm, build_model, enforce_max_norm, max_norm_
from lamina.nn.activations import ScaledTanh
from lamina.nn.max_norm import constrained_weights


def _renorm_by_hand(w: torch.Tensor, c: float) -> torch.Tensor:
    """Each row (unit) of ``w`` scaled to norm ``c`` if it is longer, written out row by row."""
    rows = []
    for row in w.reshape(len(w), -1):
        norm = float(torch.sqrt((row.double() ** 2).sum()))
        rows.append(row * (c / norm) if norm > c else row)
    return torch.stack(rows).reshape(w.shape)


@pytest.mark.parametrize("shape", [(7, 5), (4, 3, 2, 2)])
def test_projection_matches_a_hand_written_renormalisation(shape):
    w = torch.randn(*shape, generator=torch.Generator().manual_seed(0)) * 2
    w[0] *= 0.01  # one unit well inside the ball
    c = 1.5
    expected = _renorm_by_hand(w.clone(), c)
    out = max_norm_(w, c)
    assert out is w
    torch.testing.assert_close(w, expected)
    norms = w.flatten(1).norm(dim=1)
    assert (norms <= c * (1 + 1e-6)).all()
    assert (norms > c * 0.999).sum() == (expected.flatten(1).norm(dim=1) > c * 0.999).sum() > 0


def test_rows_inside_the_ball_are_left_bit_for_bit():
    w = torch.randn(6, 10, generator=torch.Generator().manual_seed(1))
    norms = w.norm(dim=1)
    c = float(norms.median())
    before = w.clone()
    max_norm_(w, c)
    inside = norms <= c
    assert inside.any() and (~inside).any()
    assert torch.equal(w[inside], before[inside])
    torch.testing.assert_close(w[~inside].norm(dim=1), torch.full(((~inside).sum(),), c))
    zero = torch.zeros(2, 3)
    assert torch.equal(max_norm_(zero, 1.0), torch.zeros(2, 3))  # no division by zero


def test_trainer_projects_after_every_step_and_only_the_constrained_layer():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    apply_max_norm(model[0], 0.3)
    x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    data = lamina.data.ArrayDataset(x, y)
    seen = []

    class Watch(lamina.Callback):
        def on_batch_end(self, trainer, step, loss):
            seen.append(float(model[0].weight.detach().norm(dim=1).max()))

    trainer = lamina.Trainer(
        model, optimizer={"type": "sgd", "lr": 5.0}, epochs=2, batch_size=16, device="cpu", verbose=0,
        callbacks=[Watch()],
    )  # fmt: skip
    trainer.fit(data)
    assert len(seen) == 8 and max(seen) <= 0.3 * (1 + 1e-6)
    assert float(model[2].weight.detach().norm(dim=1).max()) > 0.3  # the unconstrained layer grew past it


def test_one_trainer_step_equals_sgd_then_the_hand_written_projection():
    torch.manual_seed(0)
    model = nn.Linear(5, 4)
    reference = nn.Linear(5, 4)
    reference.load_state_dict(model.state_dict())
    apply_max_norm(model, 0.5)
    x, y = torch.randn(8, 5), torch.randint(0, 4, (8,))
    trainer = lamina.Trainer(
        model, optimizer={"type": "sgd", "lr": 3.0}, epochs=1, batch_size=8, device="cpu", verbose=0, shuffle=False
    )
    trainer.fit(lamina.data.ArrayDataset(x, y))
    opt = torch.optim.SGD(reference.parameters(), lr=3.0)
    nn.functional.cross_entropy(reference(x), y).backward()
    opt.step()
    with torch.no_grad():
        expected = _renorm_by_hand(reference.weight.clone(), 0.5)
    torch.testing.assert_close(model.weight.detach(), expected)
    torch.testing.assert_close(model.bias.detach(), reference.bias.detach())  # biases are not constrained


def test_layer_option_from_the_experiment_table():
    layers = [{"type": "dense", "units": 6, "activation": "relu", "max_norm": 3.5}, {"type": "dense", "units": 2}]
    model = build_model({"layers": layers}, (4,))
    constrained = [c for m in model.modules() for c in getattr(m, "max_norm_constraints", {}).values()]
    assert constrained == [3.5]
    conv = build_model([{"type": "conv2d", "filters": 3, "kernel_size": 3, "max_norm": 2.0}], (1, 8, 8))
    ((weight, c),) = constrained_weights(conv)
    assert c == 2.0 and weight.dim() == 4


def test_bad_options_are_refused_with_the_field_named():
    with pytest.raises(ConfigError, match="max_norm"):
        build_model([{"type": "dense", "units": 2, "max_norm": 0}], (3,))
    with pytest.raises(ConfigError, match="weight_norm"):
        build_model([{"type": "dense", "units": 2, "max_norm": 1.0, "weight_norm": True}], (3,))
    with pytest.raises(ValueError, match="positive finite"):
        apply_max_norm(nn.Linear(2, 2), -1.0)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        apply_max_norm(nn.LayerNorm(3), 1.0)


def test_enforce_for_a_hand_written_loop():
    model = nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2))
    apply_max_norm(model[1], 0.1)
    with torch.no_grad():
        model[1].weight.mul_(100)
    enforce_max_norm(model)
    assert float(model[1].weight.detach().norm(dim=1).max()) <= 0.1 * (1 + 1e-6)


def test_scaled_tanh_is_lecuns_function():
    x = torch.linspace(-3, 3, 13)
    f = ScaledTanh().module()
    torch.testing.assert_close(f(x), 1.7159 * torch.tanh(2 * x / 3))
    torch.testing.assert_close(f(torch.tensor([1.0, -1.0])), torch.tensor([1.0, -1.0]), atol=2e-4, rtol=0)
