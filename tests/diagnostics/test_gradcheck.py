"""gradcheck: flags wrong backward passes and passes right ones, agreeing with torch.autograd.gradcheck."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lamina
from lamina.diagnostics import DiagnosticsError, gradcheck


class Sigmoid(torch.autograd.Function):
    """The right backward: sigma'(x) = sigma(x) (1 - sigma(x))."""

    @staticmethod
    def forward(ctx, x):
        y = torch.sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y)


class ScaledSigmoid(Sigmoid):
    """Wrong by 1%: the kind of slip a finite-difference check must catch."""

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y * (1 - y) * 1.01


class MissingFactor(Sigmoid):
    """Wrong: sigma(x) instead of sigma(x) (1 - sigma(x))."""

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class ForgotChainRule(Sigmoid):
    """Wrong: keeps only the sign of the upstream gradient. Probing with one-hot output gradients (as
    torch.autograd.gradcheck's default mode does) cannot see it: sign(e_i) = e_i."""

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad.sign() * y * (1 - y)


class Product(torch.autograd.Function):
    """x * w with the gradient for w wrong (x's is right)."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x * w

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        return grad * w, grad * w  # should be grad * x


def _torch_verdict(fn, x):
    try:
        return torch.autograd.gradcheck(fn.apply, (x.double().requires_grad_(),), eps=1e-6, atol=1e-5, rtol=1e-3)
    except RuntimeError:
        return False


@pytest.mark.parametrize("fn, right", [(Sigmoid, True), (ScaledSigmoid, False), (MissingFactor, False)])
def test_custom_function_verdict_matches_torch_gradcheck(fn, right):
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    result = gradcheck(fn, x)
    assert result.passed is right and bool(result) is right
    assert _torch_verdict(fn, x) is right  # the independent oracle agrees
    row = result.rows[0]
    assert row.name == "input[0]" and row.checked == 20
    if right:
        assert row.max_rel_error < 1e-6 and "passed" in result.table()
    else:
        assert row.failed > 0 and row.max_rel_error > 1e-3 and "FAILED" in result.table()


def test_a_backward_that_ignores_the_upstream_gradient_is_flagged():
    # the random output projection makes the upstream gradient a dense vector, not a one-hot
    result = gradcheck(ForgotChainRule, torch.randn(5, 4, generator=torch.Generator().manual_seed(0)))
    assert not result.passed and result.rows[0].failed > 10


def test_the_wrong_input_is_named():
    x, w = torch.randn(6), torch.randn(6) + 3
    result = gradcheck(Product, (x, w))
    verdicts = {r.name: r.passed for r in result.rows}
    assert verdicts == {"input[0]": True, "input[1]": False}
    worst = result.failures[0]
    # the numeric gradient of sum(r * x * w) for w_i is r_i x_i; the wrong backward gave r_i w_i
    assert worst.numeric != pytest.approx(worst.analytic)


class WrongLayer(nn.Module):
    def forward(self, x):
        return ScaledSigmoid.apply(x)


def test_module_parameters_below_a_wrong_layer_fail_and_those_above_pass():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), WrongLayer(), nn.Linear(4, 2))
    result = gradcheck(model, torch.randn(5, 3))
    verdicts = {r.name: r.passed for r in result.rows}
    assert verdicts == {"0.weight": False, "0.bias": False, "2.weight": True, "2.bias": True, "input[0]": False}


def test_lamina_network_with_dropout_passes_and_is_left_untouched():
    torch.manual_seed(0)
    model = lamina.build_model(
        [
            {"type": "conv2d", "filters": 2, "kernel_size": 2, "activation": "tanh"},
            {"type": "flatten"},
            {"type": "dropout", "p": 0.5},
            {"type": "dense", "units": 3},
        ],
        (1, 3, 3),
    )
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = gradcheck(model, torch.randn(2, 1, 3, 3), max_entries=6)
    assert result.passed, result.table()
    assert [r.checked for r in result.rows] == [6, 2, 6, 3, 6]  # tensors above 6 entries are sampled
    assert all(p.dtype == torch.float32 and p.grad is None for p in model.parameters())
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


def test_losses_pass_with_integer_targets_passed_through():
    logits, targets = torch.randn(6, 4), torch.tensor([0, 1, 2, 3, 0, 1])
    result = gradcheck(torch.nn.functional.cross_entropy, (logits, targets))
    assert result.passed and [r.name for r in result.rows] == ["input[0]"]
    assert gradcheck(lamina.resolve("loss", "mse").build(), (torch.randn(4, 2), torch.randn(4, 2))).passed


def test_nothing_to_check_is_an_error_naming_the_module():
    with pytest.raises(DiagnosticsError, match="ReLU has no trainable parameters and no floating-point inputs"):
        gradcheck(nn.ReLU(), torch.tensor([1, 2, 3]))


def test_wrong_input_shape_names_the_expected_one():
    model = lamina.build_model([{"type": "flatten"}, {"type": "dense", "units": 3}], (1, 4, 4))
    with pytest.raises(
        lamina.ShapeError, match=r"expects inputs of shape \(N, 1, 4, 4\).*got a batch of shape \(2, 16\)"
    ):
        gradcheck(model, torch.randn(2, 16))
    with pytest.raises(
        lamina.ShapeError, match=r"gradcheck: Sequential failed on inputs of shapes \(2, 5\): mat1 and mat2"
    ):
        gradcheck(nn.Sequential(nn.Tanh(), nn.Linear(3, 2)), torch.randn(2, 5))
    with pytest.raises(ValueError, match="`eps` must be > 0, got 0"):
        gradcheck(Sigmoid, torch.randn(3), eps=0)
