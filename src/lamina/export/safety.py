"""Checks that run before an exported file is loaded, so that loading one never runs code it carries and never
allocates more memory than the file holds (issue 22).

* An ExportedProgram (``.pt2``) is a zip archive of JSON (the graph), raw tensor bytes and, optionally, pickles:
  ``torch.export.load`` unpickles some of them with ``weights_only=False`` (sample inputs fall back to it when the
  safe loader refuses them, and pickled weights and constants use it directly), and loads compiled AOTInductor
  libraries. :func:`check_program_archive` accepts only archives whose every entry is JSON, raw tensor bytes or a
  pickle that ``torch.load(weights_only=True)`` reads.
* A safetensors file starts with a JSON header that declares every tensor's dtype, shape and byte range.
  :func:`read_safetensors_header` parses and checks it against the file's size before anything is allocated.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import torch

from lamina.errors import ExportError

__all__ = ["check_program_archive", "read_safetensors_header", "SAFETENSORS_DTYPES", "MAX_HEADER_BYTES"]

_TRUST_HINT = "load it with trust_source=True only if you made the file yourself (loading it runs the code it carries)"
# the entries torch.export.save writes (torch 2.13 pt2 archive, version 0), relative to the archive's root folder
_PLAIN_ENTRIES = ("archive_format", "archive_version", "byteorder")
_PLAIN_FOLDERS = (".data/", "models/", "data/weights/", "data/constants/", "data/sample_inputs/", "extra/")


def _refuse(path: Any, why: str) -> ExportError:
    return ExportError(f"{path}: refused: {why}; {_TRUST_HINT}")


def _payload_config(archive: zipfile.ZipFile, name: str, path: Any) -> dict[str, Any]:
    try:
        config = json.loads(archive.read(name))["config"]
    except (KeyError, ValueError, TypeError) as err:
        raise ExportError(f"{path}: malformed ExportedProgram archive: {name} ({err})") from None
    if not isinstance(config, dict) or not all(isinstance(v, dict) for v in config.values()):
        raise ExportError(f"{path}: malformed ExportedProgram archive: {name} is not a table of tensors")
    return config


def check_program_archive(data: bytes, path: Any) -> None:
    """Raise :class:`ExportError` unless the ``.pt2`` archive in ``data`` can be loaded without unpickling anything
    beyond tensors and without loading compiled code. ``path`` only names the file in messages."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, ValueError) as err:
        raise ExportError(f"{path}: not an ExportedProgram (.pt2) archive ({err})") from None
    roots = {name.split("/", 1)[0] for name in names}
    if len(roots) != 1 or any("/" not in name for name in names):
        raise _refuse(path, "not the archive layout torch.export.save writes (an older format that is unpickled)")
    root = roots.pop() + "/"
    entries = [name[len(root) :] for name in names]
    models = [e[len("models/") : -len(".json")] for e in entries if e.startswith("models/") and e.endswith(".json")]
    if not models:
        raise _refuse(path, "the archive holds no models/*.json program (an older, pickled format)")
    for entry in entries:
        if entry.endswith("/"):
            continue
        if entry not in _PLAIN_ENTRIES and not entry.startswith(_PLAIN_FOLDERS):
            raise _refuse(
                path,
                f"the archive holds {entry!r}, which is not a plain tensor or graph entry (compiled code or a pickle)",
            )
    for model in models:
        for kind in ("weights", "constants"):
            name = f"{root}data/{kind}/{model}_{kind}_config.json"
            if name not in names:
                raise _refuse(path, f"{kind} of {model!r} stored in the legacy pickled format")
            for fqn, meta in _payload_config(archive, name, path).items():
                if meta.get("use_pickle") or not str(meta.get("path_name", "")).startswith(("weight_", "tensor_")):
                    raise _refuse(path, f"{kind[:-1]} {fqn!r} is a pickled Python object, not raw tensor bytes")
        sample = f"{root}data/sample_inputs/{model}.pt"
        if sample in names and archive.getinfo(sample).file_size:
            try:
                torch.load(io.BytesIO(archive.read(sample)), weights_only=True)
            except Exception as err:  # noqa: BLE001 - any refusal of the safe unpickler means: not plain tensors
                raise _refuse(
                    path, f"its sample inputs hold Python objects beyond tensors ({str(err).splitlines()[0][:120]})"
                ) from None


# safetensors dtype names and their sizes in bytes (the format's specification)
SAFETENSORS_DTYPES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}
MAX_HEADER_BYTES = 100_000_000  # the safetensors library's own limit


def read_safetensors_header(path: str | Path) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The tensors (name -> ``{"dtype", "shape", "data_offsets"}``) and the metadata of a safetensors file, read from
    its header alone and checked: a header inside the file, valid JSON, known dtypes, shapes of non-negative
    integers, and byte ranges that match each shape and lie inside the file. Nothing is allocated for the tensors.

    Raises:
        ExportError: naming the file and what is wrong.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise ExportError(f"{path}: not a safetensors file (shorter than its 8-byte header length)")
        (length,) = struct.unpack("<Q", head)
        if length > MAX_HEADER_BYTES or 8 + length > size:
            raise ExportError(f"{path}: not a safetensors file (a header of {length} bytes in a file of {size})")
        raw = fh.read(length)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as err:
        raise ExportError(f"{path}: malformed safetensors header (not JSON: {err})") from None
    if not isinstance(header, dict):
        raise ExportError(f"{path}: malformed safetensors header (expected a JSON object)")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ExportError(f"{path}: malformed safetensors metadata (expected a table of strings)")
    body = size - 8 - length
    for name, info in header.items():
        where = f"{path}: tensor {name!r}"
        if not isinstance(info, dict) or info.get("dtype") not in SAFETENSORS_DTYPES:
            raise ExportError(
                f"{where}: dtype must be one of {', '.join(SAFETENSORS_DTYPES)}, got "
                f"{info.get('dtype') if isinstance(info, dict) else info!r}"
            )
        shape, offsets = info.get("shape"), info.get("data_offsets")
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            raise ExportError(f"{where}: shape must be a list of non-negative integers, got {shape!r}")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(type(o) is int for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= body
        ):
            raise ExportError(
                f"{where}: data_offsets must be [begin, end] inside the file's {body} data bytes, got {offsets!r}"
            )
        numel = 1
        for d in shape:
            numel *= d
        if numel * SAFETENSORS_DTYPES[info["dtype"]] != offsets[1] - offsets[0]:
            raise ExportError(
                f"{where}: shape {shape} of {info['dtype']} needs "
                f"{numel * SAFETENSORS_DTYPES[info['dtype']]} bytes, but the file holds "
                f"{offsets[1] - offsets[0]} for it"
            )
    end = 0  # safetensors' own rule, checked here so that its loader never meets a file it refuses
    for begin, stop in sorted(tuple(info["data_offsets"]) for info in header.values()):
        if begin != end:
            raise ExportError(
                f"{path}: the tensors' byte ranges must follow each other without gaps or overlaps; "
                f"one starts at {begin}, expected {end}"
            )
        end = stop
    if end != body:
        raise ExportError(
            f"{path}: the tensors cover {end} of the file's {body} data bytes (the rest is unaccounted "
            "for: a damaged or foreign file)"
        )
    return header, metadata
