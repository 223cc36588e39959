"""Files that are not what they claim: damaged bytes in ``metrics.jsonl`` are skipped, a CSV that is not UTF-8 is a
DataError naming the file and the encoding expected, prediction inputs must be finite numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lamina.data.inputs import read_inputs
from lamina.data.series import read_csv_columns
from lamina.errors import DataError
from lamina.train.callbacks import read_metrics

pytestmark = pytest.mark.reliability


def test_metrics_lines_that_are_not_utf8_json_objects_are_skipped(tmp_path):
    good = [{"kind": "epoch", "epoch": 1, "loss": 0.5}, {"kind": "epoch", "epoch": 2, "loss": 0.25}]
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(
        json.dumps(good[0]).encode()
        + b"\n"
        + b'{"kind": "ep\xff\xfeoch"}\n'
        + b"[1, 2]\n"
        + json.dumps(good[1]).encode()
        + b"\n"
        + b'{"kind": "epo'
    )  # and a torn last line
    assert read_metrics(path) == good


@pytest.mark.parametrize("reader", ["series", "inputs"])
def test_csv_in_another_encoding_names_the_file_and_utf8(tmp_path, reader):
    path = tmp_path / "latin1.csv"
    path.write_bytes("x,y\n1,2\n3,4\n# caf\u00e9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1.csv: not UTF-8 text: byte 0xe9 at line 4 .* encoded as UTF-8"):
        read_csv_columns(path) if reader == "series" else read_inputs(path, (2,))


def test_csv_with_a_byte_order_mark_or_a_nul_byte(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfx,y\n1,2\n")
    assert read_csv_columns(path)["x"].tolist() == [1.0]  # the mark is not part of the first column's name
    path.write_bytes(b"x,y\n1,\x002\n")
    with pytest.raises(DataError, match=r"bom.csv: (column .y. is not numeric|not a readable CSV file)"):
        read_csv_columns(path)


def test_prediction_inputs_must_be_finite_real_numbers(tmp_path):
    path = tmp_path / "x.npy"
    array = np.zeros((3, 4), dtype=np.float32)
    array[1, 2] = np.inf
    np.save(path, array)
    with pytest.raises(DataError, match=r"x.npy: 1 value\(s\) are NaN or infinite, the first at index \(1, 2\)"):
        read_inputs(path, (4,))
    np.save(path, np.zeros((3, 4), dtype=np.complex64))
    with pytest.raises(DataError, match="expected real numbers"):
        read_inputs(path, (4,))
