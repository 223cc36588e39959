"""The cache of generated datasets: made once per parameters, read back without pickle, regenerated when the file
no longer matches its recorded sha256."""

from __future__ import annotations

import json

import numpy as np

from lamina.data.generated import cache_path, cached_arrays, chunked
from lamina.data.sources import sha256_of


def test_arrays_are_generated_once_and_a_damaged_copy_is_made_again():
    calls = []

    def make():
        calls.append(1)
        return {"x": np.arange(12, dtype=np.uint8).reshape(3, 4), "y": np.array([1.5, 2.5])}

    first = cached_arrays("toy", {"seed": 3}, make)
    again = cached_arrays("toy", {"seed": 3}, make)
    assert len(calls) == 1 and all(np.array_equal(first[k], again[k]) for k in first)
    path = cache_path("toy", {"seed": 3})
    assert json.loads(path.with_suffix(".json").read_text())["sha256"] == sha256_of(path)
    np.load(path, allow_pickle=False).close()  # a plain .npz: nothing pickled
    cached_arrays("toy", {"seed": 4}, make)
    assert len(calls) == 2  # other parameters, another file
    path.write_bytes(path.read_bytes()[:-7] + b"damaged")
    assert np.array_equal(cached_arrays("toy", {"seed": 3}, make)["x"], first["x"]) and len(calls) == 3


def test_chunked_blocks_do_not_depend_on_the_total_size():
    def make(rng, start, k):
        return rng.random(k), np.arange(start, start + k)

    small_x, small_i = chunked(1000, 5, 0, make)
    big_x, big_i = chunked(2500, 5, 0, make)
    assert np.array_equal(big_x[:1000], small_x) and np.array_equal(big_i, np.arange(2500))
    assert not np.array_equal(chunked(1000, 5, 1, make)[0], small_x)  # another part, another stream
