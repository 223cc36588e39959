"""The capacity experiment: how often a Hopfield memory retrieves a stored pattern from a noisy probe, against the
load ``M / N``.

For each trial, ``M`` random bipolar patterns are stored; each stored pattern, with a fixed fraction of its bits
flipped, is a probe; a probe is *retrieved* when the final state agrees with its pattern on at least ``threshold`` of
the bits (default 99%). That default is stricter than the theory's: just below ``alpha_c = 0.138`` the retrieval
state overlaps the pattern by ``m ~ 0.967`` (Amit, Gutfreund and Sompolinsky, 1985), i.e. about 1.6% of its bits are
wrong; ``threshold = 0.975`` (``m >= 0.95``) counts those states as retrieved. The recall rate is the fraction of
retrieved probes.
Loads are visited in increasing order and each trial's memory grows incrementally (Hebbian sums, Greville updates),
and all trials run together as one batch of memories.

References:
    D. J. Amit, H. Gutfreund, H. Sompolinsky, "Storing infinite numbers of patterns in a spin-glass model of neural
    networks", 1985.
    D. O. Gorodnichy, A. M. Reznik, "Increasing attraction of pseudo-inverse autoassociative networks", 1997.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch

from lamina.memory.dynamics import async_recall, sync_recall
from lamina.memory.hopfield import MODES, RULES, _choice
from lamina.memory.learning import desaturate, projection_update
from lamina.memory.patterns import flip_bits

__all__ = ["CapacityCurve", "capacity_curve", "plot_capacity", "THEORY"]

# published capacities M/N: Amit et al. 1985 (Hebbian), Gorodnichy and Reznik 1997 (desaturated pseudo-inverse)
THEORY = {"hebbian": 0.138, "pseudoinverse desaturated": 0.7}
_MAX_PROBES = 8192  # probes run at once; bounds memory to a few hundred MB at N = 1000


@dataclass(frozen=True)
class CapacityCurve:
    """Recall rate against load for one rule.

    Attributes:
        rule, desaturation, n, noise, trials, mode, threshold, probes: the experiment (``probes``: per trial and
            load, ``None`` for all stored patterns).
        loads: ``M / N`` for each point (``M = round(load * n)``).
        patterns: ``M`` for each point.
        recall: the recall rate at each load (all trials' probes pooled).
        recall_trials: the recall rate of each trial, per load.
        steps: the mean sweeps (async) or steps (sync) per probe, per load.
    """

    rule: str
    desaturation: float | None
    n: int
    noise: float
    trials: int
    mode: str
    threshold: float
    probes: int | None
    loads: tuple[float, ...]
    patterns: tuple[int, ...]
    recall: tuple[float, ...]
    recall_trials: tuple[tuple[float, ...], ...]
    steps: tuple[float, ...]

    @property
    def label(self) -> str:
        """``"hebbian"``, ``"pseudoinverse"`` or ``"pseudoinverse k=0.15"``."""
        return self.rule if self.desaturation is None else f"{self.rule} k={self.desaturation:g}"

    @property
    def theory(self) -> float | None:
        """The published capacity ``M/N`` for this rule, where there is one."""
        if self.rule == "hebbian":
            return THEORY["hebbian"]
        return THEORY["pseudoinverse desaturated"] if self.desaturation not in (None, 1.0) else None

    def capacity(self, level: float = 0.95) -> float | None:
        """The load at which the recall rate first falls below ``level``, interpolated linearly between the last
        load at or above it and the first below it (from ``(0, 1)`` if the first load is already below); ``None``
        if the rate never falls below ``level`` over the loads measured."""
        previous = (0.0, 1.0)
        for load, rate in zip(self.loads, self.recall):
            if rate < level:
                (x0, y0), (x1, y1) = previous, (load, rate)
                return x0 + (y0 - level) / (y0 - y1) * (x1 - x0)
            previous = (load, rate)
        return None

    def to_dict(self) -> dict:
        """Plain values for JSON."""
        return {**asdict(self), "label": self.label, "capacity_95": self.capacity(0.95)}

    @classmethod
    def from_dict(cls, data: dict) -> CapacityCurve:
        """The curve :meth:`to_dict` wrote (derived keys such as ``label`` are ignored)."""
        names = [f.name for f in fields(cls)]
        missing = [name for name in names if name not in data]
        if missing:
            raise ValueError(f"a capacity curve needs the keys {', '.join(missing)}")
        values = {name: data[name] for name in names}
        for name in ("loads", "patterns", "recall", "steps"):
            values[name] = tuple(values[name])
        values["recall_trials"] = tuple(tuple(r) for r in values["recall_trials"])
        return cls(**values)


def capacity_curve(
    rule: str,
    n: int,
    loads: Sequence[float],
    noise: float = 0.1,
    trials: int = 10,
    *,
    desaturation: float | None = None,
    mode: str = "async",
    probes: int | None = None,
    threshold: float = 0.99,
    max_steps: int = 100,
    stop_after_zero: int | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
    on_load: Callable[[float, float], None] | None = None,
) -> CapacityCurve:
    """Measure the recall rate of a Hopfield memory against its load.

    Args:
        rule: ``"hebbian"`` or ``"pseudoinverse"``.
        n: units ``N``.
        loads: the loads ``M / N`` to measure (each in ``(0, 1]`` for the pseudo-inverse rule).
        noise: the fraction of bits flipped in each probe, in ``[0, 1)``.
        trials: independent sets of random patterns.
        desaturation: ``k`` as in :class:`~lamina.memory.Hopfield`.
        mode: ``"async"`` or ``"sync"`` dynamics.
        probes: probes per trial and load: a random subset of this many stored patterns (``None``: all ``M``).
            The patterns are independent and the weights do not depend on their order, so a subset estimates
            the same rate with fewer recalls.
        threshold: the fraction of bits a final state must share with its pattern to count as retrieved.
        max_steps: per recall, as in :meth:`Hopfield.recall`.
        stop_after_zero: stop the curve after this many consecutive loads with no probe retrieved (the curve
            ends there; ``None``: measure every load).
        seed: seeds the patterns, the noise and the update orders.
        device, dtype: where the memories live.
        on_load: called after each load with ``(load, recall rate)`` (progress reports).

    Returns:
        :class:`CapacityCurve` (over the loads measured).
    """
    _choice("rule", rule, RULES)
    _choice("mode", mode, MODES)
    optional = {"probes": probes, "stop_after_zero": stop_after_zero}
    checked = {"n": n, "trials": trials, "max_steps": max_steps, **{k: v for k, v in optional.items() if v is not None}}
    for name, value in checked.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
    if not 0.0 <= noise < 1.0:
        raise ValueError(f"`noise` must be a fraction of bits in [0, 1), got {noise!r}")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"`threshold` must be in (0, 1], got {threshold!r}")
    if desaturation is not None and not 0.0 < desaturation <= 1.0:
        raise ValueError(f"`desaturation` must be a number k in (0, 1], got {desaturation!r}")
    loads = sorted(float(a) for a in loads)
    if not loads or loads[0] <= 0:
        raise ValueError(f"`loads` must be positive loads M/N, got {loads!r}")
    sizes = [max(1, round(a * n)) for a in loads]
    if rule == "pseudoinverse" and sizes[-1] > n:
        raise ValueError(
            f"the pseudo-inverse rule stores at most n = {n} patterns: load {loads[-1]:g} asks for "
            f"{sizes[-1]}; keep loads <= 1"
        )

    generator = torch.Generator(device=device or "cpu").manual_seed(seed)
    signs = torch.randint(0, 2, (trials, sizes[-1], n), generator=generator, device=device)
    patterns = signs.to(dtype) * 2 - 1  # (T, M_max, N)
    raw = torch.zeros(trials, n, n, dtype=dtype, device=device)  # Hebbian sum or projection, per trial
    factor = desaturation if desaturation is not None else (0.0 if rule == "hebbian" else 1.0)
    stored, zeros, measured, rates, per_trial, steps = 0, 0, [], [], [], []
    for load, m in zip(loads, sizes):
        block = patterns[:, stored:m]  # (T, new, N)
        if rule == "hebbian":
            raw += block.transpose(1, 2) @ block / n
        else:
            for first in range(0, block.shape[1], 64):  # blocks of 64: the SVD of each stays cheap
                raw, _ = projection_update(raw, block[:, first : first + 64])
        stored = m
        weights = desaturate(raw, factor)
        count = m if probes is None else min(probes, m)
        chosen = torch.rand(trials, m, generator=generator, device=generator.device).argsort(dim=1)[:, :count]
        targets = patterns[:, :m].gather(1, chosen.to(raw.device).unsqueeze(-1).expand(-1, -1, n))  # (T, B, N)
        noisy = flip_bits(targets, noise, generator=generator)
        hits = torch.empty(trials, count, device=raw.device)
        sweeps = torch.empty(trials, count, device=raw.device)
        chunk = max(1, _MAX_PROBES // count)  # trials per batch
        for t in range(0, trials, chunk):
            part = slice(t, t + chunk)
            if mode == "sync":
                result = sync_recall(weights[part], noisy[part], max_steps=max_steps)
            else:
                result = async_recall(weights[part], noisy[part], max_steps=max_steps, generator=generator)
            agree = (result.states == targets[part]).to(dtype).mean(dim=-1)
            hits[part], sweeps[part] = (agree >= threshold).float(), result.steps.float()
        measured.append((load, m))
        rates.append(float(hits.mean()))
        per_trial.append(tuple(float(r) for r in hits.mean(dim=1)))
        steps.append(float(sweeps.mean()))
        if on_load is not None:
            on_load(load, rates[-1])
        zeros = zeros + 1 if rates[-1] == 0.0 else 0
        if stop_after_zero is not None and zeros >= stop_after_zero:
            break
    return CapacityCurve(
        rule=rule,
        desaturation=desaturation,
        n=n,
        noise=noise,
        trials=trials,
        mode=mode,
        threshold=threshold,
        probes=probes,
        loads=tuple(a for a, _ in measured),
        patterns=tuple(m for _, m in measured),
        recall=tuple(rates),
        recall_trials=tuple(per_trial),
        steps=tuple(steps),
    )


def plot_capacity(
    curves: Sequence[CapacityCurve], path: str | Path, *, level: float = 0.95, title: str | None = None
) -> Path:
    """One figure: recall rate against load for each curve, the ``level`` line, and the published capacities."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lamina.report import save_figure

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for curve in curves:
        ax.plot(curve.loads, curve.recall, "-o", markersize=3, label=curve.label)
    ax.axhline(level, color="gray", linestyle="--", linewidth=1, label=f"{level:.0%} recall")
    shown = {
        "hebbian": any(c.rule == "hebbian" for c in curves),
        "pseudoinverse desaturated": any(c.rule == "pseudoinverse" and c.theory for c in curves),
    }
    for name, value in THEORY.items():
        if shown[name]:  # the published capacity of each rule drawn
            ax.axvline(value, color="gray", linestyle=":", linewidth=1)
            ax.annotate(f"{name}\ntheory {value:g} N", (value, 0.5), rotation=90, fontsize=7, ha="right", va="center")
    first = curves[0] if curves else None
    if title is None and first is not None:
        title = (
            f"Hopfield capacity: N = {first.n}, {first.noise:.0%} bits flipped, {first.trials} trials, "
            f"{first.mode} updates"
        )
    ax.set_title(title or "Hopfield capacity", fontsize=10)
    ax.set_xlabel("load M/N (stored patterns per unit)")
    ax.set_ylabel(
        f"recall rate (fraction of probes ending\nwithin {1 - (first.threshold if first else 0.99):.0%}"
        " of bits of their pattern)"
    )
    ax.set_ylim(-0.02, 1.02)
    drawn = [v for name, v in THEORY.items() if shown[name]]
    ax.set_xlim(0, max([c.loads[-1] for c in curves] + drawn, default=1.0) * 1.04)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))  # outside: the curves fill the axes
    return save_figure(fig, Path(path))
