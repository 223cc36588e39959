"""``lamina.sklearn.HopfieldMemory``: the Hopfield associative memory (:class:`lamina.memory.Hopfield`) behind
scikit-learn's ``fit`` / ``predict`` / ``score``: ``fit`` stores patterns, ``predict`` recalls them from probes."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from lamina.errors import did_you_mean
from lamina.memory import Hopfield, as_bipolar
from lamina.memory.dynamics import async_recall
from lamina.sklearn.params import check_param, is_int, is_number, seed_from, store_params
from lamina.sklearn.pickling import usable_device
from lamina.train.rng import resolve_device

__all__ = ["HopfieldMemory"]

RULES = {"hebbian": "hebbian", "pseudoinverse": "pseudoinverse", "pseudo_inverse": "pseudoinverse"}
MODES = ("async", "sync")


class HopfieldMemory(BaseEstimator):
    """Hopfield network used as a content-addressable memory: ``fit(X)`` stores the rows of ``X`` (binary 0/1 or
    bipolar -1/+1 patterns of ``n_features`` units), ``predict(X)`` runs the dynamics ``s_i <- sgn(sum_j w_ij s_j)``
    from each row of ``X`` to a fixed point and returns it: the stored pattern nearest the probe, while the memory
    is below capacity (Hopfield, 1982).

    Learning rules (:mod:`lamina.memory.learning`): ``"hebbian"``, ``W = (1/N) sum_mu xi^mu xi^mu^T`` with zero
    diagonal, holds about ``0.138 N`` random patterns; ``"pseudoinverse"`` (Personnaz, Guyon & Dreyfus, 1985),
    ``W = X^+ X``, makes every one of up to ``N`` linearly independent patterns a fixed point, and with
    ``desaturation`` about 0.15 (Gorodnichy & Reznik, 1997) retrieves noisy probes up to about ``0.7 N`` patterns.

    It is neither a classifier nor a regressor: ``predict`` returns patterns, shape (n_samples, n_features), in
    the alphabet the stored patterns came in (-1/+1 if they held -1, else 0/1), and ``score(X, y)`` is the
    fraction of probes recalled exactly as their target patterns.

    Parameters
    ----------
    rule : {"hebbian", "pseudoinverse"}, default="hebbian"
        The learning rule (``"pseudo_inverse"`` is accepted for ``"pseudoinverse"``).
    desaturation : float in (0, 1] or None, default=None
        The factor on the diagonal of ``W`` (``None``: 0 for Hebbian, 1 for pseudo-inverse).
    binarize : float or None, default=None
        ``None``: patterns and probes must be binary or bipolar (other values are refused, naming the row); a
        number: values above it are "on" (+1), the others "off" (-1), as ``sklearn.preprocessing.Binarizer`` does.
    mode : {"async", "sync"}, default="async"
        Asynchronous updates (one unit at a time in a random order; always ends in a fixed point) or synchronous
        ones (all at once; may end in a two-cycle).
    max_steps : int, default=100
        The most sweeps (async) or steps (sync) of a recall.
    random_state : int, RandomState or None, default=None
        Seeds the asynchronous update orders. Each probe's order is drawn from this seed and the probe itself,
        so a probe's recall does not depend on the rows beside it.
    device : str, default="cpu"
        Where the weights live and the dynamics run.

    Attributes
    ----------
    memory_ : lamina.memory.Hopfield
        The memory. ``weights_`` (n_features, n_features): its synaptic matrix (a copy).
    patterns_ : ndarray of shape (n_patterns, n_features)
        The stored patterns, in the output alphabet.
    alphabet_ : {"bipolar", "binary"}
        The alphabet of ``predict``'s output.
    n_features_in_ : int
        Units ``N``. ``feature_names_in_``: the column names of a DataFrame ``X``.

    References
    ----------
    .. [1] Hopfield (1982), "Neural networks and physical systems with emergent collective computational
       abilities", PNAS 79.
    .. [2] Personnaz, Guyon & Dreyfus (1985), "Information storage and retrieval in spin-glass like neural
       networks", J. Physique Lettres 46.
    .. [3] Gorodnichy & Reznik (1997), "Increasing attraction of pseudo-inverse autoassociative networks",
       Neural Processing Letters 5.

    Examples
    --------
    >>> import numpy as np
    >>> from lamina.sklearn import HopfieldMemory
    >>> patterns = np.random.RandomState(0).randint(0, 2, size=(5, 100))
    >>> memory = HopfieldMemory(random_state=0).fit(patterns)
    >>> noisy = patterns.copy(); noisy[:, :10] ^= 1          # 10 of 100 bits flipped
    >>> memory.score(noisy, patterns)
    1.0
    """

    def __init__(
        self,
        rule: str = "hebbian",
        *,
        desaturation: float | None = None,
        binarize: float | None = None,
        mode: str = "async",
        max_steps: int = 100,
        random_state: Any = None,
        device: str = "cpu",
    ) -> None:
        store_params(self, locals())

    def _check_params(self) -> None:
        for name, options in (("rule", tuple(RULES)), ("mode", MODES)):
            value = getattr(self, name)
            if value not in options:
                raise ValueError(
                    f"`{name}` must be one of {', '.join(map(repr, options))}, got {value!r};"
                    f"{did_you_mean(value, options) if isinstance(value, str) else ''}".rstrip(";")
                )
        check_param(is_int(self.max_steps) and self.max_steps >= 1, "max_steps", "a positive integer", self.max_steps)
        check_param(self.binarize is None or is_number(self.binarize), "binarize", "a number or None", self.binarize)

    def _bipolar(self, X: Any, *, what: str, reset: bool = False) -> torch.Tensor:
        """Validated rows of ``X`` as a ``(n, n_features)`` tensor of -1/+1 on the memory's device."""
        X = validate_data(self, X, reset=reset, accept_sparse=["csr", "csc", "coo"], dtype=(np.float64, np.float32))
        X = X.toarray() if hasattr(X, "toarray") else X
        if reset:
            self.alphabet_ = "bipolar" if bool(np.isin(X, (-1, 1)).all() and (X == -1).any()) else "binary"
        device = self.memory_.device if hasattr(self, "memory_") else resolve_device(self.device)
        if self.binarize is not None:
            return torch.as_tensor(np.where(X > self.binarize, 1.0, -1.0), dtype=torch.float32, device=device)
        return as_bipolar(X, X.shape[1], what=what, device=device)

    def _output(self, states: torch.Tensor) -> np.ndarray:
        s = states.cpu().numpy().astype(np.int64)
        return s if self.alphabet_ == "bipolar" else (s + 1) // 2

    # -- the estimator API --------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> HopfieldMemory:
        """Forget what was stored and store the rows of ``X`` (n_patterns, n_features); ``y`` is ignored."""
        self._check_params()
        self.__dict__.pop("memory_", None)
        patterns = self._bipolar(X, what="patterns", reset=True)
        self._seed_ = seed_from(self.random_state)
        self.memory_ = Hopfield(
            patterns.shape[1], RULES[self.rule], desaturation=self.desaturation, device=patterns.device
        ).store(patterns)
        return self

    def partial_fit(self, X: Any, y: Any = None) -> HopfieldMemory:
        """Store the rows of ``X`` as well (the weights of storing ``A`` then ``B`` are those of ``[A; B]``)."""
        if not hasattr(self, "memory_"):
            return self.fit(X)
        self._check_params()
        self.memory_.store(self._bipolar(X, what="patterns"))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The state each probe (row of ``X``) settles in, shape (n_samples, n_features), in ``alphabet_``."""
        check_is_fitted(self, "memory_")
        self._check_params()
        probes = self._bipolar(X, what="probes")
        if self.mode == "sync":
            return self._output(self.memory_.recall(probes, mode="sync", max_steps=self.max_steps).states)
        weights, device = self.memory_.weights, self.memory_.device
        states = torch.empty_like(probes)
        for i, probe in enumerate(probes):
            # the probe's own update order: seeded by random_state and the probe, not by its place in X
            seed = zlib.crc32(probe.cpu().numpy().tobytes(), self._seed_ & 0xFFFFFFFF)
            generator = torch.Generator(device=device).manual_seed(seed)
            states[i] = async_recall(weights, probe[None], max_steps=self.max_steps, generator=generator).states[0]
        return self._output(states)

    def score(self, X: Any, y: Any = None) -> float:
        """The fraction of probes ``X`` recalled exactly as ``y`` (the patterns they should recall, shape
        (n_samples, n_features); default: ``X`` itself, i.e. the fraction of rows that are stable memories)."""
        recalled = self.predict(X)
        if y is None:
            y = X
        y = np.asarray(y.toarray() if hasattr(y, "toarray") else y)
        if y.ndim != 2 or y.shape != recalled.shape:
            raise ValueError(
                f"`y` must be the patterns the probes should recall, shape {recalled.shape} (one row of "
                f"{recalled.shape[1]} units per probe); got shape {y.shape}"
            )
        targets = self._output(self._bipolar_targets(y))
        return float((recalled == targets).all(axis=1).mean())

    def _bipolar_targets(self, y: np.ndarray) -> torch.Tensor:
        if self.binarize is not None:
            return torch.as_tensor(np.where(y > self.binarize, 1.0, -1.0))
        return as_bipolar(y, y.shape[1], what="y")

    # -- fitted attributes and pickling -------------------------------------------------------------------

    @property
    def weights_(self) -> np.ndarray:
        """The synaptic matrix ``W`` (n_features, n_features), desaturation applied (a copy)."""
        return self.memory_.weights.cpu().numpy().copy()

    @property
    def patterns_(self) -> np.ndarray:
        """The stored patterns (n_patterns, n_features), in ``alphabet_``."""
        return self._output(self.memory_.patterns)

    def __getstate__(self) -> dict[str, Any]:
        """The parameters and fitted attributes, with the memory as its state dict of CPU tensors."""
        state = dict(super().__getstate__())
        memory = state.pop("memory_", None)
        if memory is not None:
            state["_memory_state"] = {
                k: v.cpu() if isinstance(v, torch.Tensor) else v for k, v in memory.state_dict().items()
            }
            state["_memory_device"] = str(memory.device)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        memory, device = state.pop("_memory_state", None), state.pop("_memory_device", "cpu")
        super().__setstate__(state)
        if memory is not None:
            self.memory_ = Hopfield.from_state_dict(memory, device=usable_device(device))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = False
        return tags
