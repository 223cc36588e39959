"""``lamina.export.export(source, format)`` and ``lamina.export.load(path)``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lamina.errors import ExportError, LaminaError
from lamina.export.common import EXAMPLE_BATCH
from lamina.export.diagnose import explain_failure
from lamina.export.formats import format_of_file, get_format
from lamina.export.result import ExportResult
from lamina.export.source import resolve_source
from lamina.files import refuse_symlink

__all__ = ["export", "load"]


def export(
    source: Any,
    format: str = "onnx",
    out: str | Path | None = None,
    *,
    input_shape: Any = None,
    verify: bool = True,
    **options: Any,
) -> ExportResult:
    """Export a trained network for use outside lamina (or outside Python).

    Args:
        source: a run folder (or :class:`~lamina.train.runs.Run`), a fitted :mod:`lamina.sklearn` estimator, or a
            ``torch.nn.Module``.
        format: ``onnx`` (dynamic batch axis, checked by ``onnx.checker``, run by onnxruntime), ``safetensors``
            (weights, with the lamina config in the metadata and as TOML beside), ``torchscript`` (traced) or
            ``exported-program`` (``torch.export``, ``.pt2``).
        out: the file to write; default ``<run>/export/<model file>`` for a run, required otherwise.
        input_shape: one example's shape, for a module that does not record it.
        verify: reload the exported model and compare its outputs with PyTorch's on a batch of another size.
        options: format options: ``opset`` (onnx), ``rtol``/``atol`` (the verification's tolerance).

    A fitted classifier exports its network, whose outputs are logits: their softmax is ``predict_proba`` and their
    argmax indexes ``classes_``. Inputs are float32 rows of ``n_features_in_`` values.

    Returns:
        An :class:`ExportResult`: the files written and the largest output difference found.

    Raises:
        CheckpointError: a run whose folder or checkpoint is missing.
        ExportError: a layer the format cannot express (named, with the formats that can hold it), or an exported
            model that does not reproduce the network.

    Example:
        >>> result = lamina.export.export("runs/digits_mlp-20261123-104512", "onnx")
        >>> result.path, result.max_abs_diff
        (PosixPath('runs/digits_mlp-20261123-104512/export/model.onnx'), 2.9e-07)
    """
    fmt = get_format(format)
    fmt.check_installed()
    src = resolve_source(source, input_shape=input_shape)
    if out is None:
        if src.run_dir is None:
            raise ExportError(f"give the file to write (out=...) to export a {src.name}")
        out = src.run_dir / "export" / fmt.filename
    refuse_symlink(out)  # before any work: the file is rewritten, never written through a link (issue 22)
    try:
        return fmt.write(src, Path(out), verify=verify, **options)
    except LaminaError:
        raise
    except TypeError as err:
        if "unexpected keyword argument" in str(err):
            raise TypeError(f"export to {fmt.name} takes no option {str(err).split('argument')[-1].strip()}") from None
        raise explain_failure(src, fmt, err, src.example(EXAMPLE_BATCH)) from err
    except Exception as err:  # noqa: BLE001 - an exporter failure is diagnosed layer by layer
        raise explain_failure(src, fmt, err, src.example(EXAMPLE_BATCH)) from err


def load(path: str | Path, format: str | None = None, *, trust_source: bool = False) -> Any:
    """An exported model, callable on inputs: an :class:`~lamina.export.onnx_format.OnnxModel` (onnxruntime,
    NumPy in and out) for ``.onnx``, a ``torch.nn.Module`` for the other formats.

    Safe by default (issue 22): safetensors and ONNX hold no executable Python; an ExportedProgram is loaded only if
    it holds nothing but JSON and tensors; TorchScript, which is code, is refused.

    Args:
        path: the exported file.
        format: its format, when the file name does not tell.
        trust_source: load TorchScript, and ExportedPrograms holding pickled objects or compiled code. Loading such a
            file runs the code in it: pass ``True`` only for files you made yourself.

    Raises:
        ExportError: a missing or malformed file, or one refused as unsafe (the message says why).
    """
    fmt = get_format(format) if format is not None else format_of_file(path)
    if not Path(path).is_file():
        raise ExportError(f"{path}: no such file")
    fmt.check_installed()
    if fmt.name == "onnx":  # onnxruntime runs ONNX operators only; there is nothing to trust
        return fmt.load(path)
    return fmt.load(path, trust_source=trust_source)
