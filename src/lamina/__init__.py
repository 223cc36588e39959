"""lamina: the deep-learning canon on PyTorch.

Define a network in Python or in a TOML experiment file, train it with the classic optimizers and regularizers,
pretrain it greedily with RBMs or autoencoders, and reproduce the classic papers' results::

    import lamina
    exp = lamina.load_experiment("examples/digits_mlp.toml", overrides=["train.epochs=5"])
    run = lamina.train(exp)
    run.evaluate("test")

Every name below is imported on first use (PEP 562), so ``import lamina`` and the ``lamina`` command's ``--help``
load neither torch nor pydantic; the registry imports lamina's component modules on its first lookup.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import TYPE_CHECKING, Any

from lamina import _moved
from lamina._version import __version__
from lamina.registry import register, registry, resolve  # light: the names' table, filled on first lookup

_moved.install()  # the modules' old paths, importable for one release with a DeprecationWarning

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from lamina import (
        data,
        diagnostics,
        export,
        generative,
        losses,
        memory,
        metrics,
        nn,
        optim,
        pretrain,
        timeseries,
        zoo,
    )
    from lamina.config.loader import load_experiment, parse_experiment, to_toml
    from lamina.config.schema import Experiment, TrainConfig
    from lamina.errors import (
        CheckpointError,
        ConfigError,
        DataError,
        ExportError,
        LaminaError,
        ShapeError,
        TrainingDivergedError,
    )
    from lamina.nn.builder import ModelConfig, build_model
    from lamina.nn.summary import format_summary, summarize
    from lamina.report.drawing import draw
    from lamina.train.callbacks import Callback, EarlyStopping
    from lamina.train.experiment import train
    from lamina.train.history import History
    from lamina.train.runs import Run
    from lamina.train.trainer import Trainer

# name -> the module defining it; a name equal to its module's last part is that module (a subpackage)
_LAZY = {
    "data": "lamina.data",
    "diagnostics": "lamina.diagnostics",
    "export": "lamina.export",
    "generative": "lamina.generative",
    "losses": "lamina.losses",
    "memory": "lamina.memory",
    "metrics": "lamina.metrics",
    "nn": "lamina.nn",
    "optim": "lamina.optim",
    "pretrain": "lamina.pretrain",
    "timeseries": "lamina.timeseries",
    "zoo": "lamina.zoo",
    "load_experiment": "lamina.config.loader",
    "parse_experiment": "lamina.config.loader",
    "to_toml": "lamina.config.loader",
    "Experiment": "lamina.config.schema",
    "TrainConfig": "lamina.config.schema",
    "CheckpointError": "lamina.errors",
    "ConfigError": "lamina.errors",
    "DataError": "lamina.errors",
    "ExportError": "lamina.errors",
    "LaminaError": "lamina.errors",
    "ShapeError": "lamina.errors",
    "TrainingDivergedError": "lamina.errors",
    "ModelConfig": "lamina.nn.builder",
    "build_model": "lamina.nn.builder",
    "format_summary": "lamina.nn.summary",
    "summarize": "lamina.nn.summary",
    "draw": "lamina.report.drawing",
    "Callback": "lamina.train.callbacks",
    "EarlyStopping": "lamina.train.callbacks",
    "train": "lamina.train.experiment",
    "History": "lamina.train.history",
    "Run": "lamina.train.runs",
    "Trainer": "lamina.train.trainer",
}

__all__ = [
    "Callback",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "EarlyStopping",
    "Experiment",
    "ExportError",
    "History",
    "LaminaError",
    "ModelConfig",
    "Run",
    "ShapeError",
    "TrainConfig",
    "Trainer",
    "TrainingDivergedError",
    "__version__",
    "build_model",
    "data",
    "diagnostics",
    "draw",
    "export",
    "format_summary",
    "generative",
    "load_experiment",
    "losses",
    "memory",
    "metrics",
    "nn",
    "optim",
    "parse_experiment",
    "pretrain",
    "register",
    "registry",
    "resolve",
    "summarize",
    "timeseries",
    "to_toml",
    "train",
    "zoo",
]


def __getattr__(name: str) -> Any:
    """The name from the module that defines it, imported now (PEP 562); any other submodule of lamina too
    (``lamina.sklearn``), as an eager ``import lamina`` used to leave them all as attributes."""
    module = _LAZY.get(name)
    if f"{__name__}.{name}" in _moved.MOVED:  # lamina.multi_label, lamina.multi_task for one release
        return _moved.moved_attribute(__name__, name)
    if module is not None:
        value = importlib.import_module(module)
        if module.rpartition(".")[2] != name:
            value = getattr(value, name)
    elif not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name != "train":  # lamina.train stays the function: see _Root
        globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names (:data:`__all__`), whether imported yet or not."""
    return list(__all__)


class _Root(types.ModuleType):
    """The package's module type: ``lamina.train`` is the function :func:`lamina.train.experiment.train`, even
    after the subpackage ``lamina.train`` is imported (the import system then sets the package's attribute of the
    same name, which an eager ``from lamina.train.experiment import train`` used to overwrite)."""

    @property
    def train(self) -> Any:
        """The training function :func:`lamina.train.experiment.train`, imported on first use."""
        return importlib.import_module(_LAZY["train"]).train

    @train.setter
    def train(self, value: Any) -> None:
        """Refuse replacing the function (the import system's binding of the subpackage is let through)."""
        if not isinstance(value, types.ModuleType):  # the subpackage is reached through sys.modules, never here
            raise AttributeError("lamina.train is the training function; it cannot be replaced")


sys.modules[__name__].__class__ = _Root
