"""How the scikit-learn estimators report trouble as scikit-learn does: a diverged fit raises
:class:`EstimatorDivergedError` (lamina's :class:`~lamina.errors.TrainingDivergedError` that is also the ``ValueError``
scikit-learn's checks expect), and warnings point at the user's own line (:func:`caller_level`)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from types import FrameType

from lamina.errors import TrainingDivergedError

__all__ = ["EstimatorDivergedError", "caller_level", "diverged_as_value_error"]


class EstimatorDivergedError(TrainingDivergedError, ValueError):
    """Training of a scikit-learn estimator diverged (the loss became NaN or infinite): a
    :class:`~lamina.errors.TrainingDivergedError` that is also the ``ValueError`` scikit-learn expects."""


@contextlib.contextmanager
def diverged_as_value_error(message: str | None = None) -> Iterator[None]:
    """Re-raise a :class:`TrainingDivergedError` as :class:`EstimatorDivergedError` (scikit-learn's checks expect
    bad training data to raise ``ValueError``), its message led by ``message`` when given."""
    try:
        yield
    except TrainingDivergedError as err:
        if isinstance(err, ValueError):
            raise
        raise EstimatorDivergedError(
            f"{message} ({err})" if message else str(err),
            epoch=getattr(err, "epoch", 0),
            step=getattr(err, "step", 0),
            value=getattr(err, "value", None),
        ) from err


def caller_level() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside ``lamina.sklearn`` (the user's call)."""
    frame: FrameType | None = sys._getframe(2)
    level = 2  # 1 is the function calling warnings.warn, 2 its caller
    while frame is not None and frame.f_globals.get("__name__", "").startswith("lamina.sklearn"):
        frame, level = frame.f_back, level + 1
    return level
