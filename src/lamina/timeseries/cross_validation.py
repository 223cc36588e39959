"""Blocked K-fold cross-validation of forecasters, with the neighbours of each validation block left out.

A single validation period at the end of the training years is a poor judge on short series: the sunspots'
1901-1920 has 20 years of low activity. Blocked K-fold cross-validation scores every part of the series instead: the
windows are cut into ``n_splits`` contiguous blocks, each block is the validation set once, and the model is fitted
on the rest. For a purely autoregressive model with uncorrelated errors (a TDNN or NAR network fitted to lag
windows) this is a valid estimate of the prediction error (Bergmeir, Hyndman & Koo, 2018). ``gap`` windows on each
side of the block are dropped from the fit as well, the h-block scheme of Burman, Chow & Nolan (1994) and Racine
(2000): with ``gap = lags`` no fitted window reads a validation target as an input, and no validation window
reads a fitted target.

scikit-learn's ``TimeSeriesSplit`` (forward chaining, with a ``gap`` before each test block) fits its first folds
on a small part of a short series; ``KFold(shuffle=False)`` has the blocks but no gap. :class:`BlockedKFold` follows
scikit-learn's splitter protocol (``split``, ``get_n_splits``), so ``GridSearchCV(..., cv=BlockedKFold(5, gap=12))``
takes it.

>>> folds = BlockedKFold(n_splits=5, gap=12)
>>> for fit, val in folds.split(windows.inputs):   # index arrays into the windows, in time order
...     ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["BlockedKFold"]


def _count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


class BlockedKFold:
    """Contiguous K-fold splits of ``n`` time-ordered samples, dropping ``gap`` samples on each side of the
    validation block from the fit (h-block cross-validation: Burman, Chow & Nolan, 1994; Racine, 2000).

    Args:
        n_splits: the number of blocks, at least 2. Blocks differ in length by at most one
            (``numpy.array_split``).
        gap: samples dropped from the fit before and after each validation block; the lag count of the windows
            keeps fitted and validation windows from sharing a value.

    Yields (from :meth:`split`):
        ``(fit, validation)`` index arrays (int64, increasing) into the samples.

    References:
        Burman, P., Chow, E. & Nolan, D. (1994). A cross-validatory method for dependent data. Biometrika 81.
        Racine, J. (2000). Consistent cross-validatory model-selection for dependent data: hv-block
        cross-validation. Journal of Econometrics 99. Bergmeir, C., Hyndman, R. J. & Koo, B. (2018). A note on the
        validity of cross-validation for evaluating autoregressive time series prediction. CSDA 120.
    """

    def __init__(self, n_splits: int = 5, *, gap: int = 0) -> None:
        self.n_splits = _count("n_splits", n_splits, 2)
        self.gap = _count("gap", gap, 0)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of folds (scikit-learn's splitter protocol)."""
        return self.n_splits

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The folds of the samples ``X`` (anything with a length: an array, a tensor, a dataset), in time order."""
        n = len(X)
        # each block needs the other samples to leave something to fit on, after the gap on both sides
        smallest_fit = n - -(-n // self.n_splits) - 2 * self.gap
        if n < self.n_splits or smallest_fit < 1:
            raise ValueError(
                f"BlockedKFold(n_splits={self.n_splits}, gap={self.gap}) needs more than {n} samples: "
                f"at least {self.n_splits} blocks and something left to fit beside each block and its "
                f"gaps of {self.gap} (try fewer splits or a smaller gap)"
            )
        index = np.arange(n, dtype=np.int64)
        for block in np.array_split(index, self.n_splits):
            start, stop = int(block[0]), int(block[-1]) + 1
            fit = index[(index < start - self.gap) | (index >= stop + self.gap)]
            yield fit, block

    def __repr__(self) -> str:
        return f"BlockedKFold(n_splits={self.n_splits}, gap={self.gap})"
