"""Callbacks for training RBMs with the ordinary trainer: monitoring (reconstruction error, pseudo-likelihood, AIS
log-likelihood, logged like any metric) and Hinton's momentum schedule."""

from __future__ import annotations

from typing import Any

import torch

from lamina.generative.rbm.ais import ais_log_partition
from lamina.generative.rbm.partition import pseudo_log_likelihood
from lamina.train.callbacks.base import Callback

__all__ = ["RBMMonitor", "MomentumSchedule"]


class RBMMonitor(Callback):
    """Add an RBM's monitoring figures on a fixed set of examples to each epoch's logs (and to the history, so
    they reach ``metrics.jsonl``, the learning curves and the pretraining summary).

    Logged: ``recon_error`` (per example, summed over visible units, mean-field reconstruction), ``free_energy``,
    ``pseudo_log_likelihood`` (Bernoulli RBMs), and every ``ais_every`` epochs ``ais_log_likelihood`` (nats per
    example) with ``ais_log_z`` and ``ais_effective_runs`` (how many of the runs the estimate is worth: a few means
    the likelihood is overestimated), for binary data only.

    Args:
        data: ``(N, n_visible)`` the monitored examples (a validation set, or a fixed subset of the training set).
        every: epochs between evaluations.
        ais_every: epochs between AIS estimates (0: never). AIS costs ``ais_betas`` Gibbs steps of ``ais_runs``
            chains.
        ais_runs, ais_betas: the AIS runs and number of intermediate distributions.
        seed: seeds a generator of the monitor's own, so monitoring leaves the training's random stream alone.
        prefix: prepended to the logged names (e.g. ``"val_"``).
    """

    def __init__(
        self,
        data: torch.Tensor,
        *,
        every: int = 1,
        ais_every: int = 0,
        ais_runs: int = 100,
        ais_betas: int = 10000,
        seed: int = 0,
        prefix: str = "",
        batch_size: int = 4096,
    ) -> None:
        if every < 1 or ais_every < 0:
            raise ValueError(f"`every` must be >= 1 and `ais_every` >= 0, got {every!r} and {ais_every!r}")
        self.data, self.every, self.ais_every = data, every, ais_every
        self.ais_runs, self.ais_betas, self.seed, self.prefix = ais_runs, ais_betas, seed, prefix
        self.batch_size = batch_size
        self.binary = bool(((data == 0) | (data == 1)).all())

    @torch.no_grad()
    def measure(self, rbm: Any, *, ais: bool = True) -> dict[str, float]:
        """The monitoring figures of ``rbm`` now (``ais``: with the AIS log-likelihood, where it applies)."""
        was = rbm.training
        rbm.eval()
        device = rbm.weight.device
        generator = torch.Generator(device).manual_seed(self.seed)
        sums: dict[str, float] = {}
        try:
            data = self.data.to(device)
            for i in range(0, len(data), self.batch_size):
                v = rbm._rows(data[i : i + self.batch_size])
                parts = {"recon_error": (v - rbm.reconstruct(v)).pow(2).sum(-1), "free_energy": rbm.free_energy(v)}
                if rbm.family == "bernoulli":
                    parts["pseudo_log_likelihood"] = pseudo_log_likelihood(rbm, v, generator=generator)
                for k, x in parts.items():
                    sums[k] = sums.get(k, 0.0) + float(x.sum())
            out = {self.prefix + k: s / len(data) for k, s in sums.items()}
            if ais and self.binary and rbm.family == "bernoulli" and not rbm.softmax_units:
                estimate = ais_log_partition(rbm, self.ais_runs, self.ais_betas, data=data, generator=generator)
                out[self.prefix + "ais_log_z"] = estimate.log_z
                out[self.prefix + "ais_effective_runs"] = estimate.effective_runs
                out[self.prefix + "ais_log_likelihood"] = -out[self.prefix + "free_energy"] - estimate.log_z
        finally:
            rbm.train(was)
        return out

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        """Every ``every`` epochs and after the last, measure the model (with AIS every ``ais_every`` epochs and
        after the last) and add the figures to ``logs`` and to the epoch's history record."""
        last = epoch + 1 == trainer.epochs
        if (epoch + 1) % self.every and not last:
            return
        figures = self.measure(trainer.model, ais=bool(self.ais_every) and ((epoch + 1) % self.ais_every == 0 or last))
        logs.update(figures)
        if len(trainer.history):
            trainer.history.epochs[-1].update(figures)


class MomentumSchedule(Callback):
    """Switch SGD's momentum from its initial value to ``final`` at epoch ``switch_epoch`` (Hinton, 2010, sec. 9:
    0.5 while the reconstruction error falls fast, then 0.9). Optimizers without momentum are left alone."""

    def __init__(self, final: float = 0.9, switch_epoch: int = 5) -> None:
        if not 0 <= final < 1 or switch_epoch < 0:
            raise ValueError(f"`final` must be in [0, 1) and `switch_epoch` >= 0, got {final!r} and {switch_epoch!r}")
        self.final, self.switch_epoch = final, switch_epoch
        self._initial: list[float] | None = None

    def on_train_begin(self, trainer: Any) -> None:
        """Remember each parameter group's initial momentum (``None`` where it has none)."""
        self._initial = [g.get("momentum") for g in trainer.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The initial momenta (a resumed optimizer may already hold the final one)."""
        return {"initial": self._initial}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the initial momenta saved by :meth:`state_dict`."""
        self._initial = state["initial"]

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        """Set each group's momentum: ``final`` from ``switch_epoch`` on, its initial value before."""
        for group, initial in zip(trainer.optimizer.param_groups, self._initial or []):
            if initial is not None:
                group["momentum"] = self.final if epoch >= self.switch_epoch else initial
