"""A momentum schedule: the optimizer's momentum raised linearly over the first epochs, as in Hinton et al. (2012,
"Improving neural networks by preventing co-adaptation of feature detectors") and Srivastava et al. (2014,
"Dropout", JMLR 15: momentum from 0.5 to 0.99 over the first epochs of their MNIST nets). Learning-rate schedules
are ``[train] schedule``; this callback moves the other knob, before every optimizer step:

    callbacks = [{ type = "momentum_ramp", start = 0.5, end = 0.99, epochs = 500 }]

With ``dampened = true`` the optimizer's ``dampening`` follows the momentum too, which turns torch's SGD into the
papers' form ``v <- p v + (1 - p) g`` (the steady step ``lr g`` whatever ``p`` is).
"""

from __future__ import annotations

from typing import Annotated, Any

from lamina.config.component import Bounds, spec_base, validated
from lamina.errors import ConfigError
from lamina.registry import register
from lamina.train.callbacks.base import Callback, CallbackSpec

__all__ = ["MomentumRamp", "MomentumRampSpec", "ramp_momentum"]


def ramp_momentum(step: int, steps: float, start: float, end: float) -> float:
    """``start + (end - start) min(step / steps, 1)``: the momentum after ``step`` optimizer steps."""
    return start + (end - start) * min(step / steps, 1.0)


class MomentumRamp(Callback):
    """Raise (or lower) every parameter group's momentum linearly from ``start`` to ``end`` over the first ``epochs``
    epochs, updated before every optimizer step, then hold it at ``end``.

    Args:
        start: the momentum of the first step.
        end: the momentum from the end of the ramp on.
        epochs: the ramp's length in epochs (fractions allowed).
        dampened: set the optimizer's ``dampening`` to the momentum as well (SGD's ``(1 - p) g`` form).

    Works with optimizers whose parameter groups have a ``momentum`` (SGD, RMSprop); a resumed run continues the ramp
    from its step count.
    """

    @validated
    def __init__(
        self,
        start: Annotated[float, Bounds(ge=0, lt=1)] = 0.5,
        end: Annotated[float, Bounds(ge=0, lt=1)] = 0.99,
        *,
        epochs: Annotated[float, Bounds(gt=0)] = 10.0,
        dampened: bool = False,
    ) -> None:
        self.start, self.end, self.epochs, self.dampened = start, end, epochs, dampened

    def _apply(self, trainer: Any) -> None:
        steps = max(1.0, self.epochs * trainer.steps_per_epoch)
        value = ramp_momentum(trainer.step, steps, self.start, self.end)
        for group in trainer.optimizer.param_groups:
            group["momentum"] = value
            if self.dampened:
                group["dampening"] = value

    def on_train_begin(self, trainer: Any) -> None:
        """Check the optimizer has a momentum to move, and set the first step's."""
        groups = trainer.optimizer.param_groups
        if not all("momentum" in g for g in groups) or (self.dampened and not all("dampening" in g for g in groups)):
            what = "momentum and dampening" if self.dampened else "momentum"
            raise ConfigError(
                f"callbacks.momentum_ramp: {type(trainer.optimizer).__name__} has no {what} to schedule; use sgd "
                "(or rmsprop without dampened)"
            )
        self._apply(trainer)

    def on_batch_end(self, trainer: Any, step: int, loss: Any) -> None:
        """Set the momentum of the next step."""
        self._apply(trainer)


@register("callback", "momentum_ramp")
class MomentumRampSpec(spec_base(MomentumRamp, CallbackSpec)):  # type: ignore[misc]  # a base made by spec_base
    """``{ type = "momentum_ramp", start = 0.5, end = 0.99, epochs = 500 }``: :class:`MomentumRamp`'s keyword
    arguments, with its defaults and bounds."""

    def build(self) -> MomentumRamp:
        """The :class:`MomentumRamp` callback."""
        return MomentumRamp(**self.options())
