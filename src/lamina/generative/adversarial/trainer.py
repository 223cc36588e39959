"""The GAN training loop: two optimizers, alternating steps, resumable bit for bit on the CPU.

Every batch of real examples trains the discriminator (critic) once; every ``n_critic``-th discriminator step is
followed by one generator step (Goodfellow et al., 2014, Algorithm 1 with ``k = n_critic``; Gulrajani et al., 2017,
Algorithm 1 with ``n_critic = 5``). The generator's step freezes the discriminator's parameters
(``requires_grad_(False)``, so it neither computes nor leaves gradients there) and steps only the generator's
optimizer; the discriminator's step scores a detached batch of samples, so no gradient reaches the generator.

The randomness (the epoch's order of the real examples, the latent batches, the penalty's interpolation weights)
comes from :class:`~lamina.train.rng.RngStreams`, and :meth:`GANTrainer.state_dict` holds both networks, both
optimizers, the streams, the counters, the history and, inside an epoch, how far it got: a run killed after a
checkpoint and resumed from it ends with the same parameters as one never stopped (on the CPU, bit for bit).
Checkpoints are written atomically by :func:`lamina.train.checkpoint.save_checkpoint` and read back with
``weights_only=True``.

References:
    Goodfellow et al. (2014), "Generative Adversarial Nets", NeurIPS. Radford, Metz & Chintala (2016), ICLR
    (Adam with lr 2e-4 and beta1 0.5, the defaults here). Gulrajani et al. (2017), "Improved Training of Wasserstein
    GANs", NeurIPS (Adam with lr 1e-4, betas (0, 0.9), lambda = 10, n_critic = 5).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import torch

from lamina.config.component import Bounds, Choices, validated
from lamina.data.loader import make_loader
from lamina.errors import CheckpointError, TrainingDivergedError
from lamina.generative.adversarial.losses import OBJECTIVES, gradient_penalty
from lamina.generative.adversarial.model import GAN
from lamina.registry import resolve
from lamina.train.callbacks.base import Callback
from lamina.train.checkpoint import load_checkpoint, save_checkpoint
from lamina.train.history import History
from lamina.train.rng import RngStreams, resolve_device

__all__ = ["DCGAN_ADAM", "GANTrainer"]

DCGAN_ADAM: dict[str, Any] = {"type": "adam", "lr": 2e-4, "betas": [0.5, 0.999]}  # Radford et al. (2016), section 4
_SUMS = ("d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty")  # the running sums of an epoch's logs


def _optimizer(spec: Any, params: list[torch.nn.Parameter], path: str) -> torch.optim.Optimizer:
    """An optimizer from a name or table (``{"type": "adam", "lr": 2e-4}``), a built spec, or ``params -> opt``."""
    if spec is None:
        spec = DCGAN_ADAM
    if callable(spec) and not isinstance(spec, (str, dict)) and not hasattr(spec, "build"):
        return spec(params)
    built = resolve("optimizer", spec, path=path)
    if built.needs_closure:
        raise ValueError(f"{path}: a GAN step is a gradient step; {built.type_name!r} needs a closure")
    return built.build(params)


class GANTrainer:
    """Train a :class:`~lamina.generative.adversarial.model.GAN`.

    Args:
        gan: the generator and the discriminator.
        loss: ``"non_saturating"`` (Goodfellow et al.'s recommended generator loss, with DCGAN), ``"minimax"`` (the
            game as written, whose generator gradient saturates) or ``"wasserstein_gp"`` (Gulrajani et al., 2017).
        n_critic: discriminator steps per generator step (``k`` of Goodfellow et al.; WGAN-GP uses 5).
        gp_weight: the gradient penalty's weight ``lambda`` (``wasserstein_gp`` only; the paper's 10).
        epochs: passes over the real examples (each batch is one discriminator step).
        batch_size: real examples per discriminator step, and latent vectors per step of either network.
        seed: seeds the order of the examples and every latent batch, apart from the caller's global generator;
            ``None`` uses the global generators as they are.
        generator_optimizer, discriminator_optimizer: names, tables (``{"type": "adam", "lr": 2e-4}``), specs, or
            functions ``params -> Optimizer``; ``None``: Adam with DCGAN's lr 2e-4 and betas (0.5, 0.999).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ...
        callbacks: :class:`~lamina.train.callbacks.Callback` objects; their hooks get this trainer, and
            ``on_batch_end`` the discriminator's loss. A callback may set ``trainer.stop_training``.
        verbose: ``1`` prints a line per epoch, ``0`` nothing.

    Attributes:
        epoch, step: completed epochs and discriminator steps; ``generator_steps`` the generator's.
        history: a :class:`~lamina.train.history.History` of each epoch's ``d_loss``, ``g_loss``, ``d_real`` and
            ``d_fake`` (mean ``D(x)`` and ``D(G(z))``, or the critic's mean scores), ``wasserstein`` (``d_real -
            d_fake`` of a critic) and ``gradient_penalty``, ``time``.

    Example:
        >>> g, d = dcgan_layers((1, 28, 28), latent_dim=64)
        >>> gan = build_gan(g, d, latent_dim=64, image_shape=(1, 28, 28))
        >>> GANTrainer(gan, epochs=5).fit(train, checkpoint="run/checkpoint.pt")
    """

    @validated
    def __init__(
        self,
        gan: GAN,
        *,
        loss: Annotated[str, Choices("non_saturating", "minimax", "wasserstein_gp")] = "non_saturating",
        n_critic: Annotated[int, Bounds(ge=1)] = 1,
        gp_weight: Annotated[float, Bounds(ge=0)] = 10.0,
        epochs: Annotated[int, Bounds(ge=1)] = 10,
        batch_size: Annotated[int, Bounds(ge=1)] = 64,
        seed: int | None = 0,
        generator_optimizer: Any = None,
        discriminator_optimizer: Any = None,
        device: str | torch.device = "auto",
        callbacks: Iterable[Callback] = (),
        verbose: Annotated[int, Bounds(ge=0, le=1)] = 0,
    ) -> None:
        self.device = resolve_device(device)
        self.gan = gan.to(self.device)
        self.loss, self.objective = loss, OBJECTIVES[loss]
        self.n_critic, self.gp_weight = n_critic, gp_weight
        self.epochs, self.batch_size = epochs, batch_size
        self.g_optimizer = _optimizer(
            generator_optimizer, list(gan.generator.parameters()), "train.generator_optimizer"
        )
        self.d_optimizer = _optimizer(
            discriminator_optimizer, list(gan.discriminator.parameters()), "train.discriminator_optimizer"
        )
        self.callbacks = list(callbacks)
        self.verbose = verbose
        self.rng = RngStreams(seed, self.device)
        self.epoch = 0  # completed epochs
        self.step = 0  # discriminator steps (batches of real examples) taken
        self.generator_steps = 0
        self.history = History()
        self.stop_training = False
        self._position: dict[str, Any] | None = None  # inside an epoch: batches done, the epoch's shuffle state
        self._pending_position: dict[str, Any] | None = None
        self._sums: dict[str, torch.Tensor] = {}
        self._counts: dict[str, int] = {"d": 0, "g": 0}  # the epoch's steps of each network so far

    # -- the two steps ------------------------------------------------------------------------------------------

    def _score_summary(self, scores: torch.Tensor) -> torch.Tensor:
        """``D(x)`` averaged over the batch for a discriminator of logits; a critic's mean score otherwise."""
        scores = scores.detach().reshape(-1)
        return torch.sigmoid(scores).mean() if self.objective.logits else scores.mean()

    def discriminator_step(self, real: torch.Tensor) -> torch.Tensor:
        """One step of the discriminator's optimizer on ``real`` and as many generated examples; returns its loss
        (detached). The generator runs without a graph, so its parameters get no gradient."""
        gan = self.gan
        z = gan.sample_latent(len(real), device=self.device)
        with torch.no_grad():
            fake = gan.generator(z)
        real_scores, fake_scores = gan.discriminator(real), gan.discriminator(fake)
        loss = self.objective.discriminator(real_scores, fake_scores)
        if self.objective.penalty:
            penalty = gradient_penalty(gan.discriminator, real, fake)
            loss = loss + self.gp_weight * penalty
            self._sums["gradient_penalty"] += penalty.detach()
        self.d_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.d_optimizer.step()
        self._sums["d_loss"] += loss.detach()
        self._sums["d_real"] += self._score_summary(real_scores)
        self._sums["d_fake"] += self._score_summary(fake_scores)
        return loss.detach()

    def generator_step(self, n: int) -> torch.Tensor:
        """One step of the generator's optimizer on ``n`` latent vectors; returns its loss (detached). The
        discriminator's parameters are frozen for the step: they get no gradient and its optimizer does not step."""
        gan = self.gan
        frozen = [p for p in gan.discriminator.parameters() if p.requires_grad]
        for p in frozen:
            p.requires_grad_(False)
        try:
            z = gan.sample_latent(n, device=self.device)
            loss = self.objective.generator(gan.discriminator(gan.generator(z)))
            self.g_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.g_optimizer.step()
        finally:
            for p in frozen:
                p.requires_grad_(True)
        self._sums["g_loss"] += loss.detach()
        return loss.detach()

    # -- epochs -------------------------------------------------------------------------------------------------

    def _train_epoch(self, loader: Any, save: Callable[[], Any] | None, every: int | None) -> dict[str, float]:
        self.gan.train()
        resumed, self._pending_position = self._pending_position, None
        if resumed is not None:  # a mid-epoch checkpoint: redraw the epoch's order, skip the batches it had done
            self.rng.shuffle.set_state(resumed["shuffle"])
            self._sums = {k: v.to(self.device) for k, v in resumed["sums"].items()}
            counts = dict(resumed["counts"])
        else:
            self._sums = {k: torch.zeros((), device=self.device) for k in _SUMS}
            counts = {"d": 0, "g": 0}
        self._position = {"batch": 0, "shuffle": self.rng.shuffle.get_state()}
        batches = iter(loader)
        if resumed is not None:
            self._position["batch"] = resumed["batch"]
            batches = itertools.islice(batches, resumed["batch"], None)
        self._counts = counts
        for real, _ in batches:
            d_loss = self.discriminator_step(real)
            self.step += 1
            counts["d"] += 1
            if self.step % self.n_critic == 0:
                self.generator_step(len(real))
                self.generator_steps += 1
                counts["g"] += 1
            self._position["batch"] += 1
            if self.device.type == "cpu" and not torch.isfinite(d_loss):
                self._diverged(f"the discriminator's loss became {float(d_loss)} at step {self.step}")
            for cb in self.callbacks:
                cb.on_batch_end(self, self.step, d_loss)  # type: ignore[arg-type]  # a trainer of another kind
            if save is not None and every and self.step % every == 0:
                save()
            if self.stop_training:
                break
        if self.stop_training and self._position is not None and self._position["batch"] < len(loader):
            return {}  # stopped inside the epoch: the position stays for the checkpoint, no epoch is logged
        self._position = None
        return self._epoch_logs(counts)

    def _epoch_logs(self, counts: dict[str, int]) -> dict[str, float]:
        sums = {k: float(v) for k, v in self._sums.items()}  # one read of the device per epoch
        d, g = max(counts["d"], 1), max(counts["g"], 1)
        logs = {
            "d_loss": sums["d_loss"] / d,
            "g_loss": sums["g_loss"] / g if counts["g"] else math.nan,
            "d_real": sums["d_real"] / d,
            "d_fake": sums["d_fake"] / d,
        }
        if not self.objective.logits:
            logs["wasserstein"] = logs["d_real"] - logs["d_fake"]
        if self.objective.penalty:
            logs["gradient_penalty"] = sums["gradient_penalty"] / d
        for name in ("d_loss", "g_loss"):
            if counts["g" if name == "g_loss" else "d"] and not math.isfinite(logs[name]):
                self._diverged(f"{name} became {logs[name]} in epoch {self.epoch + 1}")
        return logs

    def _diverged(self, where: str) -> None:
        self.stop_training = True
        raise TrainingDivergedError(
            f"{where}; GAN training stopped. Try lower learning rates, or the wasserstein_gp loss.",
            epoch=self.epoch + 1,
            step=self.step,
            value=math.nan,
        )

    def fit(
        self,
        train: Any,
        *,
        epochs: int | None = None,
        checkpoint: str | Path | None = None,
        checkpoint_every_steps: int | None = None,
    ) -> History:
        """Train for ``epochs`` (default: the constructor's) epochs in total, continuing from :attr:`epoch`.

        Args:
            train: an :class:`~lamina.data.ArrayDataset` (or any dataset of ``(x, y)`` pairs; ``y`` is unused).
            checkpoint: a file rewritten atomically after every epoch, every ``checkpoint_every_steps``
                discriminator steps, and when a callback stops training; :meth:`resume` continues from it.

        Returns:
            The :class:`History` of every epoch so far.

        Raises:
            TrainingDivergedError: a loss became NaN or infinite (no checkpoint is written after it).
        """
        epochs = epochs or self.epochs
        if checkpoint_every_steps is not None and checkpoint_every_steps < 1:
            raise ValueError(f"`checkpoint_every_steps` must be a positive integer, got {checkpoint_every_steps!r}")
        loader = make_loader(
            train,
            self.batch_size,
            shuffle=True,
            generator=self.rng.shuffle,
            drop_last=True,  # equal batches of real and generated examples
            device=self.device,
            augment=True,
        )
        if len(loader) == 0:
            raise ValueError(f"the training set has fewer examples ({len(train)}) than one batch ({self.batch_size})")
        save = (lambda: self.save(checkpoint)) if checkpoint is not None else None
        self.epochs, self.stop_training = epochs, False
        with self.rng.active():
            for cb in self.callbacks:
                cb.on_train_begin(self)  # type: ignore[arg-type]
            try:
                while self.epoch < epochs and not self.stop_training:
                    start = time.perf_counter()
                    for cb in self.callbacks:
                        cb.on_epoch_begin(self, self.epoch)  # type: ignore[arg-type]
                    logs = self._train_epoch(loader, save, checkpoint_every_steps)
                    if not logs:
                        break
                    logs["time"] = time.perf_counter() - start
                    self.epoch += 1
                    self.history.append({"epoch": self.epoch, **logs})
                    if self.verbose:
                        print(f"epoch {self.epoch}/{epochs}  " + "  ".join(f"{k} {v:.4g}" for k, v in logs.items()))
                    for cb in self.callbacks:
                        cb.on_epoch_end(self, self.epoch - 1, logs)  # type: ignore[arg-type]
                    if save is not None:
                        save()
            finally:
                for cb in self.callbacks:
                    cb.on_train_end(self)  # type: ignore[arg-type]
            if save is not None and self.stop_training and self._position is not None:
                save()  # stopped inside an epoch (a budget): keep where it got
        return self.history

    # -- state --------------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: both networks, both optimizers, the RNG streams, the counters, the history,
        the callbacks' states and, inside an epoch, the batches done and the epoch's running sums."""
        position = None
        if self._position is not None:
            position = {
                **self._position,
                "sums": {k: v.detach().cpu() for k, v in self._sums.items()},
                "counts": dict(self._counts),
            }
        return {
            "gan": self.gan.state_dict(),
            "generator_optimizer": self.g_optimizer.state_dict(),
            "discriminator_optimizer": self.d_optimizer.state_dict(),
            "rng": self.rng.state_dict(),
            "epoch": self.epoch,
            "step": self.step,
            "generator_steps": self.generator_steps,
            "history": self.history.state_dict(),
            "callbacks": [cb.state_dict() for cb in self.callbacks],
            "position": position,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; the next :meth:`fit` continues where that run was."""
        self.gan.load_state_dict(state["gan"])
        self.g_optimizer.load_state_dict(state["generator_optimizer"])
        self.d_optimizer.load_state_dict(state["discriminator_optimizer"])
        self.rng.load_state_dict(state["rng"])
        self.epoch, self.step, self.generator_steps = state["epoch"], state["step"], state["generator_steps"]
        self.history = History(state["history"])
        for cb, cb_state in zip(self.callbacks, state.get("callbacks") or []):
            cb.load_state_dict(cb_state)
        self._pending_position = state.get("position")

    def _weights_finite(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self.gan.parameters())

    def save(self, path: str | Path) -> Path:
        """Write :meth:`state_dict` to ``path`` atomically (never with non-finite weights)."""
        if not self._weights_finite():
            raise TrainingDivergedError(
                f"the GAN's weights are non-finite at step {self.step}; {path} keeps the last finite checkpoint",
                epoch=self.epoch + 1,
                step=self.step,
                value=math.nan,
            )
        return save_checkpoint(self.state_dict(), path, kind="gan", loss=self.loss)

    def resume(self, path: str | Path) -> None:
        """Load a checkpoint :meth:`save` wrote (``weights_only=True``): the next :meth:`fit` continues from it.

        Raises:
            CheckpointError: a missing, torn or foreign file, or one that is not a GAN trainer's.
        """
        payload = load_checkpoint(path, map_location=self.device)
        if payload.get("kind") != "gan":
            raise CheckpointError(f"{path}: not a GAN trainer's checkpoint (written by lamina's Trainer?)")
        if payload.get("loss") != self.loss:
            raise CheckpointError(f"{path}: trained with loss {payload.get('loss')!r}, this trainer uses {self.loss!r}")
        self.load_state_dict(payload["state"])
