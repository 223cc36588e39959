"""An option is declared once (issue 25): every registered component's spec agrees with the constructor it builds
on each option's name, default and bounds, or is listed below with the reason it does not (yet)."""

from __future__ import annotations

import inspect
import sys
from typing import Annotated

import pytest
import torch
from pydantic import Field, create_model

import lamina  # noqa: F401  (registers every component)
from lamina.config.component import (
    Bounds,
    Choices,
    _framework_fields,
    disagreements,
    options_of,
    spec_base,
    validated,
)
from lamina.config.fields import component, count, number
from lamina.config.spec import Spec
from lamina.registry import KINDS, registry

# Each entry: why the spec may differ from its constructor, and the words of the difference ``disagreements`` must
# report (so a reason stays true). The test fails if an entry becomes consistent (take it out), names nothing
# registered, reports a different difference, or if a component outside the list drifts.
_NO_TARGET = "names no target_class"
_UNITS = (
    "lamina's `units` is torch's hidden_size (as for every layer, the output width; the input gives the rest), and "
    "`return_sequences` is what the Recurrent wrapper returns",
    "field 'units' is not a keyword",
)
_FILTERS = (
    "lamina's `filters` is torch's out_channels, `stride` defaults to None (the windowed layers' rule: 1 for a "
    "convolution, the kernel for a pooling), and `weight_norm` wraps the built module",
    "field 'filters' is not a keyword",
)
_AVG_POOL = (
    "its window options are torch's keywords with torch's defaults, but for `dilation`, which the windowed layers "
    "share and torch's AvgPool has not (refused unless 1 when built)",
    "field 'dilation' is not a keyword",
)
_SOFTMAX = (
    "keeps dim = -1 (the last axis) where torch's default dim=None is the deprecated implicit-dimension rule, so "
    "the two defaults differ on purpose",
    "'dim': default -1 in the spec, None in",
)
_VARIANCE_SCALING = (
    "has no options: its scale, fan mode and distribution are class constants that VarianceScaling.fill reads; no "
    "function takes them",
    _NO_TARGET,
)
_SCHEDULE = (
    "the spec is the implementation: factor(t) reads its fields and build() wraps it in torch's LambdaLR, which "
    "takes none of them",
    _NO_TARGET,
)
_DATASET = (
    "the spec is the loader: load() (or generate()) reads its fields; no lamina class or function declares them",
    _NO_TARGET,
)
NOT_YET: dict[tuple[str, str], tuple[str, str]] = {
    ("layer", "dense"): (
        "lamina's `units` is nn.Linear's out_features (the input gives in_features), and `weight_norm` wraps the "
        "built module",
        "field 'units' is not a keyword",
    ),
    **{("layer", n): _FILTERS for n in ("conv1d", "conv2d")},
    ("layer", "conv_transpose2d"): (
        "lamina's `filters` is torch's out_channels (the input gives in_channels), as for conv2d",
        "field 'filters' is not a keyword",
    ),
    ("layer", "im2col_conv2d"): (
        "takes conv2d's options (`filters`, ...), while Im2ColConv2d deliberately takes nn.Conv2d's keywords "
        "(`out_channels`, pairs), so that a state dict moves between the two",
        "field 'filters' is not a keyword of lamina.nn.im2col.Im2ColConv2d",
    ),
    **{("layer", n): _AVG_POOL for n in ("avg_pool1d", "avg_pool2d")},
    **{("layer", n): _UNITS for n in ("rnn", "lstm", "gru")},
    ("layer", "instancenorm"): (
        "`affine` defaults to True (Ulyanov et al.'s learned scale and shift) where torch's InstanceNorm defaults "
        "to False",
        "'affine': default True in the spec, False in",
    ),
    ("layer", "layernorm"): (
        "`dims` (how many trailing dimensions) is lamina's; torch's LayerNorm takes normalized_shape, which the "
        "input's shape gives",
        "field 'dims' is not a keyword",
    ),
    ("layer", "global_avg_pool"): (
        "has no options: it builds torch's AdaptiveAvgPool1d or 2d(1), by the input's rank, then Flatten, so no "
        "one constructor stands for it",
        _NO_TARGET,
    ),
    **{(kind, n): _SOFTMAX for kind in ("layer", "activation") for n in ("softmax", "log_softmax")},
    **{
        ("initializer", n): _VARIANCE_SCALING
        for n in ("glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform")
    },
    ("initializer", "constant"): ("its `value` is nn.init.constant_'s val", "field 'value' is not a keyword"),
    ("initializer", "normal"): (
        "`std` defaults to 0.01 (small weights) where nn.init.normal_'s defaults to 1",
        "'std': default 0.01 in the spec, 1.0 in",
    ),
    ("initializer", "uniform"): (
        "`low` and `high` are nn.init.uniform_'s a and b (whose defaults, 0 and 1, differ too)",
        "field 'low' is not a keyword",
    ),
    ("loss", "multi_task"): (
        "its one option, `heads`, is a list of tables the builder turns into MultiTaskLoss's per-head lists "
        "(losses, weights, targets, names); no callable takes `heads`",
        "field 'heads' is not a keyword",
    ),
    **{
        ("schedule", n): _SCHEDULE
        for n in ("constant", "cosine", "exponential", "inverse_time", "linear", "multistep", "step")
    },
    **{
        ("dataset", n): _DATASET
        for n in (
            "convex",
            "curves",
            "digits",
            "faces",
            "fashion_mnist",
            "mnist",
            "mnist_basic",
            "mnist_bg_img",
            "mnist_bg_rand",
            "mnist_rot",
            "mnist_rot_bg_img",
            "olivetti",
            "rectangles",
            "rectangles_img",
        )
    },
    ("dataset", "tinyshakespeare"): (
        "the spec is the loader: char_windows(ids, seq_length, stride) takes two of its options positionally, "
        "without defaults or bounds, as the loader hands them on",
        _NO_TARGET,
    ),
    ("dataset", "mackey_glass"): (
        "its spacing = 6 (with lags = 4) is Lapedes & Farber's, a default of its own where WindowSpec's is 1, kept "
        "so that existing experiment files mean what they did; and its equation's options (tau, a, b, power, dt, "
        "sample_every, discard, x0) restate lamina.data.series.mackey_glass's, a second constructor, while "
        "disagreements() checks one per spec",
        "'spacing': default 6 in the spec, 1 in lamina.timeseries.windows.WindowSpec",
    ),
}

