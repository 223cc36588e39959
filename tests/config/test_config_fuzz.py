"""Random mutations of a valid experiment raise only ConfigError (or parse), never anything from inside."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lamina.config.loader import parse_experiment
from lamina.errors import ConfigError, ShapeError
from lamina.nn.builder import build_model
from tests.config.test_config_errors import VALID

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["dense", "relu", "sgd", "mnist", "digits", "adam"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated(draw):
    raw = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(raw) if p]
        if not paths:  # everything was deleted already
            break
        path = draw(st.sampled_from(paths))
        parent = raw
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["set", "delete", "add", "rename"]))
        if action == "set":
            parent[path[-1]] = draw(values)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(values)
        elif action == "rename" and isinstance(parent, dict):
            parent[path[-1] + draw(st.text(min_size=1, max_size=2))] = parent.pop(path[-1])
    return raw


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutations_raise_only_config_errors(raw):
    try:
        exp = parse_experiment(raw)
    except ConfigError as err:
        assert err.problems and all(p.message for p in err.problems)
        return
    try:  # a config that validates either builds or names the layer whose shapes do not chain
        build_model(exp.model, (1, 8, 8))
    except ShapeError as err:
        assert "model." in str(err)
