"""Elastic distortions (Simard et al., 2003) and the ``augment`` option that applies a transform to training
batches: the identity at alpha = 0, the fields' statistics against closed forms, the sampler against grid_sample,
seeding, and that the trainer distorts training batches but never evaluation ones."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import lamina
from lamina.data import elastic, make_loader
from lamina.data.elastic import ElasticDistortion, bilinear_sample, elastic_distort, gaussian_kernel, smoothed_noise
from lamina.errors import ConfigError
from lamina.registry import resolve
from lamina.train import Trainer


@pytest.mark.parametrize("shape", [(5, 1, 28, 28), (5, 3, 12, 20), (5, 28, 28), (5, 784)])
def test_alpha_zero_is_the_exact_identity(shape):
    x = torch.rand(shape)
    assert torch.equal(elastic_distort(x, 0.0, 4.0, generator=torch.Generator().manual_seed(0)), x)


@pytest.mark.parametrize("sigma", [2.0, 4.0])
def test_smoothed_noise_has_the_closed_form_std_and_gaussian_correlation(sigma):
    fields = smoothed_noise(48, 72, 72, sigma, generator=torch.Generator().manual_seed(1)).double()
    r = len(gaussian_kernel(sigma)) // 2
    interior = fields[:, :, r:-r, r:-r]  # where the zero padding does not reach
    k = gaussian_kernel(sigma, dtype=torch.float64)
    exact = math.sqrt(1 / 3) * float((k**2).sum())  # uniform[-1, 1] has variance 1/3; the 2-D kernel is k k^T
    continuous = math.sqrt(1 / 3) / (2 * math.sqrt(math.pi) * sigma)  # sum of a sampled Gaussian's squares
    assert abs(float(interior.std()) / exact - 1) < 0.03
    assert abs(exact / continuous - 1) < 0.01
    assert abs(float(interior.mean())) < 0.1 * exact
    # smoothing white noise by a Gaussian of std sigma gives the correlation exp(-d^2 / (4 sigma^2)) at lag d
    a, b = interior[..., :, :-1].flatten(), interior[..., :, 1:].flatten()
    lag1 = float(((a - a.mean()) * (b - b.mean())).mean() / (a.std() * b.std()))
    assert abs(lag1 - math.exp(-1 / (4 * sigma**2))) < 0.02


def test_bilinear_sample_agrees_with_grid_sample():
    gen = torch.Generator().manual_seed(2)
    images = torch.rand(6, 2, 15, 19, generator=gen, dtype=torch.float64)
    dy, dx = (torch.rand(2, 6, 15, 19, generator=gen, dtype=torch.float64) - 0.5) * 8  # some samples fall outside
    ours = bilinear_sample(images, dy, dx)
    rows, cols = torch.meshgrid(torch.arange(15.0), torch.arange(19.0), indexing="ij")
    grid = torch.stack([(cols + dx) * 2 / 18 - 1, (rows + dy) * 2 / 14 - 1], -1).double()
    theirs = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    assert torch.allclose(ours, theirs, atol=1e-10)


def test_distortion_is_seeded_per_image_and_keeps_the_batch_shape():
    x = torch.rand(1, 1, 28, 28).expand(4, 1, 28, 28).contiguous()
    a = elastic_distort(x, 34.0, 4.0, generator=torch.Generator().manual_seed(3))
    b = elastic_distort(x, 34.0, 4.0, generator=torch.Generator().manual_seed(3))
    c = elastic_distort(x, 34.0, 4.0, generator=torch.Generator().manual_seed(4))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, c)
    assert not torch.equal(a[0], a[1])  # each image gets its own field
    assert not torch.equal(a, x)
    with pytest.raises(ValueError, match="not square"):
        elastic_distort(torch.rand(2, 30), 1.0, 1.0)


def test_elastic_is_a_registered_transform_with_simards_defaults():
    spec = resolve("transform", "elastic")
    module = spec.build()
    assert isinstance(module, ElasticDistortion) and (module.alpha, module.sigma) == (34.0, 4.0)
    with pytest.raises(ConfigError, match="alpha"):
        lamina.data.spec("digits", augment=[{"type": "elastic", "alpha": -1.0}])
    with pytest.raises(ConfigError, match="transform"):
        lamina.data.spec("digits", augment=[{"type": "elastik"}])


def test_augment_reaches_training_batches_only(monkeypatch):
    train, val, test = lamina.data.load("digits", validation=100, augment=[{"type": "elastic", "alpha": 6.0}])
    assert train.transform is not None and val.transform is None and test.transform is None
    plain, _ = next(iter(make_loader(train, 8)))
    distorted, _ = next(iter(make_loader(train, 8, augment=True)))
    assert torch.equal(plain, train.x[:8]) and not torch.equal(distorted, plain)

    calls = []
    forward = ElasticDistortion.forward
    monkeypatch.setattr(elastic.ElasticDistortion, "forward", lambda self, x: calls.append(len(x)) or forward(self, x))
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    trainer = Trainer(model, epochs=1, batch_size=256, device="cpu")
    trainer.fit(train, val)
    assert sum(calls) == len(train)  # every training example distorted once per epoch, validation never
    calls.clear()
    trainer.evaluate(train)
    assert calls == []
