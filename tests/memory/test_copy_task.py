"""The copy task's batches, loss and bit errors (Graves et al., 2014, section 4.1) against loops and hand formulas."""

from __future__ import annotations

import math

import pytest
import torch

from lamina.memory import bit_errors, copy_batch, copy_loss


def test_batch_layout():
    x, y = copy_batch(4, 3, bits=5, generator=torch.Generator().manual_seed(0))
    assert x.shape == (4, 7, 6) and y.shape == (4, 3, 5)
    torch.testing.assert_close(x[:, :3, :5], y)  # the vectors come first
    assert torch.all(x[:, :3, 5] == 0) and torch.all(x[:, 3, 5] == 1)  # then the delimiter, on its own channel
    assert torch.all(x[:, 3, :5] == 0) and torch.all(x[:, 4:] == 0)  # and nothing while the answer is due
    assert set(y.unique().tolist()) == {0.0, 1.0}


def test_batch_refuses_an_empty_sequence():
    with pytest.raises(ValueError, match="length"):
        copy_batch(2, 0)


def test_loss_and_bit_errors_score_only_the_answer_steps():
    x, y = copy_batch(2, 2, bits=3, generator=torch.Generator().manual_seed(1))
    logits = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(2))
    total, wrong = 0.0, [0, 0]
    for b in range(2):
        for step in range(2):
            for j in range(3):
                z, target = logits[b, 3 + step, j].item(), y[b, step, j].item()
                p = 1 / (1 + math.exp(-z))
                total -= target * math.log(p) + (1 - target) * math.log(1 - p)
                wrong[b] += int((z > 0) != (target == 1))
    assert copy_loss(logits, y).item() == pytest.approx(total / 12, rel=1e-6)
    assert bit_errors(logits, y).tolist() == wrong
    logits[:, :3] = 100.0  # the input steps' outputs do not count
    assert copy_loss(logits, y).item() == pytest.approx(total / 12, rel=1e-6)
