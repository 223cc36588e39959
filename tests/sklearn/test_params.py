"""The estimators' parameters, read from their ``__init__`` signatures as scikit-learn reads them: the MLP-style
estimators keep :data:`lamina.sklearn.mlp.MLP_DEFAULTS`, every parameter is stored under its name and documented,
and ``get_params`` / ``set_params`` / ``clone`` carry each one through unchanged."""

from __future__ import annotations

import inspect
import re

import pytest
from sklearn.base import clone

import lamina.sklearn
from lamina.sklearn import DBNClassifier, MLPClassifier, MLPRegressor, NARXForecaster
from lamina.sklearn.mlp import MLP_DEFAULTS

ESTIMATORS = [
    getattr(lamina.sklearn, name)
    for name in lamina.sklearn.__all__
    if name not in ("LaminaEstimator", "LaminaTransformer", "SklearnConvergence")
]

# the MLP-style estimators and the shared parameters whose default each documents as its own
MLP_STYLE = {
    MLPClassifier: set(),
    MLPRegressor: set(),
    DBNClassifier: {"hidden_layer_sizes"},
    NARXForecaster: {"hidden_layer_sizes", "activation"},
}


def _signature_defaults(cls: type) -> dict:
    return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items() if name != "self"}


class _Marker:
    """A value no estimator has as a default, distinct per parameter (``__init__`` must store it untouched)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"_Marker({self.name!r})"


def test_the_estimator_list_is_complete():
    assert {cls.__name__ for cls in ESTIMATORS} >= {
        "MLPClassifier",
        "MLPRegressor",
        "DBNClassifier",
        "NARXForecaster",
        "RBMTransformer",
        "AutoencoderTransformer",
        "HopfieldMemory",
    }


@pytest.mark.parametrize("cls", list(MLP_STYLE), ids=lambda c: c.__name__)
def test_mlp_style_defaults_match_the_shared_table(cls):
    defaults = _signature_defaults(cls)
    drifted = {
        name: (defaults[name], MLP_DEFAULTS[name])
        for name in defaults.keys() & MLP_DEFAULTS.keys()
        if name not in MLP_STYLE[cls] and defaults[name] != MLP_DEFAULTS[name]
    }
    assert not drifted, f"{cls.__name__}.__init__ defaults differ from MLP_DEFAULTS (got, shared): {drifted}"


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor, DBNClassifier], ids=lambda c: c.__name__)
def test_mlp_estimators_have_every_shared_option(cls):
    """What a subclass of BaseMLP does not take as a parameter it fixes as a class attribute (DBNClassifier's
    logistic activation); fixed to the shared default unless it is one the estimator exists to change."""
    params = _signature_defaults(cls)
    fixed = {name: getattr(cls, name, "<missing>") for name in MLP_DEFAULTS.keys() - params.keys()}
    assert all(value != "<missing>" for value in fixed.values()), fixed
    changed = {name for name, value in fixed.items() if value != MLP_DEFAULTS[name]}
    assert changed <= {"activation", "pretrain"}, changed


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_init_stores_every_parameter_and_clone_keeps_it(cls):
    markers = {name: _Marker(name) for name in _signature_defaults(cls)}
    estimator = cls(**markers)
    assert set(vars(estimator)) == set(markers)  # __init__ assigns the parameters and nothing else
    params = estimator.get_params(deep=False)
    assert {name: params[name] for name in markers} == markers and all(params[n] is markers[n] for n in markers)
    twin = clone(estimator)  # clone itself checks that __init__ stored each (deep-copied) value as given
    assert set(twin.get_params(deep=False)) == set(markers)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_set_params_round_trips_each_parameter(cls):
    estimator = cls()
    for name in _signature_defaults(cls):
        marker = _Marker(name)
        assert estimator.set_params(**{name: marker}) is estimator
        assert estimator.get_params(deep=False)[name] is marker and getattr(estimator, name) is marker
    assert cls(**estimator.get_params(deep=False)).get_params(deep=False) == estimator.get_params(deep=False)


def _documented_parameters(cls: type) -> set[str]:
    doc = inspect.cleandoc(cls.__doc__ or "")
    section = re.search(r"^Parameters\n-+\n(.*?)(?:^\w[\w ]*\n-+\n|\Z)", doc, re.S | re.M)
    assert section, f"{cls.__name__} has no numpydoc Parameters section"
    names: set[str] = set()
    for line in section.group(1).splitlines():
        if line and not line[0].isspace():  # a parameter line: "name : type" or "a, b, c" (see also ...)
            names |= {part.strip() for part in line.split(" : ")[0].split(",")}
    return names


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_parameter_is_documented(cls):
    missing = set(_signature_defaults(cls)) - _documented_parameters(cls)
    assert not missing, f"{cls.__name__}'s docstring does not document {sorted(missing)}"
