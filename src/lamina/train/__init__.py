"""Training: the :class:`Trainer`, its callbacks and metrics."""

from typing import TYPE_CHECKING

from lamina._moved import moved_attribute
from lamina.train.callbacks import Callback, CallbackSpec, EarlyStopping
from lamina.train.closure import Closure
from lamina.train.history import History
from lamina.metrics.standard import Metric
from lamina.train.rng import RngStreams, resolve_device, seeded
from lamina.train.trainer import Trainer

if not TYPE_CHECKING:  # lamina.train.metrics, lamina.train.pretrain for one release (lamina._moved)

    def __getattr__(name: str):
        return moved_attribute(__name__, name)


__all__ = [
    "Callback",
    "CallbackSpec",
    "Closure",
    "EarlyStopping",
    "History",
    "Metric",
    "RngStreams",
    "Trainer",
    "resolve_device",
    "seeded",
]
