"""The scikit-learn estimators' parameters: stored by ``__init__`` under their own names (:func:`store_params`),
checked at ``fit`` with errors that name the parameter and the value (:func:`check_param`), and the rules of
scikit-learn that turn some of them into values: the batch size (:func:`resolve_batch_size`) and the seed drawn from
``random_state`` (:func:`seed_from`)."""

from __future__ import annotations

import inspect
import math
import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_random_state

__all__ = ["check_param", "is_int", "is_number", "resolve_batch_size", "seed_from", "store_params"]


def store_params(estimator: BaseEstimator, params: dict[str, Any]) -> None:
    """Store each ``__init__`` parameter of ``estimator`` under its own name: the whole body of a scikit-learn
    ``__init__``, called as ``store_params(self, locals())``.

    scikit-learn reads the parameters from the explicit ``__init__`` signature and requires ``__init__`` to do
    nothing but assign them; the names come from that same signature here, so a parameter added to it is stored
    (and found by ``get_params``, ``clone``, ``GridSearchCV``) without a second line to forget.
    """
    for param in inspect.signature(type(estimator).__init__).parameters.values():
        if param.name != "self" and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            setattr(estimator, param.name, params[param.name])


def resolve_batch_size(batch_size: int | str, n_samples: int) -> int:
    """scikit-learn's rule: ``"auto"`` is ``min(200, n_samples)``; other sizes are clipped to ``[1, n_samples]``
    with a warning."""
    if batch_size == "auto":
        return min(200, n_samples)
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise ValueError(f"`batch_size` must be 'auto' or a positive integer, got {batch_size!r}")
    if not 1 <= batch_size <= n_samples:
        warnings.warn(
            f"Got `batch_size` {batch_size}, less than 1 or larger than the {n_samples} training "
            "examples; it is clipped",
            UserWarning,
            stacklevel=3,
        )
    return int(np.clip(batch_size, 1, n_samples))


def seed_from(random_state: Any) -> int:
    """An integer seed: ``random_state`` itself if it is one, else a draw from it (scikit-learn's convention)."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def check_param(ok: bool, name: str, constraint: str, value: Any) -> None:
    """Raise ``ValueError("`name` must be <constraint>, got <value!r>")`` unless ``ok``: lamina's one wording."""
    if not ok:
        raise ValueError(f"`{name}` must be {constraint}, got {value!r}")


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (numpy's included), and not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """Whether ``value`` is a finite real number (numpy's included), and not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
