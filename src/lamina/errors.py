"""lamina's exceptions.

Every error a user can cause is a subclass of :class:`LaminaError` carrying a message in plain words that
names the file, the field or the layer and what was expected. Each also subclasses the builtin type a
Python user would catch (``ValueError``, ``FileNotFoundError``, ...), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "LaminaError",
    "ConfigError",
    "Problem",
    "DataError",
    "ChecksumError",
    "ShapeError",
    "TrainingDivergedError",
    "CheckpointError",
    "ExportError",
    "UnsafeFileError",
    "did_you_mean",
]


class LaminaError(Exception):
    """Base class of every error lamina raises on purpose; ``str(err)`` is the message to show a user."""


@dataclass(frozen=True)
class Problem:
    """One problem in a configuration: the dotted ``path`` (``model.layers[1].p``) and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(LaminaError, ValueError):
    """An experiment file, override or component spec that does not validate.

    Holds every problem found (not just the first) in :attr:`problems`, each with its path.
    """

    def __init__(self, problems: Iterable[Problem] | str, *, source: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        self.problems: list[Problem] = list(problems)
        self.source = source
        super().__init__(self._format())

    def _format(self) -> str:
        where = f" in {self.source}" if self.source else ""
        if len(self.problems) == 1:
            return f"invalid configuration{where}: {self.problems[0]}"
        lines = [f"{len(self.problems)} problems{where}:"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


class DataError(LaminaError, ValueError):
    """A dataset that cannot be found, read or parsed; the message names the file."""


class ChecksumError(DataError):
    """A data file whose sha256 differs from the registered one."""

    def __init__(self, path: str, expected: str, actual: str) -> None:
        self.path, self.expected, self.actual = path, expected, actual
        super().__init__(
            f"{path}: sha256 mismatch: expected {expected}, got {actual}. "
            "The file is corrupt or not the canonical one; delete it and let lamina download it again."
        )


class ShapeError(LaminaError, ValueError):
    """Layers whose shapes do not chain; the message names the layer and both shapes."""


class TrainingDivergedError(LaminaError, FloatingPointError):
    """The training loss became NaN or infinite. The model keeps its last finite weights.

    Attributes:
        epoch, step: where it happened (1-based epoch; the optimizer step, counted across epochs).
        value: the non-finite value seen (NaN, +inf or -inf), or ``None`` where none was recorded.
    """

    def __init__(self, message: str, *, epoch: int, step: int, value: float | None = None) -> None:
        self.epoch, self.step, self.value = epoch, step, value
        super().__init__(message)


class CheckpointError(LaminaError, OSError):
    """A checkpoint or run folder that is missing, torn or from an incompatible version."""


class UnsafeFileError(LaminaError, OSError):
    """A file lamina was asked to write or load that it refuses for safety: a symbolic link where lamina appends or
    rewrites (writing would change the link's target), or a folder others can write to. The message names the path."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A `` did you mean 'x'?`` suffix for the closest of ``choices``, or an empty string."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f" did you mean {close[0]!r}?" if close else ""


class ExportError(LaminaError, ValueError):
    """A model that cannot be written in the asked format (the message names the layer and the formats that can
    hold it), or an exported file that does not reproduce the model's outputs."""
