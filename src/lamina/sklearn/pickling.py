"""What pickling a scikit-learn estimator needs besides its ``__getstate__``/``__setstate__``: tensors moved to the
CPU (:func:`to_cpu`), and on unpickling the device it was fitted on if this machine has it (:func:`usable_device`)."""

from __future__ import annotations

import warnings
from typing import Any

import torch

from lamina.sklearn.errors import caller_level

__all__ = ["to_cpu", "usable_device"]


def usable_device(device: Any) -> torch.device:
    """The device to run on after unpickling: the fitted one if this machine has it, else the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        present = torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()
    elif device.type == "mps":
        present = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    else:
        present = True
    if not present:
        warnings.warn(
            f"the estimator was fitted on {device}, which this machine lacks; it runs on the CPU",
            UserWarning,
            stacklevel=caller_level(),
        )
        return torch.device("cpu")
    return device


def to_cpu(value: Any) -> Any:
    """``value`` with every tensor in it (also inside dicts, lists and tuples) detached and on the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_cpu(v) for v in value)
    return value
