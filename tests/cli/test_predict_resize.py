"""``lamina predict`` refuses an image of another size than the model's input unless ``--resize`` (issue 24)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from lamina.data.inputs import read_inputs
from lamina.errors import DataError


@pytest.fixture
def wide_image(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, size=(12, 16), dtype=np.uint8)  # height 12, width 16
    Image.fromarray(pixels, mode="L").save(tmp_path / "wide.png")
    return tmp_path / "wide.png"


def test_an_image_of_another_size_is_refused_naming_both_sizes_and_the_flag(wide_image):
    with pytest.raises(DataError) as caught:
        read_inputs(wide_image, (1, 8, 8))
    message = str(caught.value)
    assert "the image is 16x12 pixels" in message and "the model takes 8x8" in message
    assert "--resize" in message and "resize=True" in message


def test_resize_gives_pil_s_lanczos_resize(wide_image):
    got = read_inputs(wide_image, (1, 8, 8), resize=True)
    expected = np.asarray(Image.open(wide_image).resize((8, 8), Image.Resampling.LANCZOS), dtype=np.float32) / 255
    assert got.shape == (1, 1, 8, 8)
    np.testing.assert_array_equal(got[0, 0].numpy(), expected)


def test_an_image_of_the_model_s_size_needs_no_flag(tmp_path):
    pixels = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    Image.fromarray(pixels, mode="L").save(tmp_path / "ok.png")
    got = read_inputs(tmp_path / "ok.png", (64,))[0].numpy()
    np.testing.assert_array_equal(got, pixels.reshape(-1).astype(np.float32) / 255)
