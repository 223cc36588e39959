"""ONNX export with a dynamic batch axis, checked by ``onnx.checker`` and run by onnxruntime.

lamina uses PyTorch's ``torch.export``-based exporter (``torch.onnx.export(..., dynamo=True)``): it is the
default since PyTorch 2.9, the TorchScript-based exporter is deprecated and slated for removal, and every
lamina layer exports through it (``tests/export``). It costs about a second per model, against a few
milliseconds for the old exporter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lamina.errors import ExportError
from lamina.export.common import CHECK_BATCH, EXAMPLE_BATCH, as_tuple, compare_outputs, dynamic_batch, quiet
from lamina.export.result import ExportResult
from lamina.export.source import ExportSource
from lamina.files import refuse_symlink

__all__ = ["export_onnx", "onnx_trial", "OnnxModel"]


def _program(
    model: nn.Module,
    inputs: tuple[torch.Tensor, ...],
    *,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    opset: int | None = None,
) -> Any:
    with quiet(), torch.no_grad():
        return torch.onnx.export(
            model,
            inputs,
            dynamo=True,
            dynamic_shapes=dynamic_batch(model, inputs),
            input_names=input_names,
            output_names=output_names,
            opset_version=opset,
            verbose=False,
            report=False,
        )


def _session(model: str | Path | bytes) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only
    return onnxruntime.InferenceSession(
        model if isinstance(model, bytes) else str(model), options, providers=["CPUExecutionProvider"]
    )


def onnx_trial(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
    """Export ``module`` alone in memory and open it in onnxruntime; raises what either raises."""
    _session(_program(module, inputs).model_proto.SerializeToString())


def export_onnx(
    source: ExportSource,
    path: str | Path,
    *,
    opset: int | None = None,
    verify: bool = True,
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> ExportResult:
    """Write ``source`` as an ONNX model whose batch dimension is dynamic.

    The graph is validated by ``onnx.checker.check_model(full_check=True)``; with ``verify``, onnxruntime runs it
    on a random batch of another size than the one exported and its outputs must equal PyTorch's within
    ``|a - b| <= atol + rtol |b|``.

    Args:
        source: the network and its inputs.
        path: the ``.onnx`` file to write.
        opset: the ONNX opset (default: the exporter's, 18 or newer).
        verify: run the exported model in onnxruntime and compare.

    Returns:
        The :class:`ExportResult`, with the opset and the largest difference found.
    """
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    inputs = source.example(EXAMPLE_BATCH)
    program = _program(
        source.model, inputs, input_names=source.input_names, output_names=source.output_names, opset=opset
    )
    program.save(str(refuse_symlink(path)))
    proto = onnx.load(str(path))
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as err:
        raise ExportError(f"{path}: the exported graph fails onnx.checker: {str(err).splitlines()[0]}") from None
    batch_dims = [i.type.tensor_type.shape.dim[0] for i in proto.graph.input]
    if any(not d.dim_param for d in batch_dims):  # pragma: no cover - the exporter honours dynamic_shapes
        raise ExportError(f"{path}: the exporter fixed the batch dimension; the model needs a constant batch size")
    opset_used = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    result = ExportResult("onnx", path, [path], details={"opset": opset_used, "runtime": "onnxruntime"})
    if verify:
        session = _session(path)
        check = source.example(CHECK_BATCH, seed=1)
        names = [i.name for i in session.get_inputs()]
        feeds = {name: x.numpy() for name, x in zip(source.input_names, check) if name in names}
        got = tuple(session.run(None, feeds))
        with torch.no_grad():
            want = as_tuple(source.model(*check))
        result.max_abs_diff = compare_outputs(got, want, what=f"{path} (onnxruntime)", rtol=rtol, atol=atol)
    return result


class OnnxModel:
    """An exported ONNX model in onnxruntime, called like the network: ``model(x)`` returns its output(s).

    Args:
        path: the ``.onnx`` file.

    Attributes:
        input_names, output_names: the graph's inputs and outputs.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ExportError(f"{self.path}: no such ONNX file")
        self.session = _session(self.path)
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]
        self._dtypes = [np.int64 if "int64" in i.type else np.float32 for i in self.session.get_inputs()]

    def __call__(self, *inputs: Any) -> np.ndarray | tuple[np.ndarray, ...]:
        if len(inputs) != len(self.input_names):
            raise ExportError(
                f"{self.path.name} takes {len(self.input_names)} inputs ({', '.join(self.input_names)})"
                f", got {len(inputs)}"
            )
        feeds = {
            name: np.asarray(x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x, dtype)
            for name, dtype, x in zip(self.input_names, self._dtypes, inputs)
        }
        outputs = self.session.run(None, feeds)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def __repr__(self) -> str:
        return f"OnnxModel({str(self.path)!r}, inputs={self.input_names}, outputs={self.output_names})"
