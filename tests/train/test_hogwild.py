"""Hogwild! (Recht et al. 2011): one worker is plain SGD bit for bit, the workers really share the parameters, and
every example is used once per epoch. The first test runs the default ``spawn`` start method (one worker: a fresh
interpreter that imports torch); the others ``fork`` their two workers, which costs milliseconds."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import lamina
from lamina.config.loader import parse_experiment
from lamina.data import ArrayDataset
from lamina.errors import ConfigError
from lamina.train import Callback, Trainer
from lamina.train.hogwild import HogwildTrainer, worker_index


def _data(n: int = 96) -> ArrayDataset:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, 5, generator=g)
    return ArrayDataset(x, (x[:, 0] > x[:, 1]).long())


def _mlp() -> nn.Module:
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2))


def test_one_worker_is_plain_sgd_bit_for_bit():
    opt = {"type": "sgd", "lr": 0.1, "momentum": 0.9}
    plain, hog = _mlp(), _mlp()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the worker runs one thread: the same reductions in the same order
    try:
        Trainer(plain, optimizer=opt, epochs=3, batch_size=10, seed=5, verbose=0).fit(_data())
    finally:
        torch.set_num_threads(threads)
    trainer = HogwildTrainer(hog, hogwild={"workers": 1}, optimizer=opt, epochs=3, batch_size=10, seed=5, verbose=0)
    history = trainer.fit(_data())
    for (name, a), b in zip(plain.state_dict().items(), hog.state_dict().values()):
        assert torch.equal(a, b), name
    assert trainer.step == 3 * 10 and len(history) == 3


class _SharedProbe(nn.Module):
    """Worker 0 adds 2.5 to ``w`` and signals; worker 1 waits for the signal and records the ``w`` it reads."""

    def __init__(self, event) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.register_buffer("seen", torch.full((1,), -1.0))
        self.event = event

    def training_loss(self, batch):
        if worker_index() == 0:
            with torch.no_grad():
                self.w.add_(2.5)
            self.event.set()
        elif self.event.wait(timeout=60):
            with torch.no_grad():
                self.seen.copy_(self.w)
        return (self.w * 0.0).sum()  # a zero gradient: SGD leaves w as the workers wrote it


def test_a_write_in_one_worker_is_read_in_another():
    event = torch.multiprocessing.get_context("fork").Event()
    model = _SharedProbe(event)
    data = ArrayDataset(torch.zeros(2, 1), None)  # one batch of one example per worker
    HogwildTrainer(model, hogwild={"workers": 2, "start_method": "fork"}, optimizer={"type": "sgd", "lr": 0.1},
                   epochs=1, batch_size=1,
                   verbose=0).fit(data)  # fmt: skip
    assert model.w.item() == 2.5  # worker 0's write reached the parent
    assert model.seen.item() == 2.5  # and worker 1, which read it after worker 0's signal


class _Counter(nn.Module):
    """Counts, per worker, how often each example (its input is its index) is used."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.register_buffer("counts", torch.zeros(2, n))

    def training_loss(self, batch):
        x, _ = batch
        with torch.no_grad():
            self.counts[worker_index()].index_add_(0, x[:, 0].long(), torch.ones(len(x)))
        return (self.w**2).sum()


def test_two_workers_use_every_example_once_per_epoch():
    n = 37
    model = _Counter(n)
    data = ArrayDataset(torch.arange(n, dtype=torch.float32)[:, None], None)
    fork = {"workers": 2, "start_method": "fork"}
    trainer = HogwildTrainer(model, hogwild=fork, optimizer={"type": "sgd", "lr": 0.1}, epochs=2,
                             batch_size=4, seed=0, verbose=0)  # fmt: skip
    trainer.fit(data)
    assert torch.equal(model.counts.sum(0), torch.full((n,), 2.0))  # two epochs: each example twice
    assert (model.counts.sum(1) > 0).all()  # both workers trained
    assert trainer.step == 2 * (5 + 5)  # shards of 19 and 18 examples, 5 batches of 4 each


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"device": "cuda"}, "train.device.*expected 'cpu'"),
        ({"optimizer": "adam"}, "lock-free SGD.*Adam"),
        ({"optimizer": "lbfgs"}, "closure"),
        ({"grad_clip": 1.0}, "train.grad_clip"),
        ({"l2": 0.1}, "weight_decay"),
    ],
)
def test_refused_settings_name_the_field(kwargs, match):
    base = {"optimizer": {"type": "sgd", "lr": 0.1}, "verbose": 0}
    with pytest.raises(ConfigError, match=match):
        HogwildTrainer(_mlp(), **{**base, **kwargs})


def test_worker_count_is_validated():
    with pytest.raises(Exception, match="workers"):
        HogwildTrainer(_mlp(), hogwild={"workers": 0}, optimizer="sgd", verbose=0)


RAW = {
    "name": "hogwild",
    "data": {"name": "digits", "validation": 0.1},
    "model": {"layers": [{"type": "flatten"}, {"type": "dense", "units": 10}]},
    "train": {
        "epochs": 2,
        "batch_size": 64,
        "seed": 0,
        "optimizer": {"type": "sgd", "lr": 0.05, "momentum": 0.9},
        "hogwild": {"workers": 1, "start_method": "fork"},
    },
}


def test_experiment_file_run_resumes_at_an_epoch_boundary_bit_for_bit(tmp_path):
    whole = lamina.train(parse_experiment(RAW), out=tmp_path / "whole", progress="none")
    assert whole.summary["status"] == "completed" and "val_accuracy" in whole.history[-1]
    one_epoch = {**RAW, "train": {**RAW["train"], "epochs": 1}}
    first = lamina.train(parse_experiment(one_epoch), out=tmp_path / "split", progress="none")
    assert len(first.history) == 1
    resumed = lamina.train(resume=first.dir, overrides=["train.epochs=2"], progress="none")
    assert len(resumed.history) == 2
    for (name, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name  # the worker's momentum buffers came back from the checkpoint


class _Failing(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def training_loss(self, batch):
        if worker_index() == 1:
            raise ValueError("boom in the worker")
        return (self.w**2).sum()


def test_a_failing_worker_is_reported_with_its_traceback():
    trainer = HogwildTrainer(_Failing(), hogwild={"workers": 2, "start_method": "fork"}, optimizer="sgd", epochs=1,
                             batch_size=2, verbose=0)  # fmt: skip
    with pytest.raises(RuntimeError, match=r"(?s)worker 1:.*ValueError: boom in the worker"):
        trainer.fit(ArrayDataset(torch.zeros(4, 1), None))
    assert trainer._pool == []  # the workers were stopped


class _PerStep(Callback):
    def on_batch_end(self, trainer, step, loss):
        pass


def test_a_callback_with_batch_hooks_is_warned_about():
    fork = {"workers": 1, "start_method": "fork"}
    trainer = HogwildTrainer(_mlp(), hogwild=fork, optimizer="sgd", epochs=1, callbacks=[_PerStep()], verbose=0)
    with pytest.warns(UserWarning, match="on_batch_end of _PerStep is never called"):
        trainer.fit(_data())
