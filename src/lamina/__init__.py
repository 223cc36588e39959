"""lamina: the deep-learning canon on PyTorch.

Define a network in Python or in a TOML experiment file, train it with the classic optimizers and regularizers,
pretrain it greedily with RBMs or autoencoders, and reproduce the classic papers' results::

    import lamina
    exp = lamina.load_experiment("examples/digits_mlp.toml", overrides=["train.epochs=5"])
    run = lamina.train(exp)
    run.evaluate("test")
"""

from typing import TYPE_CHECKING

from lamina._version import __version__
from lamina import _moved

_moved.install()  # the modules' old paths, importable for one release with a DeprecationWarning

from lamina import data, losses, metrics, nn, optim  # noqa: E402  (registers layers, datasets, losses, metrics, optimizers)
from lamina import diagnostics, generative, memory, pretrain, timeseries  # noqa: E402,F401  (register their components)
from lamina import export  # noqa: E402  (ONNX, safetensors, TorchScript, torch.export; imports its backends lazily)
from lamina.config.loader import load_experiment, parse_experiment, to_toml  # noqa: E402
from lamina.config.schema import Experiment, TrainConfig  # noqa: E402
from lamina.errors import (  # noqa: E402
    CheckpointError,
    ConfigError,
    DataError,
    ExportError,
    LaminaError,
    ShapeError,
    TrainingDivergedError,
)
from lamina.nn.builder import ModelConfig, build_model  # noqa: E402
from lamina.nn.summary import format_summary, summarize  # noqa: E402
from lamina.registry import register, registry, resolve  # noqa: E402
from lamina.train.callbacks import Callback, EarlyStopping  # noqa: E402
from lamina.train.experiment import train  # noqa: E402
from lamina.train.history import History  # noqa: E402
from lamina.train.runs import Run  # noqa: E402
from lamina.train.trainer import Trainer  # noqa: E402

if not TYPE_CHECKING:  # lamina.multi_label, lamina.multi_task for one release (lamina._moved)

    def __getattr__(name: str):
        return _moved.moved_attribute(__name__, name)


__all__ = [
    "Callback",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "EarlyStopping",
    "ExportError",
    "Experiment",
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
    "export",
    "generative",
    "memory",
    "metrics",
    "timeseries",
    "format_summary",
    "load_experiment",
    "losses",
    "nn",
    "optim",
    "pretrain",
    "parse_experiment",
    "register",
    "registry",
    "resolve",
    "summarize",
    "to_toml",
    "train",
]
