"""The base class of restricted Boltzmann machines with binary hidden units, :class:`RBM`: its parameters,
persistent chains and running statistics, the hidden side, the CD-k / PCD training objective and what it logs.

The math is in :mod:`lamina.generative.rbm.functions` and :mod:`lamina.generative.rbm.contrastive_divergence`, the
Gibbs chains and fantasies in :mod:`lamina.generative.rbm.sampling`; each kind of visible unit is a subclass
(:class:`~lamina.generative.rbm.model.BernoulliRBM`, :class:`~lamina.generative.rbm.gaussian.GaussianBernoulliRBM`).
Training is a ``training_loss(batch)`` whose gradient is the CD-k / PCD update, so the ordinary
:class:`~lamina.Trainer` (any torch optimizer, momentum, learning-rate schedules, AMP, DDP) trains an RBM like any
other model.
"""

from __future__ import annotations

from typing import Annotated, Any

import torch
from torch import nn

from lamina.config.component import Bounds, Choices, validated
from lamina.errors import DataError
from lamina.generative.rbm.contrastive_divergence import CDStatistics, cd_statistics, cd_surrogate, sparsity_delta
from lamina.generative.rbm.functions import hidden_logits
from lamina.generative.rbm.sampling import GibbsSampling
from lamina.pretrain.greedy import GreedyLayer

__all__ = ["RBM"]

_RECONSTRUCTIONS = ("probabilities", "samples")


