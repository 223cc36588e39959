"""PyTorch's own serialized programs: ``torch.export``'s ExportedProgram (``.pt2``) and TorchScript.

Both keep the batch dimension dynamic and are checked, like ONNX, on a batch of another size than the one
exported. TorchScript is traced (``torch.jit.trace``): control flow that depends on input values is frozen at
the example's branch, and PyTorch 2.13 deprecates it in favour of ``torch.export``; it is offered for runtimes
(LibTorch in C++, older mobile builds) that read nothing else.

Loading either runs the program's graph: load only files you trust, as with any serialized model.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from lamina.export.common import CHECK_BATCH, EXAMPLE_BATCH, as_tuple, compare_outputs, dynamic_batch, quiet
from lamina.export.result import ExportResult
from lamina.export.source import ExportSource

__all__ = ["export_program", "program_trial", "load_program", "export_torchscript", "torchscript_trial",
           "load_torchscript"]


def _exported(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> Any:
    with quiet(), torch.no_grad():
        return torch.export.export(model, inputs, dynamic_shapes=dynamic_batch(model, inputs))


def _traced(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> Any:
    with quiet(), torch.no_grad():
        return torch.jit.trace(model, inputs, check_trace=False)


def program_trial(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
    """``torch.export`` ``module`` alone (raises what it raises)."""
    _exported(module, inputs)


def torchscript_trial(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
    """Trace ``module`` alone (raises what tracing raises)."""
    _traced(module, inputs)


def _verify(loaded: Any, source: ExportSource, path: Path, *, rtol: float, atol: float) -> float:
    check = source.example(CHECK_BATCH, seed=1)
    with torch.no_grad():
        got, want = as_tuple(loaded(*check)), as_tuple(source.model(*check))
    return compare_outputs(got, want, what=str(path), rtol=rtol, atol=atol)


def export_program(source: ExportSource, path: str | Path, *, verify: bool = True, rtol: float = 1e-5,
                   atol: float = 1e-6) -> ExportResult:
    """Write ``source`` as a ``torch.export`` ExportedProgram (``torch.export.save``), batch dimension dynamic;
    with ``verify``, load it back and compare its outputs on a batch of another size."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    program = _exported(source.model, source.example(EXAMPLE_BATCH))
    with quiet():
        torch.export.save(program, str(path))
    result = ExportResult("exported-program", path, [path], details={"torch": str(torch.__version__)})
    if verify:
        result.max_abs_diff = _verify(load_program(path), source, path, rtol=rtol, atol=atol)
    return result


def load_program(path: str | Path) -> nn.Module:
    """The module of a saved ExportedProgram (``torch.export.load(path).module()``)."""
    with quiet():
        return torch.export.load(str(path)).module()


def export_torchscript(source: ExportSource, path: str | Path, *, verify: bool = True, rtol: float = 1e-5,
                       atol: float = 1e-6) -> ExportResult:
    """Write ``source`` as a traced TorchScript module (``torch.jit.save``); with ``verify``, load it back and
    compare its outputs on a batch of another size."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    traced = _traced(source.model, source.example(EXAMPLE_BATCH))
    with quiet():
        torch.jit.save(traced, str(path))
    result = ExportResult("torchscript", path, [path], details={"torch": str(torch.__version__)})
    if verify:
        result.max_abs_diff = _verify(load_torchscript(path), source, path, rtol=rtol, atol=atol)
    return result


def load_torchscript(path: str | Path) -> nn.Module:
    """A saved TorchScript module, on the CPU, in evaluation mode."""
    with quiet():
        return torch.jit.load(str(path), map_location="cpu").eval()
