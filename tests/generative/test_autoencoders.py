"""Autoencoders against independent oracles: hand-written losses in numpy, finite differences (gradcheck), the
encoder Jacobian from torch.autograd.functional.jacobian, scikit-learn's PCA, scipy's relative entropy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.special
import torch
from sklearn.decomposition import PCA

import lamina
from lamina.data import ArrayDataset
from lamina.errors import DataError, ShapeError
from lamina.generative import (
    Autoencoder,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    SparseAutoencoder,
    contractive_penalty,
    kl_sparsity_penalty,
)

ACTIVATIONS = ["sigmoid", "tanh", "relu", "identity"]


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


@pytest.mark.parametrize("tied", [True, False])
def test_losses_match_numpy_formulas(tied):
    torch.manual_seed(0)
    x = torch.rand(7, 12, dtype=torch.float64)
    for loss in ("cross_entropy", "mse"):
        ae = Autoencoder(12, 5, tied=tied, loss=loss, dtype=torch.float64)
        w, c, b = (p.detach().numpy() for p in (ae.weight, ae.hidden_bias, ae.visible_bias))
        w_dec = w.T if tied else ae.decoder_weight.detach().numpy()
        xn = x.numpy()
        h = _sigmoid(xn @ w.T + c)
        r = _sigmoid(h @ w_dec.T + b) if loss == "cross_entropy" else h @ w_dec.T + b
        expected = (
            (-(xn * np.log(r) + (1 - xn) * np.log(1 - r)) if loss == "cross_entropy" else (r - xn) ** 2)
            .sum(axis=1)
            .mean()
        )
        assert ae.training_loss((x, None)).item() == pytest.approx(expected, rel=1e-10)
        np.testing.assert_allclose(ae.reconstruct(x).detach().numpy(), r, rtol=1e-10)
    assert sum(p.numel() for p in ae.parameters()) == 12 * 5 + 5 + 12 + (0 if tied else 12 * 5)


class _TrainingLoss(torch.nn.Module):
    """``training_loss`` as a module's forward, so that torch.func.functional_call can vary the parameters."""

    def __init__(self, ae):
        super().__init__()
        self.ae = ae

    def forward(self, x):
        return self.ae.training_loss((x, None))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Autoencoder(6, 4, tied=False, activation="tanh", loss="mse", dtype=torch.float64),
        lambda: SparseAutoencoder(6, 4, sparsity="kl", target=0.1, weight=0.5, dtype=torch.float64),
        lambda: SparseAutoencoder(6, 4, sparsity="l1", weight=0.3, activation="tanh", loss="mse", dtype=torch.float64),
        lambda: ContractiveAutoencoder(6, 4, contraction=0.7, dtype=torch.float64),
        lambda: ContractiveAutoencoder(6, 4, contraction=0.7, activation="tanh", tied=False, dtype=torch.float64),
    ],
    ids=["untied-tanh", "sparse-kl", "sparse-l1", "contractive", "contractive-tanh-untied"],
)
def test_training_loss_gradients_match_finite_differences(make):
    torch.manual_seed(1)
    ae = make()
    x = torch.rand(5, 6, dtype=torch.float64)
    objective = _TrainingLoss(ae)
    names = [name for name, _ in objective.named_parameters()]

    def loss_of(*values):
        return torch.func.functional_call(objective, dict(zip(names, values)), (x,))

    assert torch.autograd.gradcheck(loss_of, [p.detach().clone().requires_grad_() for p in ae.parameters()])


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_contractive_penalty_is_the_squared_frobenius_norm_of_the_encoder_jacobian(activation):
    torch.manual_seed(2)
    cae = ContractiveAutoencoder(9, 5, activation=activation, contraction=1.0, dtype=torch.float64)
    x = torch.randn(4, 9, dtype=torch.float64)
    penalties = cae.jacobian_norm(x).detach()
    for n in range(len(x)):
        jac = torch.autograd.functional.jacobian(lambda v: cae.transform(v[None])[0], x[n])  # (5, 9)
        assert float(penalties[n]) == pytest.approx(float(jac.pow(2).sum()), rel=1e-12)
    # the training objective adds contraction * the batch mean of the penalty
    u = x.sigmoid()
    _, per_example = cae.objective(u)
    penalty = contractive_penalty(cae.encoder_preactivation(u), cae.transform(u), cae.weight, activation)
    assert (cae.training_loss((u, None)) - per_example.mean()).item() == pytest.approx(penalty.mean().item(), rel=1e-10)