REGISTERED = [(kind, name) for kind in KINDS for name in registry(kind).names(aliases=False)]


@pytest.mark.parametrize(("kind", "name"), REGISTERED, ids=[f"{k}:{n}" for k, n in REGISTERED])
def test_spec_and_constructor_agree(kind, name):
    problems = disagreements(registry(kind).lookup(name))
    if (kind, name) in NOT_YET:
        assert problems, f"{kind} {name!r} now agrees with its constructor: take it out of NOT_YET"
        reason, evidence = NOT_YET[kind, name]
        assert any(evidence in p for p in problems), f"{kind} {name!r}: NOT_YET says {reason!r}, but: {problems}"
    else:
        assert not problems, f"{kind} {name!r}: " + "; ".join(problems)


# the second declarations NOT_YET names (none at present)
_KNOWN_SECOND: dict[tuple[str, str], set[str]] = {}


_ABOVE_COMPONENTS = ("lamina.sklearn", "lamina.export", "lamina.cli", "lamina.__main__")


def _lamina_callables() -> dict[str, dict[str, object]]:
    """``{dotted name: {keyword: default}}`` of every public class (its ``__init__``) and function of the loaded
    lamina modules a spec could derive from, specs left out: the apps and the command line sit above every
    component (``tests/test_import_direction.py``), so what they declare is theirs (a scikit-learn estimator's
    hyper-parameters)."""
    found = {}
    for module_name, module in sorted(sys.modules.items()):
        if not module_name.startswith("lamina") or module is None or module_name.startswith(_ABOVE_COMPONENTS):
            continue
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", "") != module_name:
                continue
            if isinstance(obj, type) and not issubclass(obj, Spec):
                function = obj.__init__
            elif inspect.isfunction(obj):
                function = obj
            else:
                continue
            try:
                parameters = inspect.signature(function).parameters.values()
            except (TypeError, ValueError):
                continue
            found[f"{module_name}.{name}"] = {p.name: p.default for p in parameters if p.default is not p.empty}
    return found


