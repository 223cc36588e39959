"""Training: the :class:`Trainer`, its callbacks and metrics."""

from lamina.train.callbacks import Callback, CallbackSpec, EarlyStopping
from lamina.train.closure import Closure
from lamina.train.history import History
from lamina.train.metrics import Metric
from lamina.train.rng import RngStreams, resolve_device, seeded
from lamina.train.trainer import Trainer

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
