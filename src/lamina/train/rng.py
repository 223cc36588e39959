"""The trainer's randomness, kept apart from the caller's: a seeded shuffling generator and the global torch
generators (used by dropout and by initialisation) forked for the duration of training, so that library code
never reseeds the process and a checkpoint can carry every stream; and :func:`seeded`, which runs a block (a
model's weight initialisation) on a seeded generator without touching the caller's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

__all__ = ["RngStreams", "resolve_device", "seeded"]


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Run the enclosed code (e.g. weight initialisation) on a generator seeded with ``seed``, leaving the
    caller's global random state as it was; ``None``: on the global generator as it is."""
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"``: CUDA if available, then Apple's MPS, then the CPU; anything else as ``torch.device``."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"`device` must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {device!r}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for, but CUDA is not available on this machine")
    return resolved


class RngStreams:
    """A seed's random streams for one training run.

    ``shuffle`` is a CPU ``torch.Generator`` for the epoch permutations. Inside ``active()``, the global CPU (and
    CUDA) generators run on this run's own state, seeded from ``seed`` the first time and restored the next, and
    the caller's global state is put back on exit. With ``seed=None`` the global generators are used as they are.
    """

    def __init__(self, seed: int | None, device: torch.device, *, rank: int = 0) -> None:
        self.seed = seed
        self.device = device
        self.rank = rank  # each process of a distributed run draws its own dropout masks
        self.shuffle = torch.Generator()
        # without a seed, shuffling still varies from run to run: draw its seed from the global generator
        self.shuffle.manual_seed(seed if seed is not None else int(torch.randint(2**62, ())))
        self._global: dict[str, Any] | None = None  # the run's global-generator state between fits

    def _cuda_devices(self) -> list[int]:
        return [self.device.index or 0] if self.device.type == "cuda" else []

    def _capture(self) -> dict[str, Any]:
        state = {"cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def _restore(self, state: dict[str, Any]) -> None:
        torch.set_rng_state(state["cpu"])
        if "cuda" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda"], self.device)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """Run the enclosed code on this run's global-generator state."""
        if self.seed is None:
            yield
            return
        with torch.random.fork_rng(devices=self._cuda_devices()):
            if self._global is None:
                torch.manual_seed(self.seed + self.rank)
            else:
                self._restore(self._global)
            self._inside = True
            try:
                yield
            finally:
                self._inside = False
                self._global = self._capture()

    _inside = False

    def state_dict(self) -> dict[str, Any]:
        """The shuffling generator's and the run's global generators' states."""
        global_state = self._capture() if self._inside or self.seed is None else self._global
        return {"seed": self.seed, "shuffle": self.shuffle.get_state(), "global": global_state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.shuffle.set_state(state["shuffle"])
        self._global = state["global"]
        if self.seed is None and self._global is not None:
            self._restore(self._global)
