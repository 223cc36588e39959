"""safetensors export: the weights in a file that holds tensors and nothing executable, the lamina model config
in its metadata and the resolved configuration as TOML beside it; lamina rebuilds the network from the config
and loads the weights back (:func:`load_safetensors`)."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from lamina._version import __version__
from lamina.errors import ExportError
from lamina.export.common import CHECK_BATCH, as_tuple, compare_outputs
from lamina.export.result import ExportResult
from lamina.export.source import ExportSource
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
        raise ExportError(f"cannot export {source.name} to safetensors: the weights alone need the lamina model "
                          "config to rebuild the network, and this model has none; formats that carry the graph: "
                          "onnx, torchscript, exported-program")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"format": FORMAT_TAG, "lamina_version": __version__, "model": json.dumps(source.model_config),
                "input_shapes": json.dumps([list(s) for s in source.input_shapes])}
    save_model(source.model, str(path), metadata=metadata)
    files = [path]
    if source.config_toml is not None:
        config = path.with_suffix(".toml")
        config.write_text(source.config_toml, encoding="utf-8")
        files.append(config)
    result = ExportResult("safetensors", path, files, details={"tensors": len(source.model.state_dict())})
    if verify:
        check = source.example(CHECK_BATCH, seed=1)
        with torch.no_grad():
            got, want = as_tuple(load_safetensors(path)(*check)), as_tuple(source.model(*check))
        result.max_abs_diff = compare_outputs(got, want, what=str(path), rtol=0.0, atol=0.0)
    return result


def load_safetensors(path: str | Path) -> nn.Module:
    """The network a lamina ``.safetensors`` file describes, with its weights, in evaluation mode.

    Raises:
        ExportError: a missing file, a file lamina did not write, or weights that do not fit the config.
    """
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_model

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: no such safetensors file")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except SafetensorError as err:
        raise ExportError(f"{path}: not a safetensors file ({err})") from None
    if metadata.get("format") != FORMAT_TAG or "model" not in metadata:
        raise ExportError(f"{path}: not written by lamina (no lamina model config in its metadata); read its "
                          "tensors with safetensors.torch.load_file")
    shapes = [tuple(s) for s in json.loads(metadata["input_shapes"])]
    model = build_model(json.loads(metadata["model"]), shapes[0] if len(shapes) == 1 else shapes)
    try:
        load_model(model, str(path), strict=True)
    except RuntimeError as err:
        raise ExportError(f"{path}: the weights do not fit the model config stored with them "
                          f"({str(err).splitlines()[0]})") from None
    return model.eval()
