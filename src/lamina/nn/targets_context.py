"""The targets of the training batch now being computed, for layers that read the label during training.

A layer's ``forward`` sees only its input. A few training methods also need the batch's targets inside the network:
the label-conditioned synthetic-gradient predictor (cDNI; Jaderberg et al., 2017) is the one lamina has. The trainer
runs every training forward pass inside :func:`batch_targets`, and such a layer reads them with
:func:`current_batch_targets`; outside training nothing is set, and evaluation never needs them.

A custom loop does the same::

    with batch_targets(y):
        loss = loss_fn(model(x), y)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["batch_targets", "current_batch_targets"]

_TARGETS: ContextVar[Any] = ContextVar("lamina_batch_targets", default=None)


@contextmanager
def batch_targets(targets: Any) -> Iterator[None]:
    """Make ``targets`` (the batch's labels, any shape) what :func:`current_batch_targets` returns inside the
    block; the previous value (usually none) is restored after it."""
    token = _TARGETS.set(targets)
    try:
        yield
    finally:
        _TARGETS.reset(token)


def current_batch_targets() -> Any:
    """The targets set by the innermost :func:`batch_targets`, or ``None`` outside any."""
    return _TARGETS.get()