class RBM(GreedyLayer, GibbsSampling):
    """Base class of RBMs with binary hidden units ``p(h_j = 1 | v) = sigmoid(c_j + W_j v~)`` (``v~ = v`` for
    Bernoulli visible units, ``v / sigma`` for Gaussian ones).

    Args:
        n_visible, n_hidden: layer sizes.
        k: Gibbs steps of the negative phase (CD-k; Hinton, 2002).
        persistent_chains: ``> 0``: persistent CD with this many fantasy particles kept between updates
            (Tieleman, 2008), held in the buffer ``persistent_chain`` (so checkpoints carry them); ``0``: CD-k.
        reconstruction: the last visible state of the chain in the statistics: ``probabilities`` (its mean; less
            noise, Hinton 2010 sec. 3.2) or ``samples``.
        weight_decay: L2 cost on the weights (not the biases) inside the surrogate (Hinton, 2010, sec. 10).
        sparsity_target: desired mean activation ``p`` of each hidden unit, or ``None`` for no sparsity penalty.
        sparsity_cost: weight of the sparsity penalty (Hinton, 2010, sec. 11).
        sparsity_decay: decay ``lambda`` of the running activation ``q <- lambda q + (1 - lambda) q_batch``.
        init_std: weights start as ``N(0, init_std^2)`` (0.01 in Hinton, 2010, sec. 8); biases at zero.
        generator: source of the training-time randomness; ``None``: torch's global generator (which the trainer
            seeds and checkpoints).
        device, dtype: of the parameters.

    Logged by the trainer each epoch (its "loss" is the CD surrogate, which is not a loss to read):

    - ``free_energy_gap``: the mean of :meth:`training_loss` over the epoch's batches, ``mean F(v_data) -
      mean F(v_model)`` (plus the weight-decay and sparsity terms when set): the data's free energy less that of the
      chain's negative-phase states. It starts near 0, turns negative as the model learns (data become more
      probable than its own samples), and comes back towards 0 as the samples become as probable as the data. It
      is not a log-likelihood (AIS estimates that: :class:`~lamina.generative.RBMMonitor`).
    - ``recon_error``: the squared error of the mean-field reconstruction ``E[v | p(h | v)]`` of the training
      batches, summed over visible units, averaged over examples (Hinton, 2010, sec. 5); an
      :class:`~lamina.generative.RBMMonitor` replaces it with the same figure on its fixed examples.
    """

    family = ""
    softmax_units = 0
    objective_name = "free_energy_gap"  # what the trainer logs and prints the mean training_loss as
    data_shape: tuple[int, ...] | None = None  # one training example's shape (images: (1, 28, 28)), once trained
    # buffers registered in __init__ (None when unused), declared for the type checker
    persistent_chain: torch.Tensor | None
    hidden_activity: torch.Tensor | None

    @validated
    def __init__(
        self,
        n_visible: Annotated[int, Bounds(ge=1)],
        n_hidden: Annotated[int, Bounds(ge=1)],
        *,
        k: Annotated[int, Bounds(ge=1)] = 1,
        persistent_chains: Annotated[int, Bounds(ge=0)] = 0,
        reconstruction: Annotated[str, Choices(*_RECONSTRUCTIONS)] = "probabilities",
        weight_decay: Annotated[float, Bounds(ge=0)] = 0.0,
        sparsity_target: Annotated[float | None, Bounds(gt=0, lt=1)] = None,
        sparsity_cost: Annotated[float, Bounds(ge=0)] = 0.1,
        sparsity_decay: Annotated[float, Bounds(ge=0, lt=1)] = 0.95,
        init_std: Annotated[float, Bounds(gt=0)] = 0.01,  # Hinton (2010), sec. 8
        generator: torch.Generator | None = None,
        device: Any = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.n_visible, self.n_hidden, self.k = n_visible, n_hidden, k
        self.reconstruction, self.weight_decay = reconstruction, float(weight_decay)
        self.sparsity_target, self.sparsity_cost, self.sparsity_decay = sparsity_target, sparsity_cost, sparsity_decay
        self.init_std = init_std
        self.generator = generator
        self.weight = nn.Parameter(torch.empty(n_hidden, n_visible, **factory))
        self.hidden_bias = nn.Parameter(torch.empty(n_hidden, **factory))
        self.visible_bias = nn.Parameter(torch.empty(n_visible, **factory))
        self.register_buffer(
            "persistent_chain", torch.empty(persistent_chains, n_visible, **factory) if persistent_chains else None
        )
        self.register_buffer("hidden_activity", torch.empty(n_hidden, **factory) if sparsity_target else None)
        self._init_visible_parameters(factory)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weights ``N(0, init_std^2)``, zero biases, fresh chains and running activity."""
        with torch.no_grad():
            self.weight.normal_(0.0, self.init_std, generator=self._generator(self.weight.device))
            self.hidden_bias.zero_()
            self.visible_bias.zero_()
            if self.hidden_activity is not None:
                self.hidden_activity.fill_(self.sparsity_target)
            if self.persistent_chain is not None:
                self.persistent_chain.copy_(self._initial_visible(len(self.persistent_chain), None))

    # -- subclasses implement the visible side ----------------------------------------------------------------

    def _init_visible_parameters(self, factory: dict[str, Any]) -> None:
        """Create the visible units' own parameters (Gaussian standard deviations), before ``reset_parameters``."""

    def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
        """``E[v | h]``. Shape: ``(N, n_h) -> (N, n_v)``."""
        raise NotImplementedError

    def sample_visible(self, h: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """A draw from ``p(v | h)``. Shape: ``(N, n_h) -> (N, n_v)``."""
        raise NotImplementedError

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """``F(v) = -log sum_h exp(-E(v, h))``. Shape: ``(N, n_v) -> (N,)``."""
        raise NotImplementedError

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``E(v, h)``. Shape: ``(N, n_v), (N, n_h) -> (N,)``."""
        raise NotImplementedError

    def check_visible(self, v: torch.Tensor) -> None:
        """Raise :class:`~lamina.errors.DataError` for data these visible units cannot model."""

    # each training batch is checked; on a device the check is deferred (reading it would make the host wait for
    # the GPU on every batch): the running minimum and maximum are kept there and checked every this many batches
    # and when the model leaves training mode
    DEFERRED_CHECK_EVERY = 32

    def _check_batch(self, v: torch.Tensor) -> None:
        """:meth:`check_visible` of a training batch: at once on the CPU, deferred on a device (the running range
        of the batches since the last check is checked as data: a NaN or an out-of-range value shows in it)."""
        if v.device.type == "cpu":
            self.check_visible(v)
            return
        lo, hi = torch.aminmax(v.detach())
        pending = getattr(self, "_pending_range", None)
        if pending is None:
            self._pending_range, self._pending_batches = [lo.clone(), hi.clone()], 0
        else:  # NaN propagates through minimum and maximum, so it is not lost
            torch.minimum(pending[0], lo, out=pending[0])
            torch.maximum(pending[1], hi, out=pending[1])
        self._pending_batches += 1
        if self._pending_batches >= self.DEFERRED_CHECK_EVERY:
            self.flush_visible_check()

    def flush_visible_check(self) -> None:
        """Check the range that deferred batch checks have gathered (see :meth:`_check_batch`)."""
        pending, self._pending_range = getattr(self, "_pending_range", None), None
        if pending is not None:
            self.check_visible(torch.stack(pending).unsqueeze(0))

    def train(self, mode: bool = True) -> RBM:
        """``nn.Module.train``; leaving training mode first checks the batches a deferred check has not read."""
        if not mode:
            self.flush_visible_check()
        return super().train(mode)

    def _std(self) -> torch.Tensor | None:
        return None  # Bernoulli visible units; Gaussian ones return their standard deviations

    # -- the hidden side, shared --------------------------------------------------------

    def _generator(self, device: torch.device) -> torch.Generator | None:
        if self.generator is not None and self.generator.device.type != device.type:
            raise ValueError(
                f"the RBM's generator is on {self.generator.device} but its weights are on {device}; "
                "give a torch.Generator on the weights' device"
            )
        return self.generator

    def _rows(self, v: torch.Tensor) -> torch.Tensor:
        """``v`` as ``(N, n_visible)`` rows (images are flattened), in the weights' dtype."""
        if v.dim() >= 2 and v.shape[1:].numel() == self.n_visible:
            return v.reshape(len(v), self.n_visible).to(self.weight.dtype)
        raise DataError(
            f"{type(self).__name__} with {self.n_visible} visible units got inputs of shape "
            f"{tuple(v.shape)}; expected (N, {self.n_visible}) or images of {self.n_visible} pixels"
        )

    def hidden_probabilities(self, v: torch.Tensor) -> torch.Tensor:
        """``p(h = 1 | v)``. Shape: ``(N, n_v) -> (N, n_h)``."""
        v = self._rows(v)
        std = self._std()
        return torch.sigmoid(hidden_logits(v if std is None else v / std, self.weight, self.hidden_bias))

    def transform(self, v: torch.Tensor) -> torch.Tensor:
        """The features an RBM gives the layer above: the hidden probabilities ``p(h = 1 | v)``."""
        return self.hidden_probabilities(v)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        """:meth:`transform`, so an RBM is a feature layer inside ``nn.Sequential``."""
        return self.transform(v)

    # -- training -------------------------------------------------------------------------------------------

    def cd_statistics(self, v: torch.Tensor, *, generator: torch.Generator | None = None) -> CDStatistics:
        """The data and model statistics of one CD-k / PCD update on the batch ``v`` (see :func:`cd_statistics`)."""
        generator = generator if generator is not None else self._generator(self.weight.device)
        return cd_statistics(
            v,
            self.weight,
            self.visible_bias.detach(),
            self.hidden_bias.detach(),
            k=self.k,
            std=None if self._std() is None else self._std().detach(),
            start=self.persistent_chain,
            mean_field=self.reconstruction == "probabilities",
            softmax_units=self.softmax_units,
            generator=generator,
        )

    def _update_buffers(self, stats: CDStatistics) -> torch.Tensor | None:
        """Advance the persistent chains and the running hidden activity; return the sparsity term's delta."""
        if self.persistent_chain is not None:
            self.persistent_chain.copy_(stats.chain)
        if self.hidden_activity is None:
            return None
        with torch.no_grad():
            self.hidden_activity.mul_(self.sparsity_decay).add_(
                stats.h_data.mean(0).to(self.hidden_activity.dtype), alpha=1 - self.sparsity_decay
            )
        return sparsity_delta(self.hidden_activity, self.sparsity_target, self.sparsity_cost)

    def training_loss(self, batch: Any) -> torch.Tensor:
        """The CD-k / PCD surrogate of the batch ``(v, y)`` (``y`` unused): its gradient is the negated update
        ``<v h>_data - <v h>_model`` (plus sparsity and weight decay), its value the free-energy gap
        ``mean F(v_data) - mean F(v_model)``."""
        v = batch[0] if isinstance(batch, (tuple, list)) else batch
        self.data_shape = tuple(v.shape[1:])
        v = self._rows(v)
        self._check_batch(v)
        stats = self.cd_statistics(v)
        delta = self._update_buffers(stats) if self.training else None
        if self.training:
            self._add_reconstruction_error(stats)
        return cd_surrogate(
            stats, self.weight, self.visible_bias, self.hidden_bias, delta=delta, weight_decay=self.weight_decay
        )

    @torch.no_grad()
    def _add_reconstruction_error(self, stats: CDStatistics) -> None:
        """Add the batch's summed mean-field reconstruction error to the epoch's sum (kept on the device)."""
        error = (stats.v_data - self.visible_mean(stats.h_data.to(stats.v_data.dtype))).pow(2).sum()
        total, count = getattr(self, "_recon_sums", (None, 0))
        self._recon_sums = (error if total is None else total + error, count + len(stats.v_data))

    def epoch_logs(self) -> dict[str, float]:
        """``{"recon_error": ...}`` over the training batches since the last call (the trainer calls it after each
        epoch); empty when there were none."""
        total, count = getattr(self, "_recon_sums", (None, 0))
        self._recon_sums = (None, 0)
        return {} if total is None else {"recon_error": float(total) / count}

    @torch.no_grad()
    def validation_metrics(self, batch: Any) -> dict[str, torch.Tensor]:
        """Per-example means for monitoring: ``recon_error`` (squared error of the mean-field reconstruction,
        summed over visible units) and ``free_energy``."""
        v = self._rows(batch[0] if isinstance(batch, (tuple, list)) else batch)
        return {
            "recon_error": (v - self.reconstruct(v)).pow(2).sum(-1).mean(),
            "free_energy": self.free_energy(v).mean(),
        }

    def extra_repr(self) -> str:
        chains = f", persistent_chains={len(self.persistent_chain)}" if self.persistent_chain is not None else ""
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}, k={self.k}{chains}"
