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
    if "[gan]" in path.read_text():  # a GAN file (issue 27): its own sections, run by train_gan
        from lamina.generative.adversarial.config import load_gan_experiment

        assert load_gan_experiment(path).gan.generator
        return
    experiment = lamina.load_experiment(path)
    assert experiment.model is not None
    if experiment.pretrain is not None:  # the greedy module of each pretrained layer can be built from it
        assert experiment.pretrain.option_names()
