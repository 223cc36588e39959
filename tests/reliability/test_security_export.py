"""Exported models (issue 22): loading one never unpickles arbitrary objects or runs code unless the caller vouches
for the file, and a safetensors header is validated before anything is allocated. Before the fix a payload in a
``.pt2``'s sample inputs or pickled weights ran on ``lamina.export.load``, TorchScript loaded unasked, a declared
1e6 x 1e6 layer was allocated, and malformed metadata raised a raw ``JSONDecodeError``."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import pytest
import torch
from torch import nn

from lamina.errors import ExportError
from lamina.export import export, load
from tests.helpers import Payload

pytestmark = pytest.mark.reliability


def _pickled(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    """A clean ExportedProgram of a small network."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).eval()
    return model, export(model, "exported-program", tmp_path_factory.mktemp("pt2") / "model.pt2", input_shape=(3,)).path


def _rewrite(source: Path, target: Path, change) -> Path:
    """Copy the archive ``source`` to ``target`` with ``change(entry, data) -> data`` applied to every entry."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, change(info.filename.split("/", 1)[1], src.read(info)))
    return target


def test_a_clean_program_loads_without_trust(program):
    model, path = program
    x = torch.randn(5, 3)
    assert torch.equal(load(path)(x), model(x))


def test_a_payload_in_the_sample_inputs_is_refused_and_never_run(program, tmp_path):
    marker = tmp_path / "pwned"
    evil = _rewrite(
        program[1],
        tmp_path / "evil.pt2",
        lambda name, data: _pickled(Payload(marker)) if name.startswith("data/sample_inputs/") else data,
    )
    with pytest.raises(ExportError, match="refused: its sample inputs hold Python objects beyond tensors"):
        load(evil)
    assert not marker.exists()


def test_pickled_weights_are_refused_and_never_run(program, tmp_path):
    marker = tmp_path / "pwned"
    with zipfile.ZipFile(program[1]) as archive:
        config = next(n for n in archive.namelist() if n.endswith("data/weights/model_weights_config.json"))
        weight_file = json.loads(archive.read(config))["config"]["0.weight"]["path_name"]

    def change(name, data):
        if name == "data/weights/model_weights_config.json":
            config = json.loads(data)
            config["config"]["0.weight"]["use_pickle"] = True
            return json.dumps(config).encode()
        if name == f"data/weights/{weight_file}":
            return _pickled(Payload(marker))
        return data

    evil = _rewrite(program[1], tmp_path / "evil.pt2", change)
    with pytest.raises(ExportError, match="weight '0.weight' is a pickled Python object"):
        load(evil)
    assert not marker.exists()


def test_compiled_code_and_foreign_entries_are_refused(program, tmp_path):
    path = tmp_path / "aoti.pt2"
    with zipfile.ZipFile(program[1]) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
            root = info.filename.split("/", 1)[0]
        dst.writestr(f"{root}/data/aotinductor/model/model.so", b"\x7fELF")
    with pytest.raises(ExportError, match="not a plain tensor or graph entry"):
        load(path)
    (tmp_path / "junk.pt2").write_bytes(b"not a zip")
    with pytest.raises(ExportError, match="not an ExportedProgram"):
        load(tmp_path / "junk.pt2")


def test_torchscript_needs_trust_source(tmp_path):
    model = nn.Linear(3, 2).eval()
    path = export(model, "torchscript", tmp_path / "m.torchscript.pt", input_shape=(3,)).path
    with pytest.raises(ExportError, match="TorchScript file is code .* trust_source=True"):
        load(path)
    x = torch.randn(2, 3)
    assert torch.equal(load(path, trust_source=True)(x), model(x))


def _safetensors(path: Path, header: dict, data: bytes = b"") -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


LAMINA_META = {
    "format": "lamina",
    "lamina_version": "0",
    "input_shapes": "[[3]]",
    "model": json.dumps({"layers": [{"type": "dense", "units": 2}]}),
}


def test_a_declared_huge_tensor_is_an_error_not_an_allocation(tmp_path):
    path = _safetensors(
        tmp_path / "huge.safetensors",
        {
            "__metadata__": LAMINA_META,
            "0.weight": {"dtype": "F32", "shape": [1_000_000, 1_000_000], "data_offsets": [0, 4 * 10**12]},
        },
    )
    with pytest.raises(ExportError, match=r"tensor '0.weight': data_offsets must be \[begin, end\] inside"):
        load(path)


def test_a_huge_layer_in_the_config_is_an_error_not_an_allocation(tmp_path):
    """The header is honest (two small tensors), the config declares a 1e6 x 1e6 layer: built on the meta device,
    the mismatch is found before any memory is taken."""
    meta = {
        **LAMINA_META,
        "input_shapes": "[[1000000]]",
        "model": json.dumps({"layers": [{"type": "dense", "units": 1_000_000}]}),
    }
    path = _safetensors(
        tmp_path / "huge.safetensors",
        {
            "__metadata__": meta,
            "dense_0.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
            "dense_0.bias": {"dtype": "F32", "shape": [2], "data_offsets": [24, 32]},
        },
        bytes(32),
    )
    with pytest.raises(ExportError, match=r"the model config declares shape \[1000000, 1000000\]"):
        load(path)
    meta["input_shapes"] = "[[100000, 100000]]"
    with pytest.raises(ExportError, match="more than the 268435456 lamina accepts"):
        load(_safetensors(tmp_path / "wide.safetensors", {"__metadata__": meta}))


@pytest.mark.parametrize(
    "header, message",
    [
        (b"{not json", "malformed safetensors header"),
        (b"[1, 2]", "expected a JSON object"),
        (json.dumps({"__metadata__": {**LAMINA_META, "model": "{oops"}}).encode(), "the model config is not JSON"),
        (json.dumps({"__metadata__": {**LAMINA_META, "input_shapes": "[[0]]"}}).encode(), "input_shapes must be"),
        (json.dumps({"__metadata__": {**LAMINA_META, "model": "[1]"}}).encode(), "the model config stored in the file"),
        (json.dumps({"__metadata__": {"a": 1}}).encode(), "metadata"),
        (json.dumps({"w": {"dtype": "F99", "shape": [1], "data_offsets": [0, 4]}}).encode(), "dtype must be one of"),
        (json.dumps({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}).encode(), "shape must be"),
        (json.dumps({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 4]}}).encode(), "needs 12 bytes"),
    ],
)
def test_malformed_headers_are_export_errors(tmp_path, header, message):
    path = tmp_path / "bad.safetensors"
    data = bytes(4) if b'"w"' in header else b""  # the one tensor's bytes, where there is one
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    with pytest.raises(ExportError, match=message):
        load(path)


@pytest.mark.parametrize(
    ("offsets", "data", "message"),
    [
        ([[0, 4], [8, 12]], 12, "one starts at 8, expected 4"),  # a gap
        ([[0, 4], [0, 4]], 4, "one starts at 0, expected 4"),  # an overlap
        ([[0, 4], [4, 8]], 12, "cover 8 of the file's 12 data bytes"),  # bytes after the last tensor
    ],
)
def test_tensor_byte_ranges_must_tile_the_data_exactly(tmp_path, offsets, data, message):
    """safetensors' own rule, checked before its loader sees the file (fuzzing found its SafetensorError escaping)."""
    header = json.dumps(
        {f"t{i}": {"dtype": "F32", "shape": [1], "data_offsets": o} for i, o in enumerate(offsets)}
    ).encode()
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(data))
    with pytest.raises(ExportError, match=message):
        load(path)


def test_a_header_length_past_the_end_of_the_file_is_an_error(tmp_path):
    path = tmp_path / "short.safetensors"
    path.write_bytes(struct.pack("<Q", 10**15) + b"{}")
    with pytest.raises(ExportError, match="not a safetensors file"):
        load(path)
    path.write_bytes(b"abc")
    with pytest.raises(ExportError, match="shorter than its 8-byte header"):
        load(path)


def test_the_docs_say_pickles_run_code_and_point_to_the_safe_formats():
    import lamina.sklearn
    from tests.conftest import ROOT

    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "like every pickle, `pickle.load` of a `lamina.sklearn` estimator runs whatever code" in readme
    assert "trust_source=True" in readme and "export it to safetensors or ONNX" in readme
    doc = " ".join(lamina.sklearn.__doc__.split())
    assert "like every pickle, loading one runs whatever code the file holds" in doc
    assert "``safetensors`` or ``onnx``" in doc
