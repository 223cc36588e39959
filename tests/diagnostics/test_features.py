"""Feature views: filters are the weights, PCA embeddings match an SVD, saliency of a linear model is its weight row."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import lamina
from lamina.diagnostics import (
    DiagnosticsError,
    LayerNotFoundError,
    default_embedding_layer,
    embed,
    first_layer_filters,
    saliency,
)
from lamina.diagnostics.plots import plot_embedding, plot_filters, plot_saliency


def _mlp():
    torch.manual_seed(0)
    return lamina.build_model(
        [
            {"type": "flatten"},
            {"type": "dense", "units": 5, "activation": "relu"},
            {"type": "dense", "units": 4, "activation": "tanh"},
            {"type": "dense", "units": 3},
        ],
        (1, 4, 6),
    )


def test_dense_and_conv_filters_are_the_weights_on_the_input_grid(tmp_path):
    model = _mlp()
    filters = first_layer_filters(model)
    w = model[1][0].weight.detach()
    assert filters.layer == "dense_1" and filters.images.shape == (5, 1, 4, 6)
    assert torch.equal(filters.images[3, 0], w[3].reshape(4, 6))  # unit 3's receptive field, row-major
    conv = lamina.build_model([{"type": "conv2d", "filters": 6, "kernel_size": 3}], (3, 8, 8))
    assert torch.equal(first_layer_filters(conv).images, conv[0].weight.detach())
    assert plot_filters(first_layer_filters(conv), tmp_path / "f.png").is_file()  # RGB filters


def test_flat_inputs_need_a_square_or_an_image_shape():
    flat = nn.Sequential(nn.Linear(12, 2))
    with pytest.raises(lamina.ShapeError, match="12 inputs, which do not form a square image; give image_shape"):
        first_layer_filters(flat)
    assert first_layer_filters(flat, image_shape=(3, 4)).images.shape == (2, 1, 3, 4)
    assert first_layer_filters(nn.Sequential(nn.Linear(16, 2))).images.shape == (2, 1, 4, 4)
    with pytest.raises(DiagnosticsError, match="is a BatchNorm1d; filters can be shown for dense"):
        first_layer_filters(nn.Sequential(nn.BatchNorm1d(3), nn.Linear(3, 2)))


def test_pca_embedding_matches_the_svd_of_the_centred_activations(tmp_path):
    model = _mlp().eval()
    x, y = torch.randn(40, 1, 4, 6), torch.randint(0, 3, (40,))
    assert default_embedding_layer(model) == "dense_2"
    emb = embed(model, (x, y))
    with torch.no_grad():
        h = model[2](model[1](model[0](x))).double().numpy()
    h -= h.mean(0)
    u, s, vt = np.linalg.svd(h, full_matrices=False)
    expected = h @ vt[:2].T
    for k in range(2):  # each component is defined up to its sign
        got = emb.points[:, k].double().numpy()
        sign = np.sign(got @ expected[:, k])
        np.testing.assert_allclose(sign * got, expected[:, k], atol=1e-5)
    assert emb.explained_variance[0] == pytest.approx(s[0] ** 2 / (s**2).sum(), rel=1e-6)
    assert torch.equal(emb.labels, y) and emb.layer == "dense_2"
    assert plot_embedding(emb, tmp_path / "e.png", classes=["a", "b", "c"]).is_file()


def test_tsne_keeps_two_separate_clusters_apart():
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(12, 6, generator=g), torch.randn(12, 6, generator=g) + 20])
    y = torch.tensor([0] * 12 + [1] * 12)
    emb = embed(nn.Sequential(nn.Linear(6, 3)), (x, y), "input", method="tsne", perplexity=5, iterations=250)
    assert emb.points.shape == (24, 2) and emb.method == "tsne" and emb.layer == "input"
    d = torch.cdist(emb.points, emb.points) + torch.eye(24) * 1e9
    assert torch.equal(y[d.argmin(1)], y)  # every point's nearest neighbour is in its own cluster


def test_saliency_of_a_linear_classifier_is_the_weight_row_of_the_scored_class(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(9, 4))
    x = torch.randn(5, 1, 3, 3)
    sal = saliency(model, x)
    predicted = model(x).argmax(1)
    assert torch.equal(sal.targets, predicted)
    w = model[1].weight.detach()
    for n in range(5):
        torch.testing.assert_close(sal.gradients[n].flatten(), w[predicted[n]])
        torch.testing.assert_close(sal.maps[n], w[predicted[n]].abs().reshape(3, 3))
    fixed = saliency(model, x, target=2)
    torch.testing.assert_close(fixed.gradients.reshape(5, 9), w[2].expand(5, 9))
    assert all(p.grad is None for p in model.parameters())
    assert plot_saliency(sal, tmp_path / "s.png", labels=torch.tensor([0, 1, 2, 3, 0])).is_file()
    with pytest.raises(DiagnosticsError, match="target class 7 is out of range: the model gives 4 scores"):
        saliency(model, x, target=7)


def test_unknown_layer_lists_the_layers():
    with pytest.raises(
        LayerNotFoundError, match="no layer 'dense_7'.*its layers are: flatten_0, dense_1, dense_2, dense_3"
    ):
        embed(_mlp(), torch.randn(5, 1, 4, 6), "dense_7")
    with pytest.raises(ValueError, match="`method` must be one of 'pca', 'tsne', got 'umap'"):
        embed(_mlp(), torch.randn(5, 1, 4, 6), method="umap")
