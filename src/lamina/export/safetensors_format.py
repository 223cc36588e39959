"""safetensors export: the weights in a file that holds tensors and nothing executable, the lamina model config
in its metadata and the resolved configuration as TOML beside it; lamina rebuilds the network from the config
and loads the weights back (:func:`load_safetensors`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lamina import jsonio
from lamina._version import __version__
from lamina.errors import ExportError, LaminaError
from lamina.export.common import CHECK_BATCH, as_tuple, compare_outputs
from lamina.export.result import ExportResult
from lamina.export.safety import read_safetensors_header
from lamina.export.source import ExportSource
from lamina.files import refuse_symlink, write_text
from lamina.nn.builder import build_model

__all__ = ["save_safetensors", "load_safetensors", "FORMAT_TAG"]

FORMAT_TAG = "lamina"  # metadata["format"] of the files lamina writes


def save_safetensors(source: ExportSource, path: str | Path, *, verify: bool = True) -> ExportResult:
    """Write the weights to ``path`` (``.safetensors``) and the configuration to ``path`` with suffix ``.toml``.

    The file's metadata holds the lamina version, the ``[model]`` config (JSON) and the input shape(s), so
    :func:`load_safetensors` needs nothing else. With ``verify`` the network is rebuilt from the file and must
    give exactly the original's outputs.

    Raises:
        ExportError: the network was not built by lamina from a config (export it to ONNX, TorchScript or an
            ExportedProgram instead, which carry the graph).
    """
    from safetensors.torch import save_model

    if source.model_config is None:
        raise ExportError(
            f"cannot export {source.name} to safetensors: the weights alone need the lamina model "
            "config to rebuild the network, and this model has none; formats that carry the graph: "
            "onnx, torchscript, exported-program"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {
        "format": FORMAT_TAG,
        "lamina_version": __version__,
        "model": jsonio.dumps(source.model_config),
        "input_shapes": jsonio.dumps([list(s) for s in source.input_shapes]),
    }
    save_model(source.model, str(refuse_symlink(path)), metadata=metadata)
    files = [path]
    if source.config_toml is not None:
        config = path.with_suffix(".toml")
        write_text(config, source.config_toml)
        files.append(config)
    result = ExportResult("safetensors", path, files, details={"tensors": len(source.model.state_dict())})
    if verify:
        check = source.example(CHECK_BATCH, seed=1)
        with torch.no_grad():
            got, want = as_tuple(load_safetensors(path)(*check)), as_tuple(source.model(*check))
        result.max_abs_diff = compare_outputs(got, want, what=str(path), rtol=0.0, atol=0.0)
    return result


MAX_INPUT_ELEMENTS = 2**28  # one example of at most 1 GiB of float32: far above any lamina model, far below harm


def _input_shapes(text: str, path: Path) -> list[tuple[int, ...]]:
    """The ``input_shapes`` metadata: a list of shapes of positive integers, each of a sane size."""
    try:
        shapes = jsonio.loads(text)
    except ValueError as err:
        raise ExportError(f"{path}: malformed lamina metadata: input_shapes is not JSON ({err})") from None
    if (
        not isinstance(shapes, list)
        or not shapes
        or not all(isinstance(s, list) and s and all(type(d) is int and d > 0 for d in s) for s in shapes)
    ):
        raise ExportError(
            f"{path}: malformed lamina metadata: input_shapes must be a list of shapes of positive "
            f"integers, got {shapes!r}"[:300]
        )
    for shape in shapes:
        if math.prod(shape) > MAX_INPUT_ELEMENTS:
            raise ExportError(
                f"{path}: input shape {shape} has {math.prod(shape)} elements per example, more than "
                f"the {MAX_INPUT_ELEMENTS} lamina accepts from a file"
            )
    return [tuple(s) for s in shapes]


def _check_against_header(model: nn.Module, header: dict[str, dict[str, Any]], path: Path) -> None:
    """The skeleton's (meta-device) state dict must name exactly the file's tensors, with the same shapes: so the real
    model, built next, is no larger than the weights the file holds."""
    state = model.state_dict()
    missing, unexpected = sorted(set(state) - set(header)), sorted(set(header) - set(state))
    if missing or unexpected:
        raise ExportError(
            f"{path}: the weights do not fit the model config stored with them (missing: "
            f"{', '.join(missing[:5]) or 'none'}; unexpected: {', '.join(unexpected[:5]) or 'none'})"
        )
    for name, tensor in state.items():
        if list(tensor.shape) != header[name]["shape"]:
            raise ExportError(
                f"{path}: tensor {name!r}: the model config declares shape {list(tensor.shape)}, the "
                f"file holds {header[name]['shape']}"
            )


def load_safetensors(path: str | Path, *, trust_source: bool = False) -> nn.Module:
    """The network a lamina ``.safetensors`` file describes, with its weights, in evaluation mode.

    Nothing is allocated before the file is checked (issue 22): its header is parsed and validated against the
    file's size (:func:`~lamina.export.safety.read_safetensors_header`), the model config in its metadata is built
    on the meta device and must declare exactly the file's tensors; only then is the network built and filled.

    Args:
        trust_source: accepted for the sake of :func:`lamina.export.load`; a safetensors file holds no code, so
            nothing needs trusting.

    Raises:
        ExportError: a missing file, a malformed header or metadata, a file lamina did not write, or weights that do
            not fit the config.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_model

    del trust_source
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: no such safetensors file")
    header, metadata = read_safetensors_header(path)
    if metadata.get("format") != FORMAT_TAG or "model" not in metadata:
        raise ExportError(
            f"{path}: not written by lamina (no lamina model config in its metadata); read its "
            "tensors with safetensors.torch.load_file"
        )
    try:
        config = jsonio.loads(metadata["model"])
    except ValueError as err:
        raise ExportError(f"{path}: malformed lamina metadata: the model config is not JSON ({err})") from None
    shapes = _input_shapes(metadata.get("input_shapes", ""), path)
    input_shape = shapes[0] if len(shapes) == 1 else shapes
    try:
        with torch.device("meta"):
            skeleton = build_model(config, input_shape)
    except (LaminaError, TypeError, ValueError) as err:
        raise ExportError(f"{path}: the model config stored in the file is invalid: {err}") from None
    _check_against_header(skeleton, header, path)
    model = build_model(config, input_shape)
    try:
        load_model(model, str(path), strict=True)
    except SafetensorError as err:  # the file changed since its header was checked, or a rule not checked above
        raise ExportError(f"{path}: not a valid safetensors file ({err})") from None
    except RuntimeError as err:
        raise ExportError(
            f"{path}: the weights do not fit the model config stored with them ({str(err).splitlines()[0]})"
        ) from None
    return model.eval()
