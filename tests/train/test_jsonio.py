"""lamina's one JSON encoding: non-finite numbers as the strings "nan", "inf", "-inf", never bare NaN/Infinity."""

from __future__ import annotations

import json
import math

import numpy as np
import torch

from lamina import jsonio
from lamina.train.runs import read_summary, write_summary


def test_non_finite_numbers_are_strings_and_read_back_as_floats():
    value = {
        "loss": math.nan,
        "best": [math.inf, -math.inf, 1.5],
        "nested": {"t": torch.tensor(math.nan)},
        "array": np.array([1.0, math.inf]),
        "name": "x",
    }
    text = jsonio.dumps(value)
    parsed = json.loads(text, parse_constant=lambda name: (_ for _ in ()).throw(AssertionError(name)))
    assert parsed["loss"] == "nan" and parsed["best"] == ["inf", "-inf", 1.5] and parsed["array"] == [1.0, "inf"]
    back = jsonio.loads(text)
    assert math.isnan(back["loss"]) and back["best"][:2] == [math.inf, -math.inf] and math.isnan(back["nested"]["t"])


def test_summary_with_infinities_is_written_and_read(tmp_path):
    # write_summary used to die on inf (allow_nan=False without an encoding)
    write_summary(tmp_path, {"status": "diverged", "diverged": {"value": math.inf}, "best": -math.inf})
    assert "Infinity" not in (tmp_path / "summary.json").read_text()
    assert read_summary(tmp_path)["diverged"]["value"] == math.inf