def test_an_allowlisted_spec_without_a_constructor_has_no_second_declaration():
    # a lamina callable taking two or more of the spec's options with the spec's defaults declares them a second
    # time: derive the spec from it (spec_base) instead of listing the spec here
    callables = _lamina_callables()
    found = {}
    for (kind, name), (_, evidence) in NOT_YET.items():
        if evidence != _NO_TARGET:
            continue
        spec = registry(kind).lookup(name)
        own = {n: f.get_default() for n, f in spec.model_fields.items() if n not in _framework_fields(spec)}
        for where, defaults in callables.items():
            if len([n for n, d in own.items() if n in defaults and defaults[n] == d]) >= 2:
                found.setdefault((kind, name), set()).add(where)
    assert found == _KNOWN_SECOND


def test_the_list_names_only_registered_components():
    assert set(NOT_YET) - set(REGISTERED) == set()


def test_every_converted_kind_is_checked():
    # the kinds issue 25 names are converted whole: optimizers, pretraining methods and callbacks
    for kind in ("optimizer", "pretrain", "callback"):
        assert not [n for k, n in NOT_YET if k == kind]
        assert all(registry(kind).lookup(n).target_class for k, n in REGISTERED if k == kind)


# -- the check itself finds each kind of drift ------------------------------------------------------------------


class _Widget:
    """A toy component whose constructor declares its options."""

    @validated
    def __init__(
        self,
        size: Annotated[int, Bounds(ge=1)],
        *,
        rate: Annotated[float, Bounds(gt=0, lt=1)] = 0.5,
        mode: Annotated[str, Choices("fast", "slow")] = "fast",
        strict: bool = True,
    ) -> None:
        self.size, self.rate, self.mode, self.strict = size, rate, mode, strict


class _Derived(spec_base(_Widget, Spec, exclude=("size",))):
    """Derived from the constructor: agrees by construction."""


def _drifted(**fields) -> type:
    """A hand-written spec for ``_Widget`` with the given ``{name: (type, default)}`` fields."""
    spec = create_model("_Drifted", __base__=Spec, **fields)
    spec.target_class, spec.excluded_options = _Widget, ("size",)
    return spec


_AGREED = {
    "rate": (number(0, 1, lo_open=True, hi_open=True), 0.5),
    "mode": (Annotated[str, Choices("fast", "slow")], "fast"),
    "strict": (bool, True),
}


def test_a_derived_spec_agrees_and_a_faithful_hand_copy_too():
    assert disagreements(_Derived) == []
    assert list(_Derived.model_fields) == ["rate", "mode", "strict"]
    assert disagreements(_drifted(**_AGREED)) == []


@pytest.mark.parametrize(
    ("change", "found"),
    [
        ({"rate": (number(0, 1, lo_open=True, hi_open=True), 0.25)}, "'rate': default 0.25 in the spec, 0.5 in"),
        ({"rate": (number(0, 1), 0.5)}, "'rate': bounds/choices"),
        ({"mode": (Annotated[str, Choices("fast", "slow", "auto")], "fast")}, "'mode': bounds/choices"),
        ({"strict": None, "is_strict": (bool, True)}, "takes 'strict', which the spec has no field for (renamed?)"),
    ],
)
def test_drift_in_name_default_or_bounds_is_found(change, found):
    fields = {**_AGREED, **change}
    spec = _drifted(**{n: f for n, f in fields.items() if f is not None})
    assert any(found in p for p in disagreements(spec)), disagreements(spec)


def test_validated_constructors_and_derived_specs_give_the_same_message():
    with pytest.raises(ValueError, match=r"^Invalid _Widget: rate: expected a number in \(0, 1\), got 1.0$"):
        _Widget(3, rate=1)
    with pytest.raises(ValueError, match=r"mode: expected one of 'fast', 'slow', got 'fsat'; did you mean 'fast'\?"):
        _Widget(3, mode="fsat")
    with pytest.raises(ValueError, match=r"size: expected an integer >= 1, got 0"):
        _Widget(0)
    assert _Widget(3, rate=1 / 4).rate == 0.25
    assert _Derived(**_Derived(rate=0.25).options()).options() == {"rate": 0.25, "mode": "fast", "strict": True}
    assert list(options_of(_Widget)) == ["size", "rate", "mode", "strict"]


