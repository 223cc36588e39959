"""The export formats by name: how each writes a model, tries a single layer, and what file name it takes."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lamina.errors import ExportError, did_you_mean
from lamina.export.onnx_format import OnnxModel, export_onnx, onnx_trial
from lamina.export.safetensors_format import load_safetensors, save_safetensors
from lamina.export.torch_formats import (
    export_program,
    export_torchscript,
    load_program,
    load_torchscript,
    program_trial,
    torchscript_trial,
)

__all__ = ["Format", "FORMATS", "get_format", "format_of_file"]


@dataclass(frozen=True)
class Format:
    """An export format.

    Attributes:
        name: as the CLI and :func:`lamina.export.export` spell it.
        filename: the default file name in ``<run>/export/``.
        write: ``write(source, path, **options) -> ExportResult``.
        load: ``load(path)`` (``load(path, trust_source=...)`` for every format but ONNX): the exported model,
            callable on inputs.
        trial: ``trial(module, inputs)`` raises if this format cannot hold ``module``; ``None`` when any module
            built from a lamina config fits (safetensors keeps weights, not operations).
        carries_graph: the file holds the computation, not only the weights.
        requires: the packages the format needs beyond torch.
    """

    name: str
    filename: str
    write: Callable[..., Any]
    load: Callable[..., Any]
    trial: Callable[..., None] | None
    carries_graph: bool
    requires: tuple[str, ...] = ()

    def check_installed(self) -> None:
        """Raise an :class:`ExportError` naming the missing packages, if any."""
        missing = [name for name in self.requires if importlib.util.find_spec(name) is None]
        if missing:
            raise ExportError(
                f"{self.name} export needs the package(s) {', '.join(missing)}: pip install 'lamina[export]'"
            )


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("onnx", "model.onnx", export_onnx, OnnxModel, onnx_trial, True, ("onnx", "onnxscript", "onnxruntime")),
        Format("safetensors", "model.safetensors", save_safetensors, load_safetensors, None, False, ("safetensors",)),
        Format("torchscript", "model.torchscript.pt", export_torchscript, load_torchscript, torchscript_trial, True),
        Format("exported-program", "model.pt2", export_program, load_program, program_trial, True),
    )
}


def get_format(name: str) -> Format:
    """The format called ``name`` (``exported_program`` and ``pt2`` are accepted too)."""
    key = {"exported_program": "exported-program", "pt2": "exported-program", "ts": "torchscript"}.get(name, name)
    if key not in FORMATS:
        raise ValueError(f"unknown export format {name!r};{did_you_mean(name, FORMATS)} valid: {', '.join(FORMATS)}")
    return FORMATS[key]


def format_of_file(path: Any) -> Format:
    """The format of an exported file, from its name."""
    name = str(path)
    for suffix, key in (
        (".onnx", "onnx"),
        (".safetensors", "safetensors"),
        (".pt2", "exported-program"),
        (".torchscript.pt", "torchscript"),
        (".ts", "torchscript"),
    ):
        if name.endswith(suffix):
            return FORMATS[key]
    raise ValueError(
        f"{name}: cannot tell the format from the name; expected .onnx, .safetensors, .pt2 or .torchscript.pt"
    )
