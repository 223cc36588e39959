"""What a training run logged, epoch by epoch (Keras' ``History``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["History"]


class History:
    """The per-epoch logs of a run: ``history[-1]`` is the last epoch's dict, ``history["val_loss"]`` a curve."""

    def __init__(self, epochs: list[dict[str, float]] | None = None) -> None:
        self.epochs: list[dict[str, float]] = list(epochs or [])

    def append(self, logs: dict[str, float]) -> None:
        """Add an epoch's logs."""
        self.epochs.append(dict(logs))

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            return [e.get(key, float("nan")) for e in self.epochs]
        return self.epochs[key]

    def __len__(self) -> int:
        return len(self.epochs)

    def __iter__(self) -> Iterator[dict[str, float]]:
        return iter(self.epochs)

    def metrics(self) -> list[str]:
        """Every metric name logged in any epoch, in first-seen order."""
        seen: dict[str, None] = {}
        for e in self.epochs:
            seen.update(dict.fromkeys(e))
        return list(seen)

    def best(self, metric: str, mode: str = "min") -> dict[str, float]:
        """The logs of the epoch where ``metric`` was lowest (``mode="min"``) or highest."""
        rows = [e for e in self.epochs if metric in e]
        if not rows:
            raise KeyError(f"no epoch logged {metric!r}; logged: {', '.join(self.metrics())}")
        return (min if mode == "min" else max)(rows, key=lambda e: e[metric])

    def state_dict(self) -> list[dict[str, float]]:
        """The logs, for a checkpoint."""
        return [dict(e) for e in self.epochs]

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.epochs[-1].items()) if self.epochs else ""
        return f"History({len(self)} epochs{'; last: ' + last if last else ''})"
