"""LSTMP (Sak et al., 2014): the layer against a hand-written loop of the projected LSTM cell with the same weights,
its variable-length path against one sequence at a time, and its options' errors."""

from __future__ import annotations

import pytest
import torch

from lamina.nn import LSTMP
from lamina.registry import resolve


def cell_loop(x: torch.Tensor, rnn: torch.nn.LSTM, layer: int, reverse: bool) -> torch.Tensor:
    """One direction of one layer, step by step: gates from x_t and r_{t-1}, then r_t = W_hr (o * tanh(c_t))."""
    sfx = f"_l{layer}" + ("_reverse" if reverse else "")
    w_ih, w_hh = getattr(rnn, "weight_ih" + sfx), getattr(rnn, "weight_hh" + sfx)
    b = getattr(rnn, "bias_ih" + sfx) + getattr(rnn, "bias_hh" + sfx)
    w_hr = getattr(rnn, "weight_hr" + sfx)
    n, steps, _ = x.shape
    r = x.new_zeros(n, w_hr.shape[0])
    c = x.new_zeros(n, w_hr.shape[1])
    outputs = [None] * steps
    for t in reversed(range(steps)) if reverse else range(steps):
        i, f, g, o = (x[:, t] @ w_ih.T + r @ w_hh.T + b).chunk(4, dim=1)  # torch's gate order: i, f, g, o
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        r = (torch.sigmoid(o) * torch.tanh(c)) @ w_hr.T
        outputs[t] = r
    return torch.stack(outputs, dim=1)


def by_hand(x: torch.Tensor, rnn: torch.nn.LSTM) -> torch.Tensor:
    """The deep (bidirectional) LSTMP's outputs from :func:`cell_loop`, layer by layer."""
    for layer in range(rnn.num_layers):
        parts = [cell_loop(x, rnn, layer, False)]
        if rnn.bidirectional:
            parts.append(cell_loop(x, rnn, layer, True))
        x = torch.cat(parts, dim=-1)
    return x


@pytest.mark.parametrize("layers, bidirectional", [(1, False), (2, True)])
def test_lstmp_equals_the_hand_written_projected_cell(layers, bidirectional):
    torch.manual_seed(0)
    layer = LSTMP(3, 6, 2, num_layers=layers, bidirectional=bidirectional).double()
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    expected = by_hand(x, layer.rnn)
    torch.testing.assert_close(layer(x), expected)
    summary = LSTMP(3, 6, 2, num_layers=layers, bidirectional=bidirectional, return_sequences=False).double()
    summary.load_state_dict(layer.state_dict())
    last = expected[:, -1, :2] if not bidirectional else torch.cat([expected[:, -1, :2], expected[:, 0, 2:]], -1)
    torch.testing.assert_close(summary(x), last)


def test_padded_sequences_with_lengths_equal_one_sequence_at_a_time():
    torch.manual_seed(1)
    layer = LSTMP(3, 5, 2, num_layers=2, bidirectional=True).double()
    lengths = torch.tensor([7, 3, 5, 1])
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    x[torch.arange(7)[None] >= lengths[:, None]] = 9.0  # padding that must not be read
    out = layer(x, lengths)
    for n, length in enumerate(lengths.tolist()):
        alone = layer(x[n : n + 1, :length])
        torch.testing.assert_close(out[n : n + 1, :length], alone)
        assert (out[n, length:] == 0).all()
    summary = LSTMP(3, 5, 2, num_layers=2, bidirectional=True, return_sequences=False).double()
    summary.load_state_dict(layer.state_dict())
    for n, length in enumerate(lengths.tolist()):
        torch.testing.assert_close(summary(x, lengths)[n], summary(x[n : n + 1, :length])[0])


def test_lstmp_options_are_checked_in_python_and_in_a_table():
    with pytest.raises(ValueError, match="projection"):
        LSTMP(3, 4, 4)
    with pytest.raises(ValueError, match="units"):
        LSTMP(3, 0, 1)
    spec = resolve("layer", {"type": "lstmp", "units": 8, "projection": 3, "bidirectional": True})
    assert spec.output_shape((10, 5)) == (10, 6)
    assert spec.build((10, 5))(torch.zeros(2, 10, 5)).shape == (2, 10, 6)
