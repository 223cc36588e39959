"""The outcome of an export: the files written and how closely the exported model reproduces the original."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ExportResult"]


@dataclass
class ExportResult:
    """What :func:`lamina.export.export` wrote.

    Attributes:
        format: ``onnx``, ``safetensors``, ``torchscript`` or ``exported-program``.
        path: the main file (the model, or the weights).
        files: every file written (the weights' ``config.toml`` too).
        max_abs_diff: the largest difference between the exported model's outputs and PyTorch's on a random
            batch whose size differs from the one exported with (``None`` when not verified).
        details: format-specific facts (the ONNX opset, the runtime that ran it, ...).
    """

    format: str
    path: Path
    files: list[Path] = field(default_factory=list)
    max_abs_diff: float | None = None
    details: dict[str, object] = field(default_factory=dict)
