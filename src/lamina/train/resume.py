"""``--set`` overrides on a resumed run (issue 22): each is either applied and recorded, or refused.

A resumed run continues from its checkpoint, so only settings that can change between epochs without
contradicting the saved state may be overridden: how long to train, the learning rate, stopping patience,
clipping, logging and checkpointing. Anything else (the data, the model, the batch size, the seed, the optimizer's
kind) would silently mean a different experiment, and is refused with the list of what can be changed.

An applied override is recorded twice: a comment line at the top of the run's ``config.toml``
(``# --set train.optimizer.lr=0.01 (applied on resume at epoch 3)``, kept across later resumes), and an entry of
``summary.json``'s ``overrides`` list.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lamina.errors import ConfigError, Problem
from lamina.train.checkpoint import atomic_write

__all__ = ["RESUMABLE", "check_resume_overrides", "record_overrides", "rescale_learning_rate"]

# settings a resumed run can take up from its next epoch; everything else is fixed by the checkpoint
RESUMABLE = (
    "train.epochs",
    "train.optimizer.lr",
    "train.grad_clip",
    "train.early_stopping.patience",
    "train.log_every",
    "train.checkpoint_every",
    "train.checkpoint_every_steps",
    "train.checkpoint_every_minutes",
    "train.tensorboard",
    "train.eval_batch_size",
)

_HEADER = "# --set "


def _key(override: str) -> str:
    return override.partition("=")[0].strip()


def check_resume_overrides(overrides: Iterable[str]) -> list[str]:
    """The overrides, if every one can be honoured on resume.

    Raises:
        ConfigError: naming each override a resumed run cannot take, and the settings it can.
    """
    overrides = list(overrides)
    refused = [
        Problem(_key(o), "cannot change when resuming: the checkpoint was trained with the run's value")
        for o in overrides
        if _key(o) not in RESUMABLE
    ]
    if refused:
        refused.append(
            Problem(
                "",
                "a resumed run can change only " + ", ".join(RESUMABLE) + "; start a new run to change anything else",
            )
        )
        raise ConfigError(refused, source="--set with --resume")
    return overrides


def _scale(group: dict[str, Any], ratio: float) -> None:
    for name in ("lr", "initial_lr"):
        if name in group:
            group[name] = group[name] * ratio


def rescale_learning_rate(state: dict[str, Any], old_lr: float, new_lr: float) -> None:
    """Make a checkpoint's optimizer (and scheduler) continue at base rate ``new_lr`` instead of ``old_lr``.

    The saved rate is ``old_lr`` times the schedule's factor, so every rate in the state is scaled by
    ``new_lr / old_lr``: the schedule keeps its shape around the new base rate.
    """
    if old_lr == new_lr:
        return
    if not old_lr:
        raise ConfigError(
            f"train.optimizer.lr: the run was trained with lr={old_lr!r}; a rate cannot be scaled from zero"
        )
    ratio = new_lr / old_lr
    for group in state["optimizer"]["param_groups"]:
        _scale(group, ratio)
    scheduler = state.get("scheduler")
    if scheduler is not None:
        for name in ("base_lrs", "_last_lr"):
            if name in scheduler:
                scheduler[name] = [lr * ratio for lr in scheduler[name]]


def record_overrides(config: Path, text: str, overrides: list[str], epoch: int) -> list[dict[str, Any]]:
    """Write the resolved config ``text`` to ``config``, keeping the comment lines of earlier overrides and adding
    one per override; return the ``summary.json`` entries ``{"set": ..., "epoch": ...}``."""
    earlier = [line for line in config.read_text(encoding="utf-8").splitlines() if line.startswith(_HEADER)]
    added = [f"{_HEADER}{o.strip()} (applied on resume at epoch {epoch + 1})" for o in overrides]
    body = "\n".join([*earlier, *added, text])
    atomic_write(config, lambda fh: fh.write(body.encode("utf-8")))
    return [{"set": o.strip(), "epoch": epoch + 1} for o in overrides]
