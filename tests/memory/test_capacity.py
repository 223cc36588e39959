"""The capacity experiment: the Hebbian curve against the theory's shape, the 95% crossing by hand, bad input."""

from __future__ import annotations

import json

import pytest

from lamina.memory import CapacityCurve, capacity_curve, plot_capacity


def curve(loads, recall):
    return CapacityCurve(
        rule="hebbian",
        desaturation=None,
        n=100,
        noise=0.1,
        trials=1,
        mode="async",
        threshold=0.99,
        probes=None,
        loads=tuple(loads),
        patterns=tuple(round(a * 100) for a in loads),
        recall=tuple(recall),
        recall_trials=tuple((r,) for r in recall),
        steps=(1.0,) * len(loads),
    )


def test_capacity_interpolates_the_first_crossing():
    assert curve([0.1, 0.2, 0.3], [1.0, 0.97, 0.45]).capacity(0.95) == pytest.approx(0.2 + 0.1 * 0.02 / 0.52)
    assert curve([0.1, 0.2], [0.9, 0.5]).capacity(0.95) == pytest.approx(0.1 * 0.05 / 0.1)  # from (0, 1)
    assert curve([0.1, 0.2], [1.0, 0.99]).capacity(0.95) is None


def test_hebbian_recall_falls_from_low_to_high_load():
    result = capacity_curve("hebbian", 200, [0.03, 0.35], noise=0.1, trials=3, seed=0)
    assert result.recall[0] >= 0.95 and result.recall[1] <= 0.05  # either side of 0.138
    assert result.patterns == (6, 70) and len(result.recall_trials[0]) == 3 and result.label == "hebbian"


def test_desaturated_pseudoinverse_holds_more_than_hebbian():
    loads = [0.3]
    hebbian = capacity_curve("hebbian", 200, loads, trials=2, probes=20)
    desaturated = capacity_curve("pseudoinverse", 200, loads, trials=2, probes=20, desaturation=0.2, mode="sync")
    assert desaturated.recall[0] >= 0.9 > 0.1 >= hebbian.recall[0]
    assert desaturated.label == "pseudoinverse k=0.2" and desaturated.theory == 0.7


def test_stop_after_zero_ends_the_curve_and_probes_subsample(tmp_path):
    seen = []
    result = capacity_curve(
        "hebbian",
        100,
        [0.05, 0.5, 0.6, 0.7, 0.8],
        trials=2,
        probes=10,
        stop_after_zero=2,
        on_load=lambda load, rate: seen.append(load),
    )
    assert result.loads == (0.05, 0.5, 0.6) and seen == [0.05, 0.5, 0.6]
    assert result.to_dict()["capacity_95"] == result.capacity(0.95)
    assert CapacityCurve.from_dict(json.loads(json.dumps(result.to_dict()))) == result
    path = plot_capacity([result], tmp_path / "capacity.png")
    assert path.stat().st_size > 10_000


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rule": "pseudoinverse", "loads": [0.5, 1.2]}, "stores at most n = 50 patterns: load 1.2 asks for 60"),
        ({"noise": 1.0}, "`noise` must be a fraction of bits in [0, 1), got 1.0"),
        ({"desaturation": 0.0}, "`desaturation` must be a number k in (0, 1], got 0.0"),
        ({"loads": [0.0, 0.1]}, "`loads` must be positive loads M/N"),
        ({"probes": 0}, "`probes` must be a positive integer, got 0"),
        ({"rule": "projection"}, "`rule` must be one of 'hebbian', 'pseudoinverse'"),
    ],
)
def test_bad_input(kwargs, message):
    options = {"rule": "hebbian", "n": 50, "loads": [0.1], **kwargs}
    with pytest.raises(ValueError) as err:
        capacity_curve(**options)
    assert message in str(err.value)
