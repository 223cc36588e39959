"""The deep autoencoder: unrolled from any stack of greedy modules (encoder W, decoder W^T), its maps checked
against the modules' own, pretrained by the greedy driver, fine-tuned end to end; bad stacks refused."""

from __future__ import annotations

import pytest
import torch

import lamina
from lamina.errors import ShapeError
from lamina.generative import Autoencoder, DeepAutoencoder, DenoisingAutoencoder


def _stack(*sizes, activations=None, dtype=torch.float64):
    torch.manual_seed(0)
    activations = activations or ["sigmoid"] * (len(sizes) - 1)
    layers = []
    for n_in, n_out, act in zip(sizes[:-1], sizes[1:], activations):
        layer = Autoencoder(n_in, n_out, activation=act, loss="mse", dtype=dtype)
        with torch.no_grad():
            layer.hidden_bias.normal_()
            layer.visible_bias.normal_()
        layers.append(layer)
    return layers


def test_one_layer_unrolled_is_the_tied_autoencoder_itself():
    (ae,) = _stack(9, 4)
    ae_ce = Autoencoder(9, 4, loss="cross_entropy", dtype=torch.float64)
    ae_ce.load_state_dict(ae.state_dict())
    deep = DeepAutoencoder.unroll([ae_ce])
    x = torch.rand(6, 9, dtype=torch.float64)
    torch.testing.assert_close(deep.transform(x), ae_ce.transform(x))
    torch.testing.assert_close(deep.reconstruct(x), ae_ce.reconstruct(x))
    torch.testing.assert_close(deep.training_loss((x, None)), ae_ce.training_loss((x, None)))


def test_unrolling_copies_weights_and_transposes_and_mirrors_the_nonlinearities():
    layers = _stack(10, 7, 5, 2, activations=["sigmoid", "relu", "identity"])
    deep = DeepAutoencoder.unroll(layers, output_activation="identity", loss="mse")
    assert deep.sizes == [10, 7, 5, 2] and deep.activations == ["sigmoid", "relu", "identity"]
    x = torch.rand(4, 10, dtype=torch.float64)
    # by hand: up through each module's encoder, down through each module's tied decoder and the layer below's f
    h1 = torch.sigmoid(x @ layers[0].weight.T + layers[0].hidden_bias)
    h2 = torch.relu(h1 @ layers[1].weight.T + layers[1].hidden_bias)
    code = h2 @ layers[2].weight.T + layers[2].hidden_bias
    r2 = torch.relu(code @ layers[2].weight + layers[2].visible_bias)
    r1 = torch.sigmoid(r2 @ layers[1].weight + layers[1].visible_bias)
    r0 = r1 @ layers[0].weight + layers[0].visible_bias
    torch.testing.assert_close(deep.transform(x), code)
    torch.testing.assert_close(deep.reconstruct(x), r0)
    # the decoder is untied: fine-tuning moves it apart from the encoder
    assert deep.decoder.dense_2.weight.data_ptr() != deep.encoder.dense_0.linear.weight.data_ptr()


def test_a_stack_whose_sizes_do_not_chain_is_refused():
    a, b = Autoencoder(10, 6), Autoencoder(5, 3)
    with pytest.raises(
        ShapeError,
        match=r"layers\[1\] has 5 visible units but the layer below it \(layers\[0\]\) has "
        r"6 hidden units: a stack's sizes must chain",
    ):
        DeepAutoencoder.unroll([a, b])
    deep = DeepAutoencoder([10, 6, 3])
    with pytest.raises(ShapeError, match=r"layers\[1\] has weights \(2, 6\), encoder layer 1 needs \(3, 6\)"):
        deep.load_pretrained([a, Autoencoder(6, 2)])
    with pytest.raises(ShapeError, match="expects 10 inputs per example, got 12"):
        deep.transform(torch.rand(2, 12))
    with pytest.raises(ValueError, match=r"`sizes` must be two or more positive integers"):
        DeepAutoencoder([10])
    with pytest.raises(lamina.DataError, match=r"needs inputs in \[0, 1\]"):
        deep.training_loss((torch.randn(3, 10), None))


def test_pretrained_then_fine_tuned_on_digits():
    train = lamina.data.load("digits", flatten=True).train
    deep = DeepAutoencoder.pretrained(
        train,
        [64, 32, 16, 2],
        method={"method": "denoising_autoencoder", "epochs": 3, "batch_size": 64},
        device="cpu",
        seed=1,
    )
    records = deep.pretrained_layers
    assert [type(r.module) for r in records] == [DenoisingAutoencoder] * 3
    assert [r.module.loss for r in records] == ["cross_entropy", "cross_entropy", "cross_entropy"]
    assert records[-1].module.activation == "identity"  # the linear 2-D code
    for layer, record in zip((deep.encoder.dense_0.linear, deep.encoder.dense_1.linear, deep.encoder.dense_2), records):
        assert torch.equal(layer.weight, record.module.weight.detach())
    assert torch.equal(deep.decoder.dense_2.weight, records[0].module.weight.detach().T)
    assert torch.equal(deep.decoder.dense_2.bias, records[0].module.visible_bias.detach())
    trainer = lamina.Trainer(deep, optimizer={"type": "adam", "lr": 3e-3}, epochs=5, batch_size=64, device="cpu")
    before = trainer.evaluate(train)["squared_error"]
    trainer.fit(train)
    assert trainer.evaluate(train)["squared_error"] < before
    assert deep.transform(train.x[:5]).shape == (5, 2)


def test_rbm_table_pretrains_the_linear_code_with_a_linear_rbm():
    """A table naming ``rbm`` gets the paper's linear-hidden RBM for the linear code layer, as the name does."""
    train = lamina.data.load("digits", flatten=True).train
    data = lamina.data.ArrayDataset(train.x[:200] / train.x.max(), None)
    deep = DeepAutoencoder.pretrained(
        data, [64, 16, 2], method={"method": "rbm", "epochs": 1, "batch_size": 50}, device="cpu", seed=0
    )
    kinds = [type(r.module).__name__ for r in deep.pretrained_layers]
    assert kinds == ["BernoulliRBM", "LinearHiddenRBM"]
