"""Deep belief nets: the up-down surrogate against Hinton et al.'s delta rules computed by hand, greedy pretraining,
generative classification, generation with clamped labels, conversion for backprop, and stack mismatches."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import lamina
from lamina.data import ArrayDataset
from lamina.errors import ConfigError, DataError, ShapeError
from lamina.generative import DBN, BernoulliRBM
from lamina.train import Trainer


def _sig(a):
    return 1 / (1 + np.exp(-a))


def _rand(g, shape):
    return torch.rand(shape, generator=g, dtype=torch.float64).numpy()


def test_up_down_gradients_are_hintons_wake_sleep_and_cd_rules():
    torch.manual_seed(0)
    dbn = DBN([6, 5, 4, 3], n_labels=2, k=1).double()
    with torch.no_grad():
        for p in dbn.parameters():
            p.normal_(0, 0.5)
    x = (torch.rand(8, 6, dtype=torch.float64) < 0.5).double()
    y = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])
    dbn.generator = torch.Generator().manual_seed(11)
    dbn.training_loss((x, y)).backward()

    g = torch.Generator().manual_seed(11)
    (r0, rb0), (r1, rb1) = [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in dbn.recognition]
    (g0, gb0), (g1, gb1) = [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in dbn.generative]
    w, b, c = (
        dbn.top.weight.detach().numpy(),
        dbn.top.visible_bias.detach().numpy(),
        dbn.top.hidden_bias.detach().numpy(),
    )
    n = 8
    # wake (up) pass with sampled states
    s0 = x.numpy()
    s1 = (_rand(g, (n, 5)) < _sig(s0 @ r0.T + rb0)).astype(float)
    s2 = (_rand(g, (n, 4)) < _sig(s1 @ r1.T + rb1)).astype(float)
    # one Gibbs step in the top RBM on [pen, label]
    v_pos = np.concatenate([s2, np.eye(2)[y.numpy()]], 1)
    h_pos = _sig(v_pos @ w.T + c)
    h = (_rand(g, (n, 3)) < h_pos).astype(float)
    logits = h @ w + b
    pen = (_rand(g, (n, 4)) < _sig(logits[:, :4])).astype(float)
    label_p = np.exp(logits[:, 4:]) / np.exp(logits[:, 4:]).sum(1, keepdims=True)
    u = _rand(g, (n, 1))
    label = np.eye(2)[(np.cumsum(label_p, 1) < u).sum(1)]
    v_neg = np.concatenate([pen, label], 1)
    h_neg = _sig(v_neg @ w.T + c)
    # sleep (down) pass
    t1 = (_rand(g, (n, 5)) < _sig(pen @ g1.T + gb1)).astype(float)
    t0 = _sig(t1 @ g0.T + gb0)

    updates = {  # Hinton, Osindero & Teh (2006), appendix B, with the learning rate left out
        "top.weight": (h_pos.T @ v_pos - h_neg.T @ v_neg) / n,
        "top.visible_bias": (v_pos - v_neg).mean(0),
        "top.hidden_bias": (h_pos - h_neg).mean(0),
        "generative.0.weight": (s0 - _sig(s1 @ g0.T + gb0)).T @ s1 / n,
        "generative.0.bias": (s0 - _sig(s1 @ g0.T + gb0)).mean(0),
        "generative.1.weight": (s1 - _sig(s2 @ g1.T + gb1)).T @ s2 / n,
        "generative.1.bias": (s1 - _sig(s2 @ g1.T + gb1)).mean(0),
        "recognition.0.weight": (t1 - _sig(t0 @ r0.T + rb0)).T @ t0 / n,
        "recognition.0.bias": (t1 - _sig(t0 @ r0.T + rb0)).mean(0),
        "recognition.1.weight": (pen - _sig(t1 @ r1.T + rb1)).T @ t1 / n,
        "recognition.1.bias": (pen - _sig(t1 @ r1.T + rb1)).mean(0),
    }
    params = dict(dbn.named_parameters())
    assert set(params) == set(updates)
    for name, update in updates.items():
        np.testing.assert_allclose(params[name].grad.numpy(), -update, atol=1e-12, err_msg=name)


@pytest.fixture(scope="module")
def trained(request):
    splits = lamina.data.load("digits", scale="unit", flatten=True)
    torch.manual_seed(0)
    dbn = DBN([64, 48, 48, 96], n_labels=10)
    records = dbn.pretrain(
        splits.train.x,
        splits.train.targets,
        device="cpu",
        seed=0,
        method={"method": "rbm", "epochs": 6, "batch_size": 32, "monitor_examples": 200, "momentum_switch_epoch": 1},
    )
    return dbn, records, splits


def test_greedy_pretraining_gives_a_generative_classifier(trained):
    dbn, records, splits = trained
    assert [type(r.module).__name__ for r in records] == ["BernoulliRBM"] * 3
    assert records[-1].module.softmax_units == 10 and "recon_error" in records[0].history[-1]
    # the net is tied to the RBMs it was built from
    torch.testing.assert_close(dbn.generative[0].weight, records[0].module.weight.t())
    accuracy = (dbn.predict(splits.test.x) == splits.test.targets).float().mean().item()
    assert accuracy > 0.8, accuracy


def test_up_down_fine_tuning_runs_in_the_trainer_and_keeps_the_classifier(trained):
    dbn, _, splits = trained
    dbn = copy.deepcopy(dbn)
    before = (dbn.predict(splits.test.x) != splits.test.targets).float().mean().item()
    trainer = Trainer(dbn, optimizer={"type": "sgd", "lr": 0.005}, epochs=2, batch_size=32, device="cpu", seed=0)
    history = trainer.fit(
        ArrayDataset(splits.train.x, splits.train.targets), ArrayDataset(splits.test.x, splits.test.targets)
    )
    assert history[-1]["val_error"] <= before + 0.03 and np.isfinite(history[-1]["val_recon_error"])


def test_samples_with_clamped_labels_are_recognised_as_those_labels(trained):
    dbn, _, _ = trained
    labels = torch.arange(10).repeat(10)
    samples = dbn.sample(100, 300, labels=labels, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (100, 64) and 0 <= samples.min() and samples.max() <= 1
    agreement = (dbn.predict(samples) == labels).float().mean().item()
    assert agreement > 0.3, agreement  # chance: 0.1


def test_to_classifier_computes_the_up_pass_and_fine_tunes_by_backprop(trained):
    dbn, _, splits = trained
    net = dbn.to_classifier(10)
    hidden = net[:-1](splits.test.x)
    pen = dbn.up(splits.test.x)
    torch.testing.assert_close(hidden, torch.sigmoid(pen @ dbn.top.weight[:, :48].t() + dbn.top.hidden_bias))
    trainer = Trainer(
        net, optimizer={"type": "sgd", "lr": 0.1, "momentum": 0.9}, epochs=4, batch_size=32, device="cpu", seed=0
    )
    trainer.fit(splits.train)
    assert trainer.evaluate(splits.test)["accuracy"] > 0.93


def test_stack_mismatches_and_missing_labels_are_explained():
    dbn = DBN([6, 5, 4])
    with pytest.raises(
        ShapeError, match="RBM 1 of the stack has 6 visible units but RBM 0 below it has 5 hidden units"
    ):
        dbn.load_rbms([BernoulliRBM(6, 5), BernoulliRBM(6, 4)])
    with pytest.raises(
        ShapeError,
        match=r"a DBN of sizes \[6, 5, 4\] needs 2 RBMs of those sizes, got RBMs of sizes "
        r"\[6, 5, 3\]",
    ):
        dbn.load_rbms([BernoulliRBM(6, 5), BernoulliRBM(5, 3)])
    labelled = DBN([6, 5, 4], n_labels=3)
    with pytest.raises(DataError, match="this DBN has 3 label units: give the labels y"):
        labelled.training_loss((torch.rand(2, 6), None))
    with pytest.raises(DataError, match=r"labels must be 2 class indices in \[0, 3\)"):
        labelled.training_loss((torch.rand(2, 6), torch.tensor([0, 3])))
    with pytest.raises(ConfigError, match="a DBN of binary units is pretrained with method 'rbm', got 'gaussian_rbm'"):
        labelled.pretrain(torch.rand(4, 6), torch.tensor([0, 1, 2, 0]), method="gaussian_rbm")
    with pytest.raises(ValueError, match="`sizes` must be at least two positive layer sizes"):
        DBN([6])
