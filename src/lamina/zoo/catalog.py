"""The model zoo's catalogue: named, versioned classic models, each with the recipe that trains it (an experiment file
shipped in ``lamina/zoo/recipes/``, the same file as ``examples/<name>.toml``), the figure it must reach, and the
paper behind it.

A weights file is identified by its sha256. lamina publishes no weights download today (``url`` and ``sha256`` are
``None``): ``lamina zoo build NAME`` trains the recipe on this machine and records the file's sha256; a catalogue
entry that names a published file checks it against the entry's own sha256 instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lamina.errors import LaminaError, did_you_mean

__all__ = ["ZooEntry", "CATALOG", "entry"]


@dataclass(frozen=True)
class ZooEntry:
    """One model of the zoo.

    Attributes:
        name: what ``lamina zoo build|load`` take, e.g. ``lenet5``.
        version: bumped whenever the recipe changes; files are ``<name>-v<version>.safetensors``.
        summary: one line: the network, the data, the paper.
        metric: the figure, ``error`` (1 - accuracy) or ``loss``, on ``split``.
        split: ``test`` or ``validation``.
        target: the largest acceptable figure (the repository's reproduction target).
        published: the paper's figure (same unit), for comparison.
        minutes: about how long ``build`` trains on two CPU cores.
        url: where a published weights file is downloaded from (``None``: not published).
        sha256: the published file's sha256 (``None``: not published).
    """

    name: str
    version: int
    summary: str
    metric: str
    split: str
    target: float
    published: float | None
    minutes: float
    url: str | None = None
    sha256: str | None = None

    @property
    def recipe(self) -> Path:
        """The experiment file that trains the model."""
        return Path(str(resources.files("lamina.zoo") / "recipes" / f"{self.name}.toml"))

    @property
    def filename(self) -> str:
        """``lenet5-v1.safetensors``."""
        return f"{self.name}-v{self.version}.safetensors"


CATALOG: dict[str, ZooEntry] = {
    e.name: e
    for e in (
        ZooEntry("digits_mlp", 1, "64-128-10 ReLU MLP on scikit-learn's 8x8 digits (the quickstart)", "error", "test",
                 0.05, None, 0.2),
        ZooEntry("mnist_mlp", 1, "784-800-800-10 ReLU MLP with dropout on MNIST (Simard et al. 2003's size)", "error",
                 "test", 0.016, 0.016, 45),
        ZooEntry("lenet5", 1, "LeNet-5 on MNIST (LeCun, Bottou, Bengio & Haffner 1998), ReLU and Adam", "error",
                 "test", 0.009, 0.0095, 10),
        ZooEntry("dbn_mnist", 1, "DBN 784-500-500-2000-10, RBM-pretrained and fine-tuned (Hinton et al. 2006)",
                 "error", "test", 0.013, 0.0125, 60),
        ZooEntry("char_lstm", 1, "2x256 LSTM character model of Tiny Shakespeare (Karpathy's char-rnn 2015), "
                 "nats/char", "loss", "validation", 1.6, None, 10),
    )
}  # fmt: skip


def entry(name: str) -> ZooEntry:
    """The catalogue entry called ``name`` (an error naming the closest one otherwise)."""
    if name not in CATALOG:
        raise LaminaError(
            f"no model {name!r} in the zoo;{did_you_mean(name, list(CATALOG))} known: {', '.join(CATALOG)}"
        )
    return CATALOG[name]
