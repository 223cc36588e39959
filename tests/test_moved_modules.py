"""The modules' old paths (before the layout by family, issue 25) stay importable for one release, through
``lamina._moved``: the same module object as at the new path, with a DeprecationWarning that names the new path."""

from __future__ import annotations

import importlib
import importlib.machinery
import pickle
import subprocess
import sys
import warnings

import pytest

import lamina
from lamina._moved import MOVED


def _forget(monkeypatch: pytest.MonkeyPatch, old: str) -> None:
    """Make ``old`` unimported again (the alias caches itself in ``sys.modules`` and on its package)."""
    parent, _, name = old.rpartition(".")
    importlib.import_module(parent)  # the package itself, whatever this file's tests ran before
    monkeypatch.delitem(sys.modules, old, raising=False)
    if name in vars(sys.modules[parent]):
        monkeypatch.delattr(sys.modules[parent], name)


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_path_imports_the_new_module_with_a_warning(monkeypatch, old):
    new = importlib.import_module(MOVED[old])
    _forget(monkeypatch, old)
    with pytest.warns(DeprecationWarning, match=f"{old} has moved to {MOVED[old]};"):
        module = importlib.import_module(old)
    assert module is new
    assert new.__name__ == new.__spec__.name == MOVED[old]  # the alias leaves the module's own identity alone
    assert getattr(sys.modules[old.rpartition(".")[0]], old.rpartition(".")[2]) is new


@pytest.mark.parametrize("old", sorted(MOVED))
def test_no_file_is_left_at_an_old_path(old):
    parent, _, name = old.rpartition(".")
    assert importlib.machinery.PathFinder.find_spec(old, importlib.import_module(parent).__path__) is None, (
        f"{old} exists as a file again: delete it or take it out of lamina._moved.MOVED"
    )


def test_the_import_statement_forms_and_the_warning_points_at_the_importer(monkeypatch):
    for old in ("lamina.multi_label", "lamina.generative.rbm_pretrain", "lamina.train.metrics"):
        _forget(monkeypatch, old)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from lamina import multi_label  # noqa: F401  (the old top-level module)
        from lamina.generative.rbm_pretrain import RBMPretrainSpec
        from lamina.train import metrics
    assert [str(w.message).split(" has moved")[0] for w in caught] == [
        "lamina.multi_label",
        "lamina.generative.rbm_pretrain",
        "lamina.train.metrics",
    ]
    assert {w.filename for w in caught} == {__file__}, "stacklevel must name the importing file"
    assert RBMPretrainSpec is lamina.generative.RBMPretrainSpec
    assert metrics.Metric is lamina.metrics.Metric


def test_an_old_attribute_of_a_package_loads_the_module(monkeypatch):
    _forget(monkeypatch, "lamina.generative.greedy")
    with pytest.warns(DeprecationWarning, match="lamina.pretrain.greedy"):
        assert lamina.generative.greedy.pretrain_layerwise is lamina.pretrain.pretrain_layerwise
    with pytest.raises(AttributeError, match="'lamina.generative' has no attribute 'no_such_module'"):
        lamina.generative.no_such_module  # noqa: B018


def test_the_new_paths_import_without_a_warning():
    code = "import lamina, lamina.losses.multi_task, lamina.metrics.forecasting, lamina.generative.rbm.linear"
    out = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr


def test_a_pickle_that_names_an_old_module_loads(monkeypatch):
    # what a scikit-learn estimator pickled before the move names: the class by its module's old path (protocol 0)
    _forget(monkeypatch, "lamina.generative.autoencoder")
    with pytest.warns(DeprecationWarning, match="lamina.generative.autoencoders.autoencoder"):
        cls = pickle.loads(b"clamina.generative.autoencoder\nAutoencoder\n.")
    assert cls is lamina.generative.Autoencoder
