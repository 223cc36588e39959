"""An RBM trained by the Trainer logs and prints its free-energy gap and reconstruction error, not a negative
"loss"; ``sample`` returns images in the training data's shape when asked."""

from __future__ import annotations

import copy

import pytest
import torch

from lamina.data import ArrayDataset
from lamina.generative import BernoulliRBM
from lamina.pretrain.greedy import PretrainedLayer
from lamina.train import Trainer


def _images(n=96, seed=0):
    return (torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(seed)) > 0.5).float()


def test_the_epoch_logs_name_the_free_energy_gap_and_the_reconstruction_error(capsys):
    torch.manual_seed(0)
    rbm = BernoulliRBM(16, 8, init_std=0.5)
    start = copy.deepcopy(rbm)
    x = _images()
    trainer = Trainer(rbm, optimizer={"type": "sgd", "lr": 0.1}, epochs=1, batch_size=len(x))  # one step
    (logs,) = trainer.fit(ArrayDataset(x))
    # one batch, measured before its update: the error of the initial weights' mean-field reconstruction
    expected = (x.reshape(len(x), -1) - start.reconstruct(x.reshape(len(x), -1))).pow(2).sum(1).mean()
    assert logs["recon_error"] == pytest.approx(float(expected), rel=1e-5)
    assert logs["free_energy_gap"] == logs["loss"]  # "loss" stays for monitors and early stopping
    (line,) = capsys.readouterr().out.splitlines()
    assert f"free_energy_gap {logs['free_energy_gap']:.4g}  recon_error " in line and "  loss " not in line
    summary = PretrainedLayer("dense", rbm, list(trainer.history)).summary()
    assert "free_energy_gap" in summary and "recon_error" in summary and "loss" not in summary


def test_sample_returns_the_data_shape_when_asked():
    rbm = BernoulliRBM(16, 8)
    with pytest.raises(ValueError, match="not been trained"):
        rbm.sample(2, steps=2, shape="data")
    Trainer(rbm, optimizer={"type": "sgd", "lr": 0.1}, epochs=1, batch_size=32, verbose=0).fit(ArrayDataset(_images()))
    assert rbm.data_shape == (1, 4, 4)
    assert rbm.sample(5, steps=3, shape="data").shape == (5, 1, 4, 4)
    assert rbm.sample(5, steps=3, shape=(4, 4)).shape == (5, 4, 4)
    assert rbm.sample(5, steps=3).shape == (5, 16)  # rows, as before, unless asked
    generator = torch.Generator().manual_seed(1)
    rows = rbm.sample(3, steps=3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(rbm.sample(3, steps=3, generator=generator, shape="data").reshape(3, 16), rows)
    with pytest.raises(ValueError, match=r"\(3, 3\) holds 9 values, not the 16 visible units"):
        rbm.sample(2, steps=2, shape=(3, 3))
