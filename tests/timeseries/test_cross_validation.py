"""BlockedKFold against folds written out by hand, scikit-learn's KFold (no gap) and a brute-force overlap check of
lag windows (gap = lags)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold

from lamina.timeseries import BlockedKFold, make_windows


def test_folds_by_hand():
    folds = [(fit.tolist(), val.tolist()) for fit, val in BlockedKFold(3, gap=1).split(np.zeros(10))]
    assert folds == [
        ([5, 6, 7, 8, 9], [0, 1, 2, 3]),  # blocks of 4, 3, 3; one sample dropped on each side of the block
        ([0, 1, 2, 8, 9], [4, 5, 6]),
        ([0, 1, 2, 3, 4, 5], [7, 8, 9]),
    ]


@pytest.mark.parametrize("n, k", [(10, 2), (23, 5), (209, 5), (7, 7)])
def test_without_gap_it_is_scikit_learns_unshuffled_kfold(n, k):
    ours = list(BlockedKFold(k).split(np.zeros(n)))
    theirs = list(KFold(k, shuffle=False).split(np.zeros(n)))
    assert len(ours) == len(theirs) == k
    for (fit, val), (fit_ref, val_ref) in zip(ours, theirs):
        assert fit.tolist() == fit_ref.tolist() and val.tolist() == val_ref.tolist()


@pytest.mark.parametrize("lags", [1, 3, 12])
def test_with_gap_equal_to_the_lags_no_fitted_window_shares_a_value_with_a_validation_window(lags):
    series = np.arange(80.0)  # each value is its own time index
    windows = make_windows(series, lags=lags)
    values = [set(row.tolist()) | set(target.tolist()) for row, target in zip(windows.inputs, windows.targets)]
    for fit, val in BlockedKFold(4, gap=lags).split(windows.inputs):
        seen = set().union(*(values[i] for i in val))
        assert all(not (values[i] & seen) for i in fit)
        # and the gap is no wider than that: the windows just outside it share nothing, the ones inside do
        start, stop = val[0], val[-1] + 1
        if start - lags - 1 >= 0:
            assert start - lags - 1 in fit and not values[start - lags - 1] & seen
        if start - lags >= 0:
            assert values[start - lags] & seen
        if stop + lags < len(values):
            assert stop + lags in fit


def test_every_sample_is_validated_once():
    val = np.concatenate([v for _, v in BlockedKFold(5, gap=3).split(range(57))])
    assert sorted(val.tolist()) == list(range(57))


def test_it_is_a_scikit_learn_splitter():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    y = x @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=60)
    search = GridSearchCV(Ridge(), {"alpha": [0.01, 100.0]}, cv=BlockedKFold(4, gap=2)).fit(x, y)
    assert search.best_params_ == {"alpha": 0.01}
    assert BlockedKFold(4).get_n_splits() == 4


@pytest.mark.parametrize("options", [{"n_splits": 1}, {"n_splits": 2.5}, {"n_splits": True}, {"gap": -1}])
def test_bad_settings_are_named(options):
    with pytest.raises(ValueError, match=next(iter(options))):
        BlockedKFold(**options)


def test_too_few_samples_say_how_many_are_needed():
    with pytest.raises(ValueError, match=r"needs more than 12 samples.*gaps of 5"):
        list(BlockedKFold(3, gap=5).split(np.zeros(12)))
    with pytest.raises(ValueError, match="needs more than 3 samples"):
        list(BlockedKFold(4).split(np.zeros(3)))
