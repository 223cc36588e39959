"""Read inputs for prediction from files: ``.npy`` arrays, ``.csv`` tables and ``.png`` images, checked against
the shape the model takes."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lamina.data.encoding import read_text_file
from lamina.errors import DataError

__all__ = ["read_inputs"]


def _as_batch(array: np.ndarray, input_shape: tuple[int, ...], source: Path) -> torch.Tensor:
    """``array`` as ``(N, *input_shape)``: one example, a batch, or a batch of flattened examples."""
    size = math.prod(input_shape)
    if tuple(array.shape) == tuple(input_shape):
        array = array[None]
    elif tuple(array.shape[1:]) != tuple(input_shape):
        if array.ndim == 2 and array.shape[1] == size:
            array = array.reshape(len(array), *input_shape)
        else:
            raise DataError(
                f"{source}: inputs of shape {tuple(array.shape)}; the model takes {tuple(input_shape)} "
                f"per example, so give (N, {', '.join(map(str, input_shape))}), one example of that "
                f"shape, or (N, {size}) rows"
            )
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise DataError(f"{source}: expected real numbers, got values of type {array.dtype}")
    bad = np.argwhere(~np.isfinite(array))
    if len(bad):
        raise DataError(
            f"{source}: {len(bad)} value(s) are NaN or infinite, the first at index "
            f"{tuple(int(i) for i in bad[0])}; the model takes finite numbers"
        )
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def _read_csv(path: Path) -> np.ndarray:
    lines = [line for line in read_text_file(path).splitlines() if line.strip()]
    if not lines:
        raise DataError(f"{path}: empty file")
    rows = [line.split(",") for line in lines]
    try:
        [float(v) for v in rows[0]]
    except ValueError:
        header, rows = rows[0], rows[1:]  # the first line names the columns
    else:
        header = [f"column {i + 1}" for i in range(len(rows[0]))]
    values = []
    for r, row in enumerate(rows):
        if len(row) != len(header):
            raise DataError(f"{path}: row {r + 1} has {len(row)} values, the header {len(header)}")
        for c, v in enumerate(row):
            try:
                values.append(float(v))
            except ValueError:
                raise DataError(
                    f"{path}: column {header[c].strip()!r} holds a non-number {v.strip()!r} (row {r + 1})"
                ) from None
    return np.asarray(values, dtype=np.float32).reshape(len(rows), len(header))


def _read_png(path: Path, input_shape: tuple[int, ...], resize: bool = False) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    if len(input_shape) not in (1, 2, 3) or (len(input_shape) == 3 and input_shape[0] not in (1, 3)):
        raise DataError(f"{path}: the model takes inputs of shape {input_shape}, not images")
    try:
        image = Image.open(path)
        image.load()
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"{path}: not a readable image ({err})") from None
    channels = input_shape[0] if len(input_shape) == 3 else 1
    height, width = input_shape[-2:] if len(input_shape) >= 2 else (int(math.isqrt(input_shape[0])),) * 2
    if height * width * channels != math.prod(input_shape):
        raise DataError(f"{path}: cannot map an image onto the model's input shape {input_shape}")
    image = image.convert("L" if channels == 1 else "RGB")
    if image.size != (width, height):
        if not resize:  # a silently squashed image gives a confident wrong answer
            raise DataError(
                f"{path}: the image is {image.size[0]}x{image.size[1]} pixels (width x height) but the model takes "
                f"{width}x{height}; resize it to {width}x{height} first, or let lamina resize it "
                "(lamina predict --resize; read_inputs(..., resize=True))"
            )
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    pixels = np.asarray(image, dtype=np.float32) / 255.0  # (H, W) or (H, W, 3), in [0, 1]
    pixels = pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
    return pixels.reshape(1, *input_shape)


def read_inputs(
    path: str | Path, input_shape: Any, *, pixel_transform: Any = None, resize: bool = False
) -> torch.Tensor:
    """Inputs for a model taking ``input_shape`` per example, read from ``path``.

    ``.npy``: an array of examples, already preprocessed as in training. ``.csv``: one example per row
    (a header line is optional). ``.png``: one image, converted to gray (or RGB), scaled to [0, 1], then passed
    through ``pixel_transform`` (the dataset's own scaling); an image of another height and width than the input's
    is refused, or resized (Lanczos) where ``resize``.

    Raises:
        DataError: a missing or unreadable file, non-numeric values (naming the column), a shape that does not
            fit (naming the expected one), or an image of another size (naming both) without ``resize``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if not isinstance(input_shape[0], int):
        raise DataError("predicting from a file needs a model with a single input")
    input_shape = tuple(input_shape)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError as err:
            raise DataError(f"{path}: not a plain numeric .npy array ({err})") from None
        return _as_batch(array, input_shape, path)
    if suffix == ".csv":
        return _as_batch(_read_csv(path), input_shape, path)
    if suffix == ".png":
        batch = torch.from_numpy(_read_png(path, input_shape, resize))
        return pixel_transform(batch) if pixel_transform is not None else batch
    raise DataError(f"{path}: unsupported input file type {suffix!r}; use .npy, .csv or .png")
