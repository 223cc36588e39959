"""Registered datasets: the real files, splits and scaling."""

from __future__ import annotations

import pytest
import torch

import lamina
from lamina.data.dataset import ArrayDataset, hold_out
from lamina.errors import ConfigError
from tests.conftest import needs_mnist


@needs_mnist
def test_mnist_from_lamina_data():
    train, val, test = lamina.data.load("mnist", validation=10000)
    assert (
        train.x.shape == (50000, 1, 28, 28) and val.x.shape == (10000, 1, 28, 28) and test.x.shape == (10000, 1, 28, 28)
    )
    assert train.x.dtype == torch.float32 and 0.0 <= float(train.x.min()) and float(train.x.max()) == 1.0
    assert torch.equal(torch.bincount(test.y), torch.tensor([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]))
    assert test.y[:5].tolist() == [7, 2, 1, 0, 4]  # the famous first test digits


@needs_mnist
def test_mnist_validation_is_the_last_training_images():
    full, _, _ = lamina.data.load("mnist", scale="none")
    train, val, _ = lamina.data.load("mnist", validation=10000, scale="none")
    assert torch.equal(val.x, full.x[50000:]) and torch.equal(train.y, full.y[:50000])


def test_digits_split_is_deterministic_and_disjoint():
    a = lamina.data.load("digits", validation=0.1)
    b = lamina.data.load("digits", validation=0.1)
    assert all(torch.equal(x.x, y.x) for x, y in zip(a, b))
    assert (len(a.train), len(a.validation), len(a.test)) == (1294, 144, 359)
    assert a.train.input_shape == (1, 8, 8) and a.train.num_classes == 10


def test_seeded_holdout_is_a_permutation_subset():
    data = ArrayDataset(torch.arange(100.0).unsqueeze(1), torch.arange(100))
    train, val = hold_out(data, 20, split_seed=3)
    ids = sorted(train.y.tolist() + val.y.tolist())
    assert ids == list(range(100)) and len(val) == 20 and val.y.tolist() != list(range(80, 100))


def test_standard_scaling_uses_training_statistics():
    train, val, test = lamina.data.load("digits", validation=0.2, scale="standard", flatten=True)
    assert abs(float(train.x.mean())) < 1e-5 and abs(float(train.x.std()) - 1) < 1e-4
    assert train.input_shape == (64,)


def test_unknown_dataset_and_bad_options():
    with pytest.raises(ConfigError, match="unknown dataset 'mnsit'; did you mean 'mnist'"):
        lamina.data.load("mnsit")
    with pytest.raises(ConfigError, match="data.validation"):
        lamina.data.load("digits", validation=-1)


def test_validation_larger_than_train():
    # refused as the spec is validated (config check sees it): the digits' training size is known without loading
    with pytest.raises(ConfigError, match="validation = 5000 holds out 5000 of the 1438 training examples"):
        lamina.data.load("digits", validation=5000)


def test_batch_loader_covers_every_example_once_per_epoch():
    from lamina.data import BatchLoader

    data = ArrayDataset(torch.arange(10.0).unsqueeze(1), torch.arange(10))
    loader = BatchLoader(data, 4, shuffle=True, generator=torch.Generator().manual_seed(0))
    seen = torch.cat([y for _, y in loader])
    assert sorted(seen.tolist()) == list(range(10)) and len(loader) == 3
    second = torch.cat([y for _, y in loader])
    assert second.tolist() != seen.tolist()
