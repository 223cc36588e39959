"""Callbacks: observers of the training loop (early stopping, progress, checkpoints, logs) and a momentum schedule."""

from lamina.train.callbacks.base import Callback, CallbackSpec
from lamina.train.callbacks.checkpointing import Checkpointer
from lamina.train.callbacks.early_stopping import EarlyStopping, EarlyStoppingSpec
from lamina.train.callbacks.metrics_log import MetricsLog, read_metrics
from lamina.train.callbacks.momentum import MomentumRamp, MomentumRampSpec
from lamina.train.callbacks.progress import PlainProgress, ProgressBar, ProgressPrinter, progress_callback
from lamina.train.callbacks.tensorboard import TensorBoard

__all__ = [
    "Callback",
    "CallbackSpec",
    "Checkpointer",
    "EarlyStopping",
    "EarlyStoppingSpec",
    "MetricsLog",
    "MomentumRamp",
    "MomentumRampSpec",
    "PlainProgress",
    "ProgressBar",
    "ProgressPrinter",
    "TensorBoard",
    "progress_callback",
    "read_metrics",
]
