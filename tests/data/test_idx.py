"""The IDX parser against files written byte by byte in the test (not by lamina's own writer)."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from lamina.data.idx import read_idx, write_idx
from lamina.errors import DataError


def _idx(type_code: int, dims: list[int], payload: bytes) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">i", d) for d in dims) + payload


def test_uint8_images(tmp_path):
    path = tmp_path / "images.idx"
    path.write_bytes(_idx(0x08, [2, 2, 3], bytes(range(12))))
    array = read_idx(path, expected_magic=2051)
    assert array.dtype == np.uint8 and array.shape == (2, 2, 3)
    assert array[1, 0].tolist() == [6, 7, 8]


def test_big_endian_int32_and_float64(tmp_path):
    ints = tmp_path / "ints.idx"
    ints.write_bytes(_idx(0x0C, [3], struct.pack(">3i", -1, 2, 70000)))
    assert read_idx(ints).tolist() == [-1, 2, 70000]
    floats = tmp_path / "floats.idx"
    floats.write_bytes(_idx(0x0E, [2], struct.pack(">2d", 0.5, -3.25)))
    assert read_idx(floats).tolist() == [0.5, -3.25]


def test_gzipped_labels(tmp_path):
    path = tmp_path / "labels.idx1-ubyte.gz"
    path.write_bytes(gzip.compress(_idx(0x08, [4], bytes([3, 1, 4, 1]))))
    assert read_idx(path, expected_magic=2049).tolist() == [3, 1, 4, 1]


def test_truncated_data_says_how_much_is_missing(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(_idx(0x08, [10, 28, 28], bytes(100)))
    with pytest.raises(DataError) as info:
        read_idx(path)
    message = str(info.value)
    assert (
        str(path) in message
        and "truncated" in message
        and "10x28x28 uint8 = 7840 bytes" in message
        and "100" in message
    )


def test_truncated_header(tmp_path):
    path = tmp_path / "header.idx"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">i", 10))
    with pytest.raises(DataError, match="truncated header: 3 dimensions need 16 bytes, the file has 8"):
        read_idx(path)


def test_wrong_magic(tmp_path):
    path = tmp_path / "png.idx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(DataError, match=r"wrong magic number 0x89504e47"):
        read_idx(path)


def test_unexpected_magic_for_the_role(tmp_path):
    path = tmp_path / "labels.idx"
    path.write_bytes(_idx(0x08, [3], bytes(3)))
    with pytest.raises(DataError, match="magic number 2049, expected 2051"):
        read_idx(path, expected_magic=2051)


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(gzip.compress(_idx(0x08, [100], bytes(100)))[:30])
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        read_idx(path)


def test_extra_bytes(tmp_path):
    path = tmp_path / "long.idx"
    path.write_bytes(_idx(0x08, [2], bytes(5)))
    with pytest.raises(DataError, match="has extra bytes"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_idx(tmp_path / "nothing.gz")


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32, np.float64])
def test_writer_round_trip(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype) if dtype != np.uint8 else np.arange(24, dtype=dtype)
    write_idx(array, tmp_path / "a.idx.gz")
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx.gz"), array)