def test_kl_sparsity_penalty_matches_scipy_relative_entropy():
    torch.manual_seed(3)
    h = torch.rand(20, 6, dtype=torch.float64)
    rho, rho_hat = 0.05, h.mean(0).numpy()
    expected = (scipy.special.rel_entr(rho, rho_hat) + scipy.special.rel_entr(1 - rho, 1 - rho_hat)).sum()
    assert float(kl_sparsity_penalty(h, rho)) == pytest.approx(expected, rel=1e-12)
    assert float(kl_sparsity_penalty(torch.full((3, 4), 0.05, dtype=torch.float64), 0.05)) == pytest.approx(
        0, abs=1e-15
    )


def test_l1_sparse_autoencoder_is_the_seeds_objective():
    # ||W h - x||^2 + lambda sum |h| with a linear decoder and squared error
    torch.manual_seed(4)
    sae = SparseAutoencoder(8, 3, sparsity="l1", weight=0.25, activation="relu", loss="mse", dtype=torch.float64)
    x = torch.randn(6, 8, dtype=torch.float64)
    w, c, b = sae.weight.detach(), sae.hidden_bias.detach(), sae.visible_bias.detach()
    h = torch.relu(x @ w.T + c)
    expected = ((h @ w + b - x) ** 2).sum(1) + 0.25 * h.abs().sum(1)
    assert sae.training_loss((x, None)).item() == pytest.approx(float(expected.mean()), rel=1e-12)


@pytest.mark.parametrize("tied", [True, False])
def test_linear_autoencoder_spans_the_pca_subspace(tied):
    # Bourlard & Kamp (1988), Baldi & Hornik (1989): the optimum of a linear autoencoder with k codes projects on
    # the first k principal components
    gen = torch.Generator().manual_seed(5)
    scales = torch.tensor([5.0, 4.0, 3.0, 1.0, 0.6, 0.4, 0.3, 0.2], dtype=torch.float64)
    basis, _ = torch.linalg.qr(torch.randn(8, 8, generator=gen, dtype=torch.float64))
    x = (torch.randn(400, 8, generator=gen, dtype=torch.float64) * scales) @ basis.T + 2.0
    torch.manual_seed(6)
    ae = Autoencoder(8, 3, tied=tied, activation="linear", loss="mse", dtype=torch.float64)
    lamina.Trainer(
        ae,
        optimizer={
            "type": "lbfgs",
            "lr": 1,
            "max_iter": 200,
            "tolerance_grad": 1e-12,
            "tolerance_change": 1e-14,
            "line_search_fn": "strong_wolfe",
        },
        epochs=1,
        batch_size=400,
        device="cpu",
    ).fit(ArrayDataset(x))
    components = PCA(n_components=3).fit(x.numpy()).components_.T  # (8, 3)
    angles = scipy.linalg.subspace_angles(ae.decoder_matrix().detach().numpy(), components)
    # untied, the code is defined up to an invertible 3x3 map, a flat direction that slows L-BFGS down
    assert np.max(angles) < (1e-5 if tied else 2e-3)
    # and its error is PCA's: the sum of the discarded eigenvalues (of the biased covariance)
    pca = PCA(n_components=8).fit(x.numpy())
    discarded = pca.explained_variance_[3:].sum() * (len(x) - 1) / len(x)
    assert float(ae.validation_metrics((x, None))["squared_error"]) == pytest.approx(
        discarded, rel=1e-8 if tied else 2e-3
    )


