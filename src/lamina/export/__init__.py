"""Export trained networks: ONNX (dynamic batch axis, checked by ``onnx.checker``, run by onnxruntime),
safetensors (weights, with the resolved config beside them), TorchScript, and ``torch.export`` programs; and load
them back. From the command line: ``lamina export RUN --format onnx``.

::

    from lamina.export import export, load
    result = export("runs/digits_mlp-20261123-104512", "onnx")     # -> <run>/export/model.onnx
    onnx_model = load(result.path)                                 # onnxruntime; onnx_model(x) -> outputs
    export(fitted_classifier, "safetensors", "clf.safetensors")    # a fitted lamina.sklearn estimator

A layer a format cannot express is named in the error, with the formats that can hold it.
"""

from lamina.export.api import export, load
from lamina.export.formats import FORMATS, Format
from lamina.export.onnx_format import OnnxModel, export_onnx
from lamina.export.result import ExportResult
from lamina.export.safetensors_format import load_safetensors, save_safetensors
from lamina.export.source import ExportSource, resolve_source
from lamina.export.torch_formats import export_program, export_torchscript, load_program, load_torchscript

__all__ = [
    "FORMATS",
    "ExportResult",
    "ExportSource",
    "Format",
    "OnnxModel",
    "export",
    "export_onnx",
    "export_program",
    "export_torchscript",
    "load",
    "load_program",
    "load_safetensors",
    "load_torchscript",
    "resolve_source",
    "save_safetensors",
]
