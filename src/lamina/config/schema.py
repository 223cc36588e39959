"""The experiment file's sections as pydantic models: ``[data]``, ``[model]``, ``[pretrain]``, ``[train]``.

Every default's reason is in a comment; ``lamina config show`` prints the resolved file with all of them.
"""

from __future__ import annotations

from pydantic import Field, PrivateAttr, field_validator

from lamina.config.fields import choice, component, count, fail, number
from lamina.config.run_name import run_name
from lamina.config.spec import Section
from lamina.nn.builder import ModelConfig
from lamina.train.callbacks.early_stopping import EarlyStoppingSpec
from lamina.train.hogwild import HogwildSpec

__all__ = ["Experiment", "TrainConfig", "ModelConfig"]


class TrainConfig(Section):
    """The ``[train]`` section: loss, optimizer, schedule, regularisation, stopping, device and logging.

    Args:
        loss: a loss name or table (ignored by models with their own ``training_loss``).
        epochs, batch_size: passes over the data and examples per step.
        seed: seeds weights, shuffling and dropout; the same seed gives the same weights on the CPU.
        optimizer, schedule: by name or table (``{ type = "sgd", lr = 0.1, momentum = 0.9 }``).
        early_stopping: ``{ monitor = "val_loss", patience = 5 }``.
        metrics: logged beside the loss (default: those that suit the loss).
        callbacks: further callbacks by name.
        grad_clip: clip the gradients' global L2 norm.
        l1, l2: weight penalties (``l1 * sum|w| + (l2/2) * sum w^2`` over weights, not biases).
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        precision, compile: mixed precision (torch.amp) and ``torch.compile``.
        log_every: steps between per-step lines in ``metrics.jsonl`` and progress updates.
        checkpoint_every: epochs between checkpoints (``last.pt``; ``best.pt`` whenever the monitored metric improves).
        checkpoint_every_steps: also write ``last.pt`` inside an epoch every this many optimizer steps (default: off).
        checkpoint_every_minutes: also write ``last.pt`` inside an epoch once this many minutes have passed since the
            last checkpoint, so an interrupted long epoch loses at most that much (default 10; ``0`` turns it off).
            A run resumed from such a checkpoint continues bit for bit (same order, same dropout masks).
        tensorboard: also write TensorBoard event files into the run folder.
        hogwild: ``{ workers = 2 }``: train with Hogwild! lock-free SGD in that many CPU processes sharing the
            parameters (Recht et al., 2011; :mod:`lamina.train.hogwild`); needs ``optimizer = "sgd"``.
    """

    loss: component("loss") = Field("cross_entropy", validate_default=True)
    epochs: count() = 10
    batch_size: count() = 128
    seed: count(0) | None = 0  # a fixed default: runs are reproducible unless asked otherwise
    optimizer: component("optimizer") = Field("adam", validate_default=True)  # robust without tuning
    schedule: component("schedule") | None = None
    early_stopping: EarlyStoppingSpec | None = None
    metrics: list[component("metric")] | None = None
    callbacks: list[component("callback")] = []
    grad_clip: number(0, lo_open=True) | None = None
    l1: number(0) = 0.0
    l2: number(0) = 0.0
    device: str = "auto"
    precision: choice("fp32", "bf16", "fp16") = "fp32"
    compile: bool = False
    eval_batch_size: count() | None = None
    log_every: count() = 50
    checkpoint_every: count() = 1
    checkpoint_every_steps: count() | None = None
    checkpoint_every_minutes: number(0) = 10.0  # an interrupt loses at most ten minutes of a long epoch
    tensorboard: bool = False
    hogwild: HogwildSpec | None = None  # off: one process trains

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        head, _, index = value.partition(":")
        if head not in ("auto", "cpu", "cuda", "mps") or (index and (head != "cuda" or not index.isdigit())):
            raise fail(f"expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {value!r}")
        return value


class Experiment(Section):
    """A whole experiment: what data, which network, how to pretrain it and how to train it.

    Args:
        name: names the run folder (default: the file's name): 1 to 100 letters, digits, ``.``, ``_`` or ``-``,
            starting with a letter, a digit or ``_``.
        description: free text for the report.
        data: ``[data]``: a registered dataset (``name = "mnist"``) and its options.
        model: ``[model]``: the network.
        pretrain: ``[pretrain]``: optional greedy layer-wise pretraining (``method = "rbm"``).
        train: ``[train]``: supervised training.
    """

    _source: str | None = PrivateAttr(default=None)  # the file it was read from

    name: run_name = None
    description: str = ""
    data: component("dataset")
    model: ModelConfig
    pretrain: component("pretrain") | None = None
    train: TrainConfig = Field(default_factory=TrainConfig)
