"""PyTorch's own serialized programs: ``torch.export``'s ExportedProgram (``.pt2``) and TorchScript.

Both keep the batch dimension dynamic and are checked, like ONNX, on a batch of another size than the one
exported. TorchScript is traced (``torch.jit.trace``): control flow that depends on input values is frozen at
the example's branch, and PyTorch 2.13 deprecates it in favour of ``torch.export``; it is offered for runtimes
(LibTorch in C++, older mobile builds) that read nothing else.

Loading (issue 22): an ExportedProgram is loaded only after :func:`lamina.export.safety.check_program_archive` has
found nothing in it but JSON and tensors (``torch.export.load`` itself would unpickle some entries with
``weights_only=False``); a TorchScript file is code, run by its own interpreter, so it is refused unless the caller
passes ``trust_source=True`` for a file they made.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lamina.errors import ExportError
from lamina.export.common import CHECK_BATCH, EXAMPLE_BATCH, as_tuple, compare_outputs, dynamic_batch, quiet
from lamina.export.result import ExportResult
from lamina.export.safety import check_program_archive
from lamina.export.source import ExportSource
from lamina.files import atomic_write

__all__ = [
    "export_program",
    "program_trial",
    "load_program",
    "export_torchscript",
    "torchscript_trial",
    "load_torchscript",
]


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


def _write(
    kind: str,
    source: ExportSource,
    path: str | Path,
    convert: Callable[[nn.Module, tuple[torch.Tensor, ...]], Any],
    save: Callable[[Any, Any], None],
    load: Callable[..., nn.Module],
    *,
    verify: bool,
    rtol: float,
    atol: float,
) -> ExportResult:
    """What both torch formats do: ``convert(model, example)``, ``save`` it atomically to ``path``, and with ``verify``
    ``load`` it back (as the file's maker, ``trust_source=True``) and compare its outputs with the model's."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    converted = convert(source.model, source.example(EXAMPLE_BATCH))
    with quiet():
        atomic_write(path, lambda fh: save(converted, fh))
    result = ExportResult(kind, path, [path], details={"torch": str(torch.__version__)})
    if verify:
        result.max_abs_diff = _verify(load(path, trust_source=True), source, path, rtol=rtol, atol=atol)
    return result


def export_program(
    source: ExportSource, path: str | Path, *, verify: bool = True, rtol: float = 1e-5, atol: float = 1e-6
) -> ExportResult:
    """Write ``source`` as a ``torch.export`` ExportedProgram (``torch.export.save``), batch dimension dynamic;
    with ``verify``, load it back and compare its outputs on a batch of another size."""
    return _write(
        "exported-program",
        source,
        path,
        _exported,
        torch.export.save,
        load_program,
        verify=verify,
        rtol=rtol,
        atol=atol,
    )


def load_program(path: str | Path, *, trust_source: bool = False) -> nn.Module:
    """The module of a saved ExportedProgram (``torch.export.load(path).module()``).

    Args:
        trust_source: skip the check that the archive holds only JSON and tensors (pickled objects and compiled
            code run when loaded): only for files you made.

    Raises:
        ExportError: the archive holds pickled objects beyond tensors or compiled code (and ``trust_source`` is
            false), or is not an ExportedProgram.
    """
    data = Path(path).read_bytes()  # checked and loaded from the same bytes: the file cannot change in between
    if not trust_source:
        check_program_archive(data, path)
    with quiet():
        return torch.export.load(io.BytesIO(data)).module()


def export_torchscript(
    source: ExportSource, path: str | Path, *, verify: bool = True, rtol: float = 1e-5, atol: float = 1e-6
) -> ExportResult:
    """Write ``source`` as a traced TorchScript module (``torch.jit.save``); with ``verify``, load it back and
    compare its outputs on a batch of another size."""
    return _write(
        "torchscript", source, path, _traced, torch.jit.save, load_torchscript, verify=verify, rtol=rtol, atol=atol
    )


def load_torchscript(path: str | Path, *, trust_source: bool = False) -> nn.Module:
    """A saved TorchScript module, on the CPU, in evaluation mode.

    Args:
        trust_source: must be ``True``: a TorchScript file is a program (and its loader unpickles), so lamina loads
            only files the caller vouches for.

    Raises:
        ExportError: ``trust_source`` is false.
    """
    if not trust_source:
        raise ExportError(
            f"{path}: refused: a TorchScript file is code that runs when loaded; load it with "
            "trust_source=True only if you made it yourself, or use a safe format (safetensors, "
            "onnx, exported-program)"
        )
    with quiet():
        return torch.jit.load(str(path), map_location="cpu").eval()
