"""The protocol of greedy pretraining methods (``[pretrain] method = "rbm"`` in an experiment file).

A :class:`PretrainSpec` is registered under the ``pretrain`` kind; :func:`lamina.train` calls its ``pretrain``
after the network is built and before supervised fine-tuning. Methods live with the models they train
(``lamina.generative``); this module only fixes the interface the experiment runner calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from lamina.config.spec import Spec

__all__ = ["PretrainSpec"]


class PretrainSpec(Spec):
    """A greedy layer-wise pretraining method.

    Subclasses implement :meth:`pretrain`, which trains one greedy module per layer of ``model`` on the data
    the layers below produce, and copies the learned weights into ``model`` in place.
    """

    def pretrain(
        self, model: nn.Module, data: Any, *, device: Any, seed: int | None, folder: Path | None = None
    ) -> dict[str, Any]:
        """Pretrain ``model`` in place on ``data`` (an :class:`~lamina.data.ArrayDataset`); return a summary
        (per-layer figures such as the final reconstruction error) for the run's report.

        ``folder`` (the run's checkpoint folder) is where a method may keep per-layer checkpoints so that a
        killed run resumes between layers."""
        raise NotImplementedError
