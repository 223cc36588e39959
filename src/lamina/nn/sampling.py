"""Sampling from an autoregressive sequence model (a character-level language model):

    x_{t+1} ~ softmax(logits(x_1..x_t) / T),

``T`` the temperature (below 1: more conservative text, above 1: more varied; Graves, 2013; char-rnn).

A layer stack of embeddings, unidirectional recurrent layers and per-step layers is run one step at a time,
carrying the recurrent state, so ``L`` characters cost ``L`` steps; any other model is re-run on the whole prefix
at each step (``L^2 / 2`` steps), which gives the same distribution.
"""

from __future__ import annotations

import torch
from torch import nn

from lamina.nn.alpha_dropout import AlphaDropout
from lamina.nn.builder import Stack
from lamina.nn.drop_path import DropPath
from lamina.nn.recurrent import Recurrent
from lamina.nn.stacked_rnn import StackedRecurrent
from lamina.nn.time_distributed import TimeDistributed

__all__ = ["sample_sequence", "next_token", "RecurrentStepper"]

# modules that act on each step on its own (in evaluation mode), so a sequence can be fed one step at a time
_PER_STEP = (
    nn.Embedding,
    TimeDistributed,
    nn.Dropout,
    AlphaDropout,
    DropPath,
    nn.Identity,
    nn.LayerNorm,
    nn.ReLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.GELU,
    nn.ELU,
    nn.SELU,
    nn.LeakyReLU,
    nn.Softplus,
    nn.Softsign,
    nn.Hardtanh,
)


def next_token(logits: torch.Tensor, temperature: float, generator: torch.Generator | None = None) -> int:
    """A draw from ``softmax(logits / temperature)`` (``logits``: ``(V,)``)."""
    probs = torch.softmax(logits.double() / temperature, dim=-1)
    return int(torch.multinomial(probs, 1, generator=generator))


def _streamable(module: nn.Module) -> bool:
    if isinstance(module, Recurrent):
        return not module.rnn.bidirectional
    if isinstance(module, StackedRecurrent):
        return all(_streamable(layer) for layer in module.layers)
    return isinstance(module, _PER_STEP)


class RecurrentStepper:
    """Feed a layer stack one step at a time, keeping each recurrent layer's state.

    Args:
        model: a :class:`~lamina.nn.builder.Stack` whose layers are per-step layers and unidirectional recurrent
            layers (:meth:`supports` says whether it is).
    """

    def __init__(self, model: nn.Module) -> None:
        if not self.supports(model):
            raise ValueError(
                f"{type(model).__name__} cannot be run step by step; use sample_sequence, which re-runs it"
            )
        self.layers = list(model.children())
        self.state: dict[object, object] = {}  # layer index (and inner index) -> hidden state

    @staticmethod
    def supports(model: nn.Module) -> bool:
        """Whether ``model`` is a stack that can be fed one step at a time."""
        return isinstance(model, Stack) and all(_streamable(layer) for layer in model.children())

    def _recurrent(self, key: object, layer: Recurrent, h: torch.Tensor) -> torch.Tensor:
        out, self.state[key] = layer.rnn(h, self.state.get(key))  # (1, T, H), carrying the hidden state
        return out if layer.return_sequences else out[:, -1]

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """The logits after feeding ``tokens`` ``(1, T)`` (a prefix, or one new token): ``(V,)``."""
        h = tokens
        for i, layer in enumerate(self.layers):
            if isinstance(layer, Recurrent):
                h = self._recurrent(i, layer, h)
            elif isinstance(layer, StackedRecurrent):
                last = len(layer.layers) - 1
                for j, inner in enumerate(layer.layers):
                    out = self._recurrent((i, j), inner, h)
                    h = out + h if layer.residual and out.shape == h.shape else out
                    h = h if j == last else layer.dropout(h)
            else:
                h = layer(h)
        return h[0, -1] if h.dim() == 3 else h[0]


@torch.no_grad()
def sample_sequence(
    model: nn.Module,
    prime: torch.Tensor,
    length: int,
    *,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Continue the token sequence ``prime`` by ``length`` tokens drawn from the model.

    Args:
        model: maps tokens ``(1, T)`` to logits ``(1, T, V)`` (a language model); put in evaluation mode here.
        prime: the tokens to start from, ``(P,)`` with ``P >= 1``.
        length: tokens to draw.
        temperature: divides the logits; must be > 0.
        generator: the source of the draws.

    Returns:
        The ``length`` drawn tokens, ``(length,)`` int64.
    """
    if not temperature > 0:
        raise ValueError(f"`temperature` must be > 0, got {temperature!r}")
    if length < 0:
        raise ValueError(f"`length` must be >= 0, got {length!r}")
    if prime.dim() != 1 or len(prime) < 1:
        raise ValueError(f"`prime` must hold at least one token, got shape {tuple(prime.shape)}")
    was_training = model.training
    model.eval()
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    tokens = prime.to(device).long()
    drawn: list[int] = []
    try:
        if RecurrentStepper.supports(model):
            stepper = RecurrentStepper(model)
            logits = stepper.step(tokens.unsqueeze(0))
            for _ in range(length):
                drawn.append(next_token(logits.cpu(), temperature, generator))
                logits = stepper.step(torch.tensor([[drawn[-1]]], device=device))
        else:
            for _ in range(length):
                context = torch.cat([tokens, torch.tensor(drawn, dtype=torch.long, device=device)])
                drawn.append(next_token(model(context.unsqueeze(0))[0, -1].cpu(), temperature, generator))
    finally:
        model.train(was_training)
    return torch.tensor(drawn, dtype=torch.long)
