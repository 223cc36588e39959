"""The IDX file format of MNIST and Fashion-MNIST (LeCun et al., 1998), plain or gzipped.

Layout: a 4-byte magic ``0x00 0x00 TYPE NDIM``, then ``NDIM`` big-endian int32 sizes, then the data in
row-major order, big-endian. ``TYPE`` is 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32 or
0x0E float64. The familiar "magic numbers" 2051 (images) and 2049 (labels) are ``0x0803`` and ``0x0801``.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from lamina.errors import DataError

__all__ = ["read_idx", "parse_idx", "write_idx"]

_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(raw: bytes, *, source: str = "<bytes>", expected_magic: int | None = None) -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file into an array in native byte order.

    Args:
        raw: the file's bytes.
        source: the file name, for messages.
        expected_magic: e.g. 2051 for an image file; a different magic is an error.

    Raises:
        DataError: naming ``source`` and what is wrong (short header, wrong magic, truncated or extra data).
    """
    if len(raw) < 4:
        raise DataError(f"{source}: not an IDX file: {len(raw)} bytes, shorter than the 4-byte magic number")
    zero, type_code, ndim = int.from_bytes(raw[:2], "big"), raw[2], raw[3]
    magic = int.from_bytes(raw[:4], "big")
    if zero != 0 or type_code not in _DTYPES or ndim == 0:
        raise DataError(
            f"{source}: wrong magic number 0x{magic:08x} ({magic}); an IDX file starts with 0x0000TTNN "
            f"(TT a type code in {', '.join(f'0x{t:02x}' for t in _DTYPES)}, NN the number of dimensions)"
        )
    if expected_magic is not None and magic != expected_magic:
        raise DataError(f"{source}: magic number {magic}, expected {expected_magic} for this file")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{source}: truncated header: {ndim} dimensions need {header} bytes, the file has {len(raw)}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_DTYPES[type_code])
    need = math.prod(shape) * dtype.itemsize
    have = len(raw) - header
    if have != need:
        what = "truncated" if have < need else "has extra bytes"
        raise DataError(
            f"{source}: {what}: the header says {'x'.join(map(str, shape))} {dtype.name} = {need} bytes of data, "
            f"the file has {have}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike, *, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzipped if its name ends in ``.gz`` or it starts with gzip's magic bytes)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read: {err.strerror or err}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as err:
            raise DataError(f"{path}: corrupt or truncated gzip stream ({err})") from None
    return parse_idx(raw, source=str(path), expected_magic=expected_magic)


def write_idx(array: np.ndarray, path: str | os.PathLike) -> None:
    """Write ``array`` as an IDX file (gzipped if ``path`` ends in ``.gz``); the inverse of :func:`read_idx`."""
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _DTYPES.items()}
    array = np.ascontiguousarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(f"IDX cannot hold dtype {array.dtype}; use one of uint8, int8, int16, int32, float32, float64")
    code = codes[native]
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    payload = header + array.astype(_DTYPES[code]).tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)
