"""The RBM with linear hidden units (Hinton & Salakhutdinov, 2006): free energy against numerical integration over
the hidden states, the CD-1 gradient against the update of the paper's code, pretraining a linear code layer."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from lamina.errors import ConfigError, DataError
from lamina.generative import DeepAutoencoder, LinearHiddenRBM
from lamina.pretrain import pretrain_layerwise


def test_free_energy_equals_minus_log_of_the_integral_over_hidden_states():
    torch.manual_seed(0)
    rbm = LinearHiddenRBM(3, 2, dtype=torch.float64)
    with torch.no_grad():
        rbm.hidden_bias.copy_(torch.tensor([0.3, -0.5], dtype=torch.float64))
        rbm.visible_bias.copy_(torch.tensor([0.2, -0.1, 0.4], dtype=torch.float64))
    w, b, c = (t.detach().numpy() for t in (rbm.weight, rbm.visible_bias, rbm.hidden_bias))
    for v in ([0.0, 1.0, 1.0], [1.0, 0.0, 0.5]):
        v = np.array(v)

        def boltzmann(h1, h0):
            h = np.array([h0, h1])
            return math.exp(b @ v + c @ h + h @ w @ v - h @ h / 2)

        z, _ = integrate.dblquad(boltzmann, -12, 12, -12, 12, epsabs=1e-11)
        constant = math.log(2 * math.pi)  # n_h / 2 * log(2 pi), which free_energy leaves out
        f = float(rbm.free_energy(torch.tensor(v[None])).detach())
        assert -math.log(z) == pytest.approx(f - constant, abs=1e-7)


def test_cd1_gradient_is_the_update_of_rbmhidlinear():
    torch.manual_seed(1)
    rbm = LinearHiddenRBM(6, 3, weight_decay=0.01, dtype=torch.float64)
    v = torch.rand(5, 6, dtype=torch.float64)
    torch.manual_seed(7)
    rbm.training_loss((v, None)).backward()
    # the paper's Matlab code, written out in numpy with the same noise
    torch.manual_seed(7)
    noise = torch.randn(5, 3, dtype=torch.float64).numpy()
    w, b, c, x = (t.detach().numpy() for t in (rbm.weight, rbm.visible_bias, rbm.hidden_bias, v))
    poshid = x @ w.T + c
    negdata = 1 / (1 + np.exp(-((poshid + noise) @ w + b)))
    neghid = negdata @ w.T + c
    delta_w = (poshid.T @ x - neghid.T @ negdata) / 5 - 0.01 * w
    np.testing.assert_allclose(-rbm.weight.grad.numpy(), delta_w, atol=1e-12)
    np.testing.assert_allclose(-rbm.hidden_bias.grad.numpy(), (poshid - neghid).mean(0), atol=1e-12)
    np.testing.assert_allclose(-rbm.visible_bias.grad.numpy(), (x - negdata).mean(0), atol=1e-12)


def test_linear_code_layer_pretrained_below_rbm_layers_and_copied_exactly():
    torch.manual_seed(0)
    data = (torch.rand(256, 12) < 0.3).float()
    model = DeepAutoencoder([12, 8, 3], device="cpu")
    methods = [
        {"method": "rbm", "epochs": 2, "monitor_examples": 0, "plots": False},
        {"method": "linear_rbm", "epochs": 3, "batch_size": 32},
    ]
    records = pretrain_layerwise(model.encoder, data, methods, device="cpu", include_last=True)
    code = records[1].module
    assert isinstance(code, LinearHiddenRBM)
    encoder_code_layer = model.encoder[1][0] if isinstance(model.encoder[1], torch.nn.Sequential) else model.encoder[1]
    assert torch.equal(encoder_code_layer.weight, code.weight)
    assert torch.equal(encoder_code_layer.bias, code.hidden_bias)
    errors = [row["recon_error"] for row in records[1].history if "recon_error" in row]
    assert len(records[1].history) == 3
    assert not errors or errors[-1] <= errors[0]


def test_training_lowers_the_reconstruction_error():
    from lamina import Trainer

    torch.manual_seed(0)
    prototypes = (torch.rand(4, 20) < 0.5).float()
    data = prototypes[torch.randint(0, 4, (512,))]
    rbm = LinearHiddenRBM(20, 4)
    before = float(rbm.validation_metrics((data, None))["recon_error"])
    Trainer(
        rbm, optimizer={"type": "sgd", "lr": 0.01, "momentum": 0.9}, epochs=30, batch_size=32, device="cpu", seed=0
    ).fit(data)
    after = float(rbm.validation_metrics((data, None))["recon_error"])
    assert after < 0.5 * before


def test_refuses_sigmoid_layers_and_data_outside_the_unit_interval():
    model = DeepAutoencoder([6, 4, 2], device="cpu")
    with pytest.raises(
        ConfigError, match="linear_rbm cannot pretrain layer .* sigmoid units: its hidden units are linear"
    ):
        pretrain_layerwise(model.encoder, torch.rand(8, 6), "linear_rbm", device="cpu", include_last=True)
    with pytest.raises(DataError, match=r"LinearHiddenRBM: visible data must be probabilities in \[0, 1\]"):
        LinearHiddenRBM(3, 2).prepare(torch.tensor([[0.0, 2.0, 0.5]]))


def test_deep_autoencoder_pretrained_with_rbm_uses_a_linear_rbm_for_the_code():
    data = (torch.rand(64, 10, generator=torch.Generator().manual_seed(0)) < 0.4).float()
    model = DeepAutoencoder.pretrained(data, [10, 6, 2], method="rbm", device="cpu")
    kinds = [type(r.module).__name__ for r in model.pretrained_layers]
    assert kinds == ["BernoulliRBM", "LinearHiddenRBM"]
    assert model.transform(data).shape == (64, 2)
