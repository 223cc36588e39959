"""The callback protocol: hooks that observe training. Callbacks never own the loop: a callback ends training
by setting ``trainer.stop_training = True``, and keeps its state in ``state_dict()`` so a resumed run resumes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lamina.config.spec import Spec

if TYPE_CHECKING:
    from lamina.train.trainer import Trainer

__all__ = ["Callback", "CallbackSpec"]


class Callback:
    """Base class: every hook is a no-op. Runtime state belongs in ``on_train_begin``, not ``__init__``."""

    def on_train_begin(self, trainer: Trainer) -> None:
        """Before the first epoch (also when resuming)."""

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        """Before each epoch (``epoch`` counts from 0)."""

    def on_batch_end(self, trainer: Trainer, step: int, loss: Any) -> None:
        """After each optimizer step; ``loss`` is the batch loss as a tensor (call ``float()`` only if needed)."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        """After each epoch, with its metrics (``loss``, ``val_loss``, ``accuracy``, ``lr``, ...)."""

    def on_train_end(self, trainer: Trainer) -> None:
        """After the last epoch, also when training stopped early or failed."""

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs to continue this callback."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""


class CallbackSpec(Spec):
    """A callback by name (``callbacks = [{ type = "...", ... }]``): ``build()`` returns the :class:`Callback`."""

    def build(self) -> Callback:
        """The callback."""
        raise NotImplementedError
