"""Every example experiment file still loads: its keys are the current ones (issue 25 renamed some, e.g. the RBM's
``cd_k`` to ``k``), its values in bounds, its names registered."""

from __future__ import annotations

from pathlib import Path

import pytest

import lamina

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.toml"))


def test_there_are_examples():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_loads(path):
    experiment = lamina.load_experiment(path)
    assert experiment.model is not None
    if experiment.pretrain is not None:  # the greedy module of each pretrained layer can be built from it
        assert experiment.pretrain.option_names()
