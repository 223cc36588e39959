"""The GAN experiment file: ``[data]`` (a registered dataset), ``[gan]`` (the latent size and the two layer lists)
and ``[train]`` (:class:`~lamina.generative.adversarial.trainer.GANTrainer`'s options, derived from its signature),
and :func:`train_gan`, which runs one in a folder it can resume from (``examples/mnist_dcgan.toml``).

``lamina train`` runs supervised and pretraining experiments; a GAN file is run by :func:`train_gan` (or
``python -m benchmarks.gan_mnist``, which adds the sample-quality scores).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import tomllib
from pydantic import ValidationError

from lamina import files, jsonio
from lamina.config.component import spec_base
from lamina.config.fields import component, count
from lamina.config.problems import problems_from
from lamina.config.spec import Section, Spec
from lamina.errors import ConfigError
from lamina.generative.adversarial.model import GAN, build_gan
from lamina.generative.adversarial.trainer import GANTrainer
from lamina.train.callbacks.base import Callback
from lamina.train.rng import seeded

__all__ = [
    "GANExperiment",
    "GANSection",
    "GANTrainSection",
    "Budget",
    "gan_skeleton",
    "is_gan_file",
    "load_gan_experiment",
    "train_gan",
]


class GANSection(Section):
    """``[gan]``: the generator and the discriminator as layer lists.

    Args:
        latent_dim: the size of the latent vector ``z ~ N(0, I)``, the generator's input.
        generator: layers mapping ``(latent_dim,)`` to one example of the data's shape.
        discriminator: layers mapping one example to one score (end with ``{ type = "dense", units = 1 }``).
    """

    latent_dim: count(1) = 64
    generator: list[component("layer")]
    discriminator: list[component("layer")]


class GANTrainSection(
    spec_base(  # type: ignore[misc]  # a base made by spec_base
        GANTrainer,
        Spec,
        exclude=("gan", "generator_optimizer", "discriminator_optimizer", "device", "callbacks", "verbose"),
    )
):
    """``[train]`` of a GAN file: :class:`GANTrainer`'s options with its defaults and bounds, the two optimizers as
    tables (``{ type = "adam", lr = 2e-4, betas = [0.5, 0.999] }``; omitted: DCGAN's Adam) and how often to
    checkpoint inside an epoch."""

    generator_optimizer: component("optimizer") | None = None
    discriminator_optimizer: component("optimizer") | None = None
    checkpoint_every_steps: count(1) | None = None

    def trainer(self, gan: GAN, **extra: Any) -> GANTrainer:
        """The :class:`GANTrainer` these options describe (``extra``: ``device``, ``callbacks``, ``verbose``)."""
        return GANTrainer(gan, **self.options(), **extra)  # the optimizer tables arrive as their `build`


class GANExperiment(Section):
    """A whole GAN experiment file: ``name``, ``description``, ``[data]``, ``[gan]``, ``[train]``."""

    name: str
    description: str = ""
    data: component("dataset")
    gan: GANSection
    train: GANTrainSection = GANTrainSection()


def load_gan_experiment(source: str | Path | dict[str, Any]) -> GANExperiment:
    """Read and validate a GAN experiment file (or its table).

    Raises:
        ConfigError: every problem, each with its path (``gan.generator[2].filters: ...``) and the file's name.
    """
    where = str(source) if not isinstance(source, dict) else "<table>"
    table = source if isinstance(source, dict) else tomllib.loads(Path(source).read_text(encoding="utf-8"))
    try:
        return GANExperiment.model_validate(table)
    except ValidationError as err:
        raise ConfigError(problems_from(err), source=where) from None


def is_gan_file(path: str | Path) -> bool:
    """Whether the TOML file at ``path`` is a GAN experiment (it has a ``[gan]`` table)."""
    return "gan" in tomllib.loads(Path(path).read_text(encoding="utf-8"))


def gan_skeleton(source: str | Path | dict[str, Any]) -> tuple[GAN, str]:
    """``(gan, name)``: the GAN of an experiment file built on the meta device (shapes and parameter counts, no
    storage) for its data's example shape, to draw or count (``lamina.draw(gan.generator)``); the data is loaded
    (never downloaded) to read that shape."""
    import torch

    exp = load_gan_experiment(source)
    shape = tuple(exp.data.load().train.inputs[0].shape[1:])
    with torch.device("meta"):
        gan = build_gan(exp.gan.generator, exp.gan.discriminator, latent_dim=exp.gan.latent_dim, image_shape=shape)
    return gan, exp.name


class Budget(Callback):
    """Stop training after ``minutes`` of wall-clock time (checked after every step); the trainer then checkpoints
    where it got, so the run can be resumed."""

    def __init__(self, minutes: float | None) -> None:
        self.minutes = minutes
        self.start = time.monotonic()

    def on_train_begin(self, trainer: Any) -> None:
        """Start the clock."""
        self.start = time.monotonic()

    def on_batch_end(self, trainer: Any, step: int, loss: Any) -> None:
        """Ask the trainer to stop once the budget is spent."""
        if self.minutes is not None and time.monotonic() - self.start > 60 * self.minutes:
            trainer.stop_training = True


def train_gan(
    experiment: str | Path | dict[str, Any] | GANExperiment,
    run_dir: str | Path,
    *,
    device: str = "auto",
    budget_minutes: float | None = None,
    callbacks: list[Callback] | None = None,
    verbose: int = 1,
) -> GANTrainer:
    """Train the GAN an experiment file describes in ``run_dir``, resuming from ``run_dir/checkpoint.pt`` if a
    previous run left one; the history is rewritten to ``run_dir/history.json`` after every epoch.

    Returns:
        The trainer (its ``gan``, ``history``, ``epoch``); a budget that ran out leaves a checkpoint to resume.
    """
    exp = experiment if isinstance(experiment, GANExperiment) else load_gan_experiment(experiment)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    train = exp.data.load().train
    image_shape = tuple(train.inputs[0].shape[1:])
    with seeded(exp.train.seed):  # the initial weights follow the file's seed, as lamina.train's do
        gan = build_gan(
            exp.gan.generator, exp.gan.discriminator, latent_dim=exp.gan.latent_dim, image_shape=image_shape
        )
    history_file = run_dir / "history.json"

    class _WriteHistory(Callback):
        def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
            """Rewrite history.json."""
            text = jsonio.dumps({"name": exp.name, "history": trainer.history.state_dict()}, indent=2) + "\n"
            files.atomic_write(history_file, text)

    hooks = [*(callbacks or []), _WriteHistory(), Budget(budget_minutes)]
    trainer = exp.train.trainer(gan, device=device, callbacks=hooks, verbose=verbose)
    checkpoint = run_dir / "checkpoint.pt"
    if checkpoint.is_file():
        trainer.resume(checkpoint)
    trainer.fit(train, checkpoint=checkpoint, checkpoint_every_steps=exp.train.checkpoint_every_steps)
    return trainer
