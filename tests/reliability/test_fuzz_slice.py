"""A slice of ``python -m benchmarks.fuzz_inputs`` (seed 0, a few hundred cases per category, seconds): every fuzzed
config, run name, IDX, CSV, checkpoint, safetensors and metrics file is accepted or refused with lamina's own error."""

from __future__ import annotations

import pytest

from benchmarks.fuzz_inputs import fuzz

pytestmark = pytest.mark.reliability

CASES = [
    ("configs", 200),
    ("idx", 200),
    ("csv", 200),
    ("metrics", 200),
    ("run_names", 40),
    ("safetensors", 40),
    ("checkpoints", 150),
]


@pytest.mark.parametrize(("category", "cases"), CASES)
def test_fuzzed_inputs_end_only_in_lamina_errors(category, cases):
    tally = fuzz(cases, seed=0, categories=[category])[category]
    assert tally.tried == cases
    assert tally.other == 0, "\n".join(tally.examples)
    if category == "metrics":  # the reader promises to skip damaged lines, not to refuse the file
        assert tally.accepted == cases
    else:
        assert tally.lamina_errors > 0  # the mutations do reach the error paths