def test_denoising_autoencoder_reconstructs_the_clean_input_from_the_corrupted_one():
    torch.manual_seed(7)
    dae = DenoisingAutoencoder(10, 4, corruption="masking", level=1.0, dtype=torch.float64)
    x = torch.rand(5, 10, dtype=torch.float64)
    # every input masked: the code is f(c) whatever x is, and the target is still the clean x
    h = torch.sigmoid(dae.hidden_bias.detach()).expand(5, 4)
    r_logits = h @ dae.weight.detach() + dae.visible_bias.detach()
    expected = torch.nn.functional.binary_cross_entropy_with_logits(r_logits, x, reduction="none").sum(1).mean()
    assert dae.training_loss((x, None)).item() == pytest.approx(float(expected), rel=1e-12)
    # transform and the validation metrics see the clean input
    clean_logits = (
        torch.sigmoid(x @ dae.weight.detach().T + dae.hidden_bias.detach()) @ dae.weight.detach()
        + dae.visible_bias.detach()
    )
    clean = torch.nn.functional.binary_cross_entropy_with_logits(clean_logits, x, reduction="none").sum(1).mean()
    assert float(dae.validation_metrics((x, None))["loss"]) == pytest.approx(float(clean), rel=1e-12)
    torch.testing.assert_close(dae.reconstruct(x), torch.sigmoid(clean_logits))


def test_training_lowers_the_reconstruction_error_on_digits():
    train = lamina.data.load("digits", flatten=True).train
    torch.manual_seed(8)
    dae = DenoisingAutoencoder(64, 32, corruption="salt_and_pepper", level=0.2)
    trainer = lamina.Trainer(dae, optimizer={"type": "adam", "lr": 3e-3}, epochs=8, batch_size=64, device="cpu")
    before = trainer.evaluate(train)["squared_error"]
    history = trainer.fit(train)
    assert history[-1]["loss"] < history[0]["loss"]
    assert trainer.evaluate(train)["squared_error"] < 0.5 * before


def test_bad_input_is_refused_with_a_message():
    ae = Autoencoder(4, 2, loss="cross_entropy")
    with pytest.raises(
        DataError,
        match=r"cross-entropy reconstruction loss needs inputs in \[0, 1\].*got values in "
        r"\[-1, 2\].*loss = \"mse\"",
    ):
        ae.training_loss((torch.tensor([[-1.0, 0.0, 0.5, 2.0]]), None))
    with pytest.raises(ShapeError, match="expects 4 inputs per example, got 5"):
        ae.transform(torch.rand(3, 5))
    with pytest.raises(ValueError, match="needs sigmoid codes; `activation` is 'relu': use sparsity='l1'"):
        SparseAutoencoder(4, 2, sparsity="kl", activation="relu")
    with pytest.raises(ValueError, match="cross-entropy reconstruction needs a sigmoid decoder"):
        Autoencoder(4, 2, loss="cross_entropy", output_activation="identity")
    with pytest.raises(
        ValueError,
        match=r"Invalid Autoencoder: activation: expected one of .*got 'gelu'; did you "
        r"mean 'relu'\?",
    ):
        Autoencoder(4, 2, activation="gelu")
    with pytest.raises(
        ValueError,
        match=r"Invalid DenoisingAutoencoder: level: expected a fraction of inputs in "
        r"\[0, 1\] for masking corruption, got 1.5",
    ):
        DenoisingAutoencoder(4, 2, level=1.5)
    with pytest.raises(ValueError, match="Invalid Autoencoder: n_hidden: expected an integer >= 1, got 0"):
        Autoencoder(4, 0)
    with pytest.raises(ValueError, match="Invalid SparseAutoencoder: target: expected a number in \\(0, 1\\), got 1.0"):
        SparseAutoencoder(4, 2, target=1)


def test_auto_loss_follows_the_data():
    unit, real = Autoencoder(3, 2, loss="auto"), Autoencoder(3, 2, loss="auto")
    unit.prepare(torch.rand(10, 3))
    real.prepare(torch.randn(10, 3))
    assert (unit.loss, unit.output_activation) == ("cross_entropy", "sigmoid")
    assert (real.loss, real.output_activation) == ("mse", "identity")
