"""An option is declared once (issue 25): every registered component's spec agrees with the constructor it builds
on each option's name, default and bounds, or is listed below with the reason it does not (yet)."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import create_model

import lamina  # noqa: F401  (registers every component)
from lamina.config.component import Bounds, Choices, disagreements, options_of, spec_base, validated
from lamina.config.fields import number
from lamina.config.spec import Spec
from lamina.registry import KINDS, registry

# Each reason says why the component's options are not tied to a constructor. The test fails if an entry
# becomes consistent (take it out), names nothing registered, or if a component outside the list drifts.
_LAYER = (
    "builds a composition from the input shape (a torch module sized by it, an initializer, an activation), "
    "so no one constructor's signature declares its options: lamina's `units` is nn.Linear's out_features "
    "only once the input fixes in_features"
)
_STRUCTURAL = "has no options of its own: it wires or reshapes other layers' outputs"
_SOFTMAX = (
    "keeps dim = -1 (the last axis) where torch's default dim=None is the deprecated implicit-dimension "
    "rule, so the two defaults differ on purpose"
)
_FUNCTION = "the spec is the implementation (a function of tensors it calls itself); no other class takes the options"
_SCHEDULE = "the spec is the implementation: its factor(t) method reads its own fields; no class takes the options"
_DATASET = (
    "the spec is the loader's only declaration: build() reads its fields; no class or function takes them as keywords"
)

NOT_YET: dict[tuple[str, str], str] = {
    **{
        ("layer", n): _LAYER
        for n in (
            "additive_attention",
            "avg_pool1d",
            "avg_pool2d",
            "batchnorm",
            "bidirectional",
            "conv1d",
            "conv2d",
            "conv_transpose2d",
            "dense",
            "dot_product_attention",
            "dropconnect",
            "elman",
            "embedding",
            "gru",
            "highway",
            "hopfield_attention",
            "im2col_conv2d",
            "inception",
            "instancenorm",
            "layernorm",
            "lstm",
            "max_pool1d",
            "max_pool2d",
            "maxout",
            "narx",
            "residual",
            "rnn",
            "self_attention",
            "stacked_rnn",
            "tdnn",
            "time_distributed",
        )
    },
    **{
        ("layer", n): _STRUCTURAL
        for n in ("add", "average", "concat", "flatten", "global_avg_pool", "multiply", "reshape")
    },
    **{(kind, n): _SOFTMAX for kind in ("layer", "activation") for n in ("softmax", "log_softmax")},
    **{
        ("initializer", n): "an initializer is " + _FUNCTION.removeprefix("the spec is ")
        for n in (
            "constant",
            "glorot_normal",
            "glorot_uniform",
            "he_normal",
            "he_uniform",
            "lecun_normal",
            "lecun_uniform",
            "normal",
            "orthogonal",
            "uniform",
            "zeros",
        )
    },
    **{
        ("loss", n): _FUNCTION
        for n in ("binary_cross_entropy", "cross_entropy", "huber", "mae", "mse", "multi_label", "multi_task")
    },
    **{
        ("metric", n): _FUNCTION
        for n in ("accuracy", "mae", "mse", "nmse", "nrmse", "subset_accuracy", "top_k_accuracy")
    },
    **{
        ("schedule", n): _SCHEDULE
        for n in ("constant", "cosine", "exponential", "inverse_time", "linear", "multistep", "step")
    },
    **{
        ("dataset", n): _DATASET
        for n in (
            "convex",
            "csv_series",
            "curves",
            "digit_pairs",
            "digits",
            "faces",
            "fashion_mnist",
            "mackey_glass",
            "mnist",
            "mnist_basic",
            "mnist_bg_img",
            "mnist_bg_rand",
            "mnist_rot",
            "mnist_rot_bg_img",
            "olivetti",
            "rectangles",
            "rectangles_img",
            "sunspots",
            "tinyshakespeare",
        )
    },
}

REGISTERED = [(kind, name) for kind in KINDS for name in registry(kind).names(aliases=False)]


@pytest.mark.parametrize(("kind", "name"), REGISTERED, ids=[f"{k}:{n}" for k, n in REGISTERED])
def test_spec_and_constructor_agree(kind, name):
    problems = disagreements(registry(kind).lookup(name))
    if (kind, name) in NOT_YET:
        assert problems, f"{kind} {name!r} now agrees with its constructor: take it out of NOT_YET"
    else:
        assert not problems, f"{kind} {name!r}: " + "; ".join(problems)


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
