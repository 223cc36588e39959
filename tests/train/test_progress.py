"""The console's progress: ``Trainer.fit`` prints Keras's per-epoch lines (``verbose``), the same printer as
``lamina train``; ``log_every`` thins the lines of many short epochs; long epochs show progress within them."""

from __future__ import annotations

import io
import re

import pytest
import torch
from torch import nn

import lamina
from lamina.data import ArrayDataset
from lamina.sklearn import MLPClassifier
from lamina.train import EarlyStopping, Trainer
from lamina.train.callbacks import ProgressPrinter

LINE = re.compile(r"^epoch (\d+)/(\d+)  (.*)  (\d+\.\d)s  ([\d,]+) samples/s$")


def _data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    return ArrayDataset(x, (x[:, 0] > 0).long())


def _trainer(**options):
    torch.manual_seed(0)
    return Trainer(nn.Linear(4, 2), optimizer={"type": "sgd", "lr": 0.1}, **options)


def _epoch_lines(text):
    return [LINE.match(line) for line in text.splitlines() if LINE.match(line)]


def test_fit_prints_one_line_per_epoch_with_the_logged_values_by_default(capsys):
    trainer = _trainer(epochs=3, batch_size=16)
    history = trainer.fit(_data(), _data(32, seed=1))
    lines = _epoch_lines(capsys.readouterr().out)
    assert [(int(m[1]), int(m[2])) for m in lines] == [(1, 3), (2, 3), (3, 3)]
    for match, logs in zip(lines, history):  # the values are those in the history, 4 significant digits
        expected = "  ".join(f"{k} {logs[k]:.4g}" for k in ("loss", "accuracy", "val_loss", "val_accuracy"))
        assert match[3] == expected


def test_verbose_0_prints_nothing_and_2_prints_the_epoch_lines_only(capsys):
    _trainer(epochs=2, batch_size=16, verbose=0).fit(_data())
    assert capsys.readouterr().out == ""
    printer = ProgressPrinter(2, bar_after=0.0, interval=0.0)
    _trainer(epochs=2, batch_size=4, callbacks=[printer]).fit(_data())  # a printer given replaces the trainer's
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(LINE.match(line) for line in out)
    with pytest.raises(ValueError, match="`verbose` must be 0"):
        _trainer(verbose=3)


def test_log_every_thins_many_short_epochs_and_keeps_the_first_last_and_stopping_epoch(capsys):
    _trainer(epochs=12, batch_size=64, log_every=4).fit(_data())  # one step per epoch
    assert [int(m[1]) for m in _epoch_lines(capsys.readouterr().out)] == [1, 4, 8, 12]
    _trainer(epochs=12, batch_size=32, log_every=5).fit(_data())  # two steps per epoch: every 2nd epoch
    assert [int(m[1]) for m in _epoch_lines(capsys.readouterr().out)] == [1, 2, 4, 6, 8, 10, 12]
    stopper = EarlyStopping("loss", patience=1, min_delta=10.0)  # stops after epoch 2, which was thinned out
    _trainer(epochs=12, batch_size=64, log_every=4, callbacks=[stopper]).fit(_data())
    assert [int(m[1]) for m in _epoch_lines(capsys.readouterr().out)] == [1, 2]


def test_a_long_epoch_shows_progress_within_it(capsys):
    plain = ProgressPrinter(1, bar=False, bar_after=0.0, interval=0.0)
    _trainer(epochs=1, batch_size=2, callbacks=[plain]).fit(_data(40))  # 20 steps: lines at steps 10 and 20
    out = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[1] for line in out[:2]] == ["step 10/20", "step 20/20"] and LINE.match(out[2])
    bar = ProgressPrinter(1, bar=True, bar_after=0.0)
    _trainer(epochs=2, batch_size=2, callbacks=[bar]).fit(_data(40))
    assert bar._live is None  # started within each epoch, stopped at its end
    assert len(_epoch_lines(capsys.readouterr().out)) == 2


def test_lamina_train_prints_the_same_lines_thinned_by_log_every(tmp_path, capsys):
    exp = lamina.parse_experiment(
        {
            "name": "thin",
            "data": {"name": "digits"},
            "model": {"layers": [{"type": "flatten"}, {"type": "dense", "units": 10}]},
            "train": {"epochs": 6, "batch_size": 2048, "log_every": 3, "optimizer": "adam"},  # one step per epoch
        }
    )
    run = lamina.train(exp, out=tmp_path, progress="plain")
    lines = _epoch_lines(capsys.readouterr().out)
    assert [int(m[1]) for m in lines] == [1, 3, 6]
    assert lines[-1][3] == "  ".join(f"{k} {run.history[-1][k]:.4g}" for k in ("loss", "accuracy"))
    lamina.train(exp, out=tmp_path, progress="none")
    assert capsys.readouterr().out == ""


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # three epochs: not converged
def test_estimators_keep_their_trainer_silent(capsys):
    x = torch.randn(40, 4, generator=torch.Generator().manual_seed(0))
    MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(x.numpy(), (x[:, 0] > 0).long().numpy())
    assert capsys.readouterr().out == ""


def test_stream_receives_the_lines():
    stream = io.StringIO()
    _trainer(epochs=2, batch_size=32, callbacks=[ProgressPrinter(2, stream=stream)]).fit(_data())
    assert len(_epoch_lines(stream.getvalue())) == 2
