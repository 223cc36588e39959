"""The hyper-parameters of the MLP-style estimators: scikit-learn's defaults (:data:`MLP_DEFAULTS`) and their check
at ``fit`` (:func:`check_mlp_params`), each error naming the parameter and the value it got."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lamina.sklearn.params import check_param, is_int, is_number

__all__ = ["MLP_DEFAULTS", "check_mlp_params", "hidden_sizes"]

# scikit-learn's MLP defaults, shared by every MLP-style estimator (MLPClassifier, MLPRegressor, DBNClassifier, and
# NARXForecaster for the options it has). Each ``__init__`` signature restates them, as scikit-learn requires (it
# reads the parameters from the signature); tests/sklearn/test_params.py fails where a signature drifts from here.
MLP_DEFAULTS: dict[str, Any] = {
    "hidden_layer_sizes": (100,),
    "activation": "relu",
    "solver": "adam",
    "alpha": 1e-4,
    "batch_size": "auto",
    "learning_rate": "constant",
    "learning_rate_init": 1e-3,
    "power_t": 0.5,
    "max_iter": 200,
    "shuffle": True,
    "tol": 1e-4,
    "n_iter_no_change": 10,
    "early_stopping": False,
    "validation_fraction": 0.1,
    "momentum": 0.9,
    "nesterovs_momentum": True,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "epsilon": 1e-8,
    "warm_start": False,
    "random_state": None,
    "verbose": False,
    "layers": None,
    "input_shape": None,
    "init": "glorot_uniform",
    "schedule": None,
    "device": "cpu",
    "pretrain": None,
    "max_fun": 15000,
}


def check_mlp_params(estimator: Any) -> None:
    """Validate an MLP estimator's hyper-parameters, each error naming the parameter and the value it got."""
    check_param(
        is_int(estimator.max_iter) and estimator.max_iter >= 1, "max_iter", "a positive integer", estimator.max_iter
    )
    check_param(
        (is_int(estimator.n_iter_no_change) and estimator.n_iter_no_change >= 1)
        or estimator.n_iter_no_change == math.inf,
        "n_iter_no_change",
        "a positive integer or np.inf (no stopping rule)",
        estimator.n_iter_no_change,
    )
    check_param(is_number(estimator.tol) and estimator.tol >= 0, "tol", "a number >= 0", estimator.tol)
    check_param(is_number(estimator.alpha) and estimator.alpha >= 0, "alpha", "a number >= 0", estimator.alpha)
    check_param(
        is_number(estimator.learning_rate_init) and estimator.learning_rate_init > 0,
        "learning_rate_init",
        "a number > 0",
        estimator.learning_rate_init,
    )
    check_param(
        is_number(estimator.validation_fraction) and 0 < estimator.validation_fraction < 1,
        "validation_fraction",
        "a number in (0, 1)",
        estimator.validation_fraction,
    )
    check_param(
        is_number(estimator.momentum) and 0 <= estimator.momentum <= 1,
        "momentum",
        "a number in [0, 1]",
        estimator.momentum,
    )
    for name in ("beta_1", "beta_2"):
        value = getattr(estimator, name)
        check_param(is_number(value) and 0 <= value < 1, name, "a number in [0, 1)", value)
    check_param(is_number(estimator.epsilon) and estimator.epsilon > 0, "epsilon", "a number > 0", estimator.epsilon)
    check_param(
        is_int(estimator.max_fun) and estimator.max_fun >= 1, "max_fun", "a positive integer", estimator.max_fun
    )
    check_param(
        estimator.learning_rate in ("constant", "invscaling", "adaptive"),
        "learning_rate",
        "one of 'constant', 'invscaling', 'adaptive'",
        estimator.learning_rate,
    )
    check_param(is_number(estimator.power_t) and estimator.power_t >= 0, "power_t", "a number >= 0", estimator.power_t)
    check_param(isinstance(estimator.shuffle, (bool, np.bool_)), "shuffle", "True or False", estimator.shuffle)
    if estimator._sgd_rule() != "constant" and estimator.schedule is not None:
        raise ValueError(
            f"`learning_rate={estimator.learning_rate!r}` is scikit-learn's schedule for solver='sgd'; it cannot be "
            f"combined with the lamina `schedule` {estimator.schedule!r}: use one of the two"
        )
    if estimator.layers is None:
        hidden_sizes(estimator.hidden_layer_sizes)
    else:
        check_param(
            isinstance(estimator.layers, (list, tuple)) and all(isinstance(layer, dict) for layer in estimator.layers),
            "layers",
            "a list of lamina layer tables such as {'type': 'dense', 'units': 64}",
            estimator.layers,
        )


def hidden_sizes(hidden_layer_sizes: Any) -> list[int]:
    """``hidden_layer_sizes`` (an int or a sequence of them) as a list of positive ints."""
    sizes = hidden_layer_sizes
    sizes = list(sizes) if hasattr(sizes, "__iter__") and not isinstance(sizes, str) else [sizes]
    check_param(
        all(is_int(h) and h > 0 for h in sizes),
        "hidden_layer_sizes",
        "a sequence of positive integers",
        hidden_layer_sizes,
    )
    return [int(h) for h in sizes]
