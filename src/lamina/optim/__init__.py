"""Optimizers and learning-rate schedules by name; torch's own, plus the second-order and Kalman-filter ones."""
from lamina.optim import schedules, torch_optimizers  # noqa: F401  (register)
from lamina.optim.schedules import ScheduleSpec
from lamina.optim.torch_optimizers import OptimizerSpec

__all__ = ["OptimizerSpec", "ScheduleSpec"]