class _Gated:
    """A toy layer whose constructor takes a built module (``activation``) beside a plain option."""

    @validated(renamed={"hidden": "units"})
    def __init__(
        self, features: int, units: Annotated[int, Bounds(ge=1)] = 4, activation: object | None = None
    ) -> None:
        self.features, self.units, self.activation = features, units, activation


def _gated_spec(**fields) -> type:
    """A spec for ``_Gated`` whose ``activation`` is a component table (``"relu"`` by default), as a layer's is."""
    spec = create_model("_GatedSpec", __base__=Spec, **fields)
    spec.target_class, spec.excluded_options = _Gated, ("features", "activation")
    return spec


def test_a_field_named_like_an_excluded_option_is_the_builders_and_is_not_compared():
    activation = (component("activation"), Field("relu", validate_default=True))
    assert disagreements(_gated_spec(units=(count(), 4), activation=activation)) == []
    # an option beside it still counts
    assert disagreements(_gated_spec(units=(count(), 8), activation=activation)) == [
        "'units': default 8 in the spec, 4 in tests.config.test_component_consistency._Gated"
    ]
    # and only an excluded one is the builder's: a field for a module option the spec does not exclude is compared
    kept = _gated_spec(units=(count(), 4), activation=activation)
    kept.excluded_options = ("features",)
    assert disagreements(kept) == [
        "'activation': default 'relu' in the spec, None in tests.config.test_component_consistency._Gated"
    ]


def test_a_foreign_targets_fields_must_be_its_keywords_but_a_component_field_is_the_builders():
    def table(**fields) -> type:
        spec = create_model("_EmbeddingSpec", __base__=Spec, **fields)
        spec.target_class = torch.nn.Embedding
        return spec

    init = (component("initializer") | None, None)
    assert disagreements(table(num_embeddings=(count(), ...), padding_idx=(count(0) | None, None), init=init)) == []
    assert disagreements(table(vocabulary=(count(), ...))) == [
        "field 'vocabulary' is not a keyword of torch.nn.modules.sparse.Embedding"
    ]
    assert disagreements(table(padding_idx=(count(0) | None, 0))) == [
        "'padding_idx': default 0 in the spec, None in torch.nn.modules.sparse.Embedding"
    ]


def _scaled(x: float, *, gain: Annotated[float, Bounds(gt=0)] = 1.0, mode: Annotated[str, Choices("a", "b")] = "a"):
    """A toy function whose keywords are the options (a loss function's ``delta``)."""
    return x * gain


def test_a_function_target_is_checked_like_a_constructor():
    derived = spec_base(_scaled, Spec, exclude=("x",))
    assert list(derived.model_fields) == ["gain", "mode"] and disagreements(derived) == []
    drifted = create_model("_Drifted", __base__=Spec, gain=(number(0, lo_open=True), 2.0))
    drifted.target_class, drifted.excluded_options = _scaled, ("x",)
    assert sorted(disagreements(drifted)) == [
        "'gain': default 2.0 in the spec, 1.0 in tests.config.test_component_consistency._scaled",
        "tests.config.test_component_consistency._scaled takes 'mode', which the spec has no field for (renamed?)",
    ]


def test_a_renamed_keyword_names_its_new_name():
    with pytest.raises(TypeError, match=r"^_Gated: 'hidden' is now 'units'$"):
        _Gated(3, hidden=5)
    with pytest.raises(ValueError, match=r"units: expected an integer >= 1, got 0"):
        _Gated(3, units=0)
    assert _Gated(3, units=5).units == 5


def test_a_base_shared_by_only_some_components_of_a_kind_is_no_excuse():
    # the pooling layers' window options live in a base the other layers lack: they are the component's own
    from lamina.nn.convolution import PoolSpec

    pool = type("_AvgPool", (PoolSpec,), {"__module__": __name__, "target_class": torch.nn.AvgPool2d})
    pool.registry_kind = "layer"
    assert disagreements(pool) == ["field 'dilation' is not a keyword of torch.nn.modules.pooling.AvgPool2d"]
    assert _framework_fields(pool) == {"name", "inputs"}  # what every layer has
