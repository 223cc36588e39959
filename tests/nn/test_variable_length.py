"""Variable-length sequences (issue 27): padded sequences with their lengths, run packed or masked, give the same
outputs and final states as each sequence run alone; attention with a key padding mask equals attention over the
unpadded sequence."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lamina.nn import AdditiveAttention, Bidirectional, DotProductAttention, MultiHeadSelfAttention, StackedRecurrent
from lamina.nn.sequence_lengths import lengths_from_padding, padding_mask, reverse_padded, run_packed
from lamina.registry import resolve

LENGTHS = torch.tensor([6, 2, 4, 1, 5])


def padded_batch(features: int = 3, pad: float = 0.0, seed: int = 0) -> torch.Tensor:
    """``(5, 6, features)`` float64 sequences of LENGTHS, the steps after each end filled with ``pad``."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(len(LENGTHS), int(LENGTHS.max()), features, generator=g, dtype=torch.float64)
    x[torch.arange(x.shape[1])[None] >= LENGTHS[:, None]] = pad
    return x


@pytest.mark.parametrize("kind", [nn.RNN, nn.LSTM, nn.GRU])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_outputs_and_final_states_equal_one_sequence_at_a_time(kind, bidirectional):
    torch.manual_seed(0)
    rnn = kind(3, 4, num_layers=2, batch_first=True, bidirectional=bidirectional).double()
    x = padded_batch(pad=7.0)  # padding far from the data: reading it would show
    out, state = run_packed(rnn, x, LENGTHS)
    for n, length in enumerate(LENGTHS.tolist()):
        alone, alone_state = rnn(x[n : n + 1, :length])
        torch.testing.assert_close(out[n, :length], alone[0])
        assert (out[n, length:] == 0).all()
        for got, want in zip(
            state if isinstance(state, tuple) else (state,), alone_state if kind is nn.LSTM else (alone_state,)
        ):
            torch.testing.assert_close(got[:, n], want[:, 0])


def _alone(layer: nn.Module, x: torch.Tensor, n: int) -> torch.Tensor:
    return layer(x[n : n + 1, : int(LENGTHS[n])])[0]


@pytest.mark.parametrize(
    "table",
    [
        {"type": "lstm", "units": 4, "return_sequences": True},
        {"type": "gru", "units": 4, "bidirectional": True},
        {"type": "rnn", "units": 4, "num_layers": 2, "return_sequences": True, "bidirectional": True},
        {"type": "lstmp", "units": 5, "projection": 2, "bidirectional": True, "return_sequences": False},
        {"type": "bidirectional", "layer": {"type": "gru", "units": 3, "return_sequences": True}},
        {"type": "bidirectional", "layer": {"type": "lstm", "units": 3}, "merge_mode": "sum"},
        {"type": "stacked_rnn", "layer": {"type": "gru", "units": 3}, "num_layers": 2, "residual": True},
        {"type": "self_attention", "units": 4, "heads": 2},
        {"type": "self_attention", "units": 4, "causal": True},
    ],
    ids=lambda t: t["type"] + ("-" + t["layer"]["type"] if "layer" in t else ""),
)
def test_layers_given_lengths_equal_each_sequence_alone(table):
    torch.manual_seed(1)
    layer = resolve("layer", table).build((6, 3)).double().eval()
    x = padded_batch(pad=-3.0)
    out = layer(x, lengths=LENGTHS)
    for n, length in enumerate(LENGTHS.tolist()):
        want = _alone(layer, x, n)
        torch.testing.assert_close(out[n, :length] if out.dim() == 3 else out[n], want)


def test_the_masked_layer_finds_the_lengths_from_the_padding_value():
    torch.manual_seed(2)
    table = {
        "type": "masked",
        "mask_value": 0.0,
        "layer": {"type": "bidirectional", "layer": {"type": "lstm", "units": 3}},
    }
    layer = resolve("layer", table).build((6, 3)).double()
    x = padded_batch(pad=0.0)
    out = layer(x)
    inner = layer.layer
    for n in range(len(LENGTHS)):
        torch.testing.assert_close(out[n], _alone(inner, x, n))
    plain = inner(x)  # without the mask the backward direction reads the padding first
    assert not torch.allclose(plain[1], out[1])


def test_masked_refuses_a_layer_without_lengths():
    with pytest.raises(Exception, match="takes no sequence lengths"):
        resolve(
            "layer", {"type": "masked", "layer": {"type": "time_distributed", "layer": {"type": "dense", "units": 2}}}
        ).build((6, 3))


def test_bidirectional_and_stacked_modules_take_lengths_in_python():
    torch.manual_seed(3)
    make = lambda: resolve("layer", {"type": "lstm", "units": 3, "return_sequences": True}).build((6, 3))  # noqa: E731
    bi = Bidirectional(make(), make()).double()
    stacked = StackedRecurrent([make(), resolve("layer", {"type": "gru", "units": 2}).build((6, 3))]).double()
    x = padded_batch(pad=5.0)
    for layer in (bi, stacked):
        out = layer(x, LENGTHS)
        for n, length in enumerate(LENGTHS.tolist()):
            got = out[n, :length] if out.dim() == 3 else out[n]
            torch.testing.assert_close(got, _alone(layer, x, n))


def test_attention_with_a_key_padding_mask_equals_attention_on_the_unpadded_memory():
    torch.manual_seed(4)
    keys = padded_batch(features=4, pad=11.0)
    query = torch.randn(5, 3, 4, dtype=torch.float64)
    mask = padding_mask(LENGTHS, keys.shape[1])
    for layer in (DotProductAttention(), AdditiveAttention(4, 4, 6).double()):
        out = layer(query, keys, key_padding_mask=mask)
        single = layer(query[:, 0], keys, key_padding_mask=mask)
        for n, length in enumerate(LENGTHS.tolist()):
            torch.testing.assert_close(out[n], layer(query[n : n + 1], keys[n : n + 1, :length])[0])
            torch.testing.assert_close(single[n], out[n, 0])
    attention = MultiHeadSelfAttention(4, 4, 2).double().eval()
    out = attention(keys, key_padding_mask=mask)
    for n, length in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(out[n, :length], attention(keys[n : n + 1, :length])[0])


def test_lengths_from_padding_and_reverse_padded():
    x = padded_batch(pad=0.0)
    assert lengths_from_padding(x).tolist() == LENGTHS.tolist()
    assert lengths_from_padding(torch.zeros(2, 4, 3)).tolist() == [1, 1]  # all padding counts one step
    reversed_ = reverse_padded(x, LENGTHS)
    assert torch.equal(reversed_[1, :2], x[1, :2].flip(0)) and torch.equal(reversed_[1, 2:], x[1, 2:])
    assert torch.equal(reverse_padded(reversed_, LENGTHS), x)


def test_lengths_are_checked_against_the_batch():
    rnn = nn.GRU(3, 2, batch_first=True)
    with pytest.raises(Exception, match=r"lengths must be in 1\.\.6"):
        run_packed(rnn, torch.zeros(2, 6, 3), torch.tensor([7, 2]))
    with pytest.raises(Exception, match=r"lengths must be \(N,\)"):
        run_packed(rnn, torch.zeros(2, 6, 3), torch.tensor([3]))
