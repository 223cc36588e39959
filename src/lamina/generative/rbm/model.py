"""Restricted Boltzmann machines with binary hidden units: the shared base class and the Bernoulli RBM.

The classes hold parameters, persistent chains and running statistics; the math is in
:mod:`lamina.generative.rbm.functions` and :mod:`lamina.generative.rbm.contrastive_divergence`. Training is a
``training_loss(batch)`` whose gradient is the CD-k / PCD update, so the ordinary :class:`~lamina.Trainer` (any
torch optimizer, momentum, learning-rate schedules, AMP, DDP) trains an RBM like any other model.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import torch
from torch import nn

from lamina.config.component import Bounds, Choices, validated
from lamina.errors import DataError
from lamina.generative.rbm.contrastive_divergence import CDStatistics, cd_statistics, cd_surrogate, sparsity_delta
from lamina.generative.rbm.functions import (
    bernoulli_energy,
    bernoulli_free_energy,
    bernoulli_visible_mean,
    hidden_logits,
    sample_bernoulli,
    sample_bernoulli_visible,
    visible_logits,
)
from lamina.generative.rbm.partition import pseudo_log_likelihood
from lamina.pretrain.greedy import GreedyLayer

__all__ = ["RBM", "BernoulliRBM"]

_RECONSTRUCTIONS = ("probabilities", "samples")


class RBM(GreedyLayer):
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

    def _initial_visible(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        """Starting states of fresh Gibbs chains (the model with ``W = 0``)."""
        return self.sample_visible(self.weight.new_zeros(n, self.n_hidden), generator)

    # -- the hidden side and the Gibbs chain, shared --------------------------------------------------------

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

    def sample_hidden(self, v: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Binary hidden states drawn from ``p(h | v)``."""
        return sample_bernoulli(self.hidden_probabilities(v), generator)

    @torch.no_grad()
    def gibbs(self, v: torch.Tensor, k: int = 1, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """``k`` full Gibbs steps ``v -> h ~ p(h|v) -> v ~ p(v|h)``; returns the last visible sample."""
        v = self._rows(v)
        for _ in range(k):
            v = self.sample_visible(self.sample_hidden(v, generator), generator)
        return v

    @torch.no_grad()
    def sample(
        self,
        n: int,
        steps: int = 1000,
        *,
        generator: torch.Generator | None = None,
        init: torch.Tensor | None = None,
        mean: bool = True,
        shape: tuple[int, ...] | str | None = None,
    ) -> torch.Tensor:
        """``n`` fantasies: Gibbs chains started from ``init`` (default: the model with ``W = 0``) run for
        ``steps`` steps. Returns the last visible means ``E[v | h]`` (``mean=True``, what papers show) or samples,
        as ``(n, n_visible)`` rows, or ``(n, *shape)``: ``shape="data"`` is the training examples' shape
        (:attr:`data_shape`; ``rbm.sample(16, shape="data")`` after training on ``(N, 1, 28, 28)`` images gives
        ``(16, 1, 28, 28)``)."""
        if isinstance(shape, str):
            if shape != "data":
                raise ValueError(f"`shape` must be a tuple of ints, 'data' or None, got {shape!r}")
            if self.data_shape is None:
                raise ValueError("shape='data': this RBM has not been trained yet, so it knows no data shape")
            shape = self.data_shape
        if shape is not None and math.prod(shape) != self.n_visible:
            raise ValueError(
                f"`shape` {tuple(shape)} holds {math.prod(shape)} values, not the {self.n_visible} visible units"
            )
        generator = generator if generator is not None else self._generator(self.weight.device)
        v = self._initial_visible(n, generator) if init is None else self._rows(init)
        for _ in range(max(steps - 1, 0)):
            v = self.sample_visible(self.sample_hidden(v, generator), generator)
        h = self.sample_hidden(v, generator)
        out = self.visible_mean(h) if mean else self.sample_visible(h, generator)
        return out if shape is None else out.reshape(len(out), *shape)

    @torch.no_grad()
    def reconstruct(
        self, v: torch.Tensor, *, sample_hidden: bool = False, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``E[v | h]`` with ``h = p(h | v)`` (mean field) or ``h ~ p(h | v)`` (``sample_hidden``)."""
        h = self.sample_hidden(v, generator) if sample_hidden else self.hidden_probabilities(v)
        return self.visible_mean(h)

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


class BernoulliRBM(RBM):
    """Restricted Boltzmann machine with binary visible and hidden units (Smolensky, 1986; Hinton, 2002).

    ``E(v, h) = -b.v - c.h - h.W v``; ``p(h_j = 1 | v) = sigmoid(c_j + W_j v)``;
    ``p(v_i = 1 | h) = sigmoid(b_i + h.W_i)``; free energy ``F(v) = -b.v - sum_j softplus(c_j + W_j v)``. Data may
    be binary or probabilities in ``[0, 1]`` (pixel intensities, or the hidden probabilities of the layer below in a
    DBN); log-likelihoods need binary data.

    Args:
        softmax_units: the last ``softmax_units`` visible units form one softmax group, a one-of-K label (the top
            RBM of a deep belief net, Hinton, Osindero & Teh, 2006); 0: none.
        others: see :class:`RBM`.

    Shape:
        ``(N, n_visible)`` (or ``(N, *image)`` with ``n_visible`` pixels) ``-> (N, n_hidden)`` for ``forward``.

    Data-parallel training: wrap a module whose ``forward`` returns ``training_loss`` in
    ``DistributedDataParallel``; with persistent chains pass ``broadcast_buffers=False`` so each rank keeps its own.

    Example:
        >>> rbm = BernoulliRBM(784, 500, k=1)
        >>> Trainer(rbm, optimizer={"type": "sgd", "lr": 0.05, "momentum": 0.9}, epochs=10).fit(binary_mnist)
        >>> rbm.sample(16, steps=1000).shape
        torch.Size([16, 784])

    References:
        Hinton, G. E. (2002). Training products of experts by minimizing contrastive divergence. Neural Computation.
        Tieleman, T. (2008). Training restricted Boltzmann machines using approximations to the likelihood
        gradient. ICML.
        Hinton, G. E. (2010). A practical guide to training restricted Boltzmann machines. UTML TR 2010-003.
    """

    family = "bernoulli"

    @validated
    def __init__(
        self,
        n_visible: Annotated[int, Bounds(ge=1)],
        n_hidden: Annotated[int, Bounds(ge=1)],
        *,
        softmax_units: Annotated[int, Bounds(ge=0)] = 0,
        **options: Any,
    ) -> None:
        if softmax_units >= n_visible:
            raise ValueError(
                f"Invalid {type(self).__name__}: softmax_units: must be < n_visible ({n_visible}), got {softmax_units}"
            )
        self.softmax_units = softmax_units
        super().__init__(n_visible, n_hidden, **options)

    def visible_mean(self, h: torch.Tensor) -> torch.Tensor:
        """``p(v = 1 | h) = sigmoid(b + h W)`` (a softmax over the label group, if any).
        Shape: ``(N, n_h) -> (N, n_v)``."""
        return bernoulli_visible_mean(
            visible_logits(h.to(self.weight.dtype), self.weight, self.visible_bias), self.softmax_units
        )

    def sample_visible(self, h: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Binary visible states drawn from ``p(v | h)`` (one-hot in the label group, if any).
        Shape: ``(N, n_h) -> (N, n_v)``."""
        return sample_bernoulli_visible(self.visible_mean(h), self.softmax_units, generator)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """``F(v) = -b.v - sum_j softplus(c_j + W_j v)``. Shape: ``(N, n_v) -> (N,)``."""
        return bernoulli_free_energy(self._rows(v), self.weight, self.visible_bias, self.hidden_bias)

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``E(v, h) = -b.v - c.h - h.W v``. Shape: ``(N, n_v), (N, n_h) -> (N,)``."""
        return bernoulli_energy(
            self._rows(v), h.to(self.weight.dtype), self.weight, self.visible_bias, self.hidden_bias
        )

    def check_visible(self, v: torch.Tensor, *, binary: bool = False) -> None:
        """Bernoulli units model values in ``[0, 1]`` (``binary``: exactly 0 or 1, as a likelihood needs)."""
        lo, hi = (float(x) for x in torch.stack(torch.aminmax(v.detach())).tolist())
        bad = not (lo >= 0 and hi <= 1)  # also true for NaN
        if not bad and binary:
            bad = bool(((v != 0) & (v != 1)).any())
        if bad:
            what = "binary (0 or 1)" if binary else "binary (0 or 1) or probabilities in [0, 1]"
            got = "NaN values" if lo != lo or hi != hi else f"values in [{lo:.4g}, {hi:.4g}]"
            raise DataError(
                f"{type(self).__name__}: visible data must be {what}; got {got}. Binarize it "
                '([data] scale = "binarize", or (x > 0.5).float()) or, for real-valued data, use '
                'GaussianBernoulliRBM (method = "gaussian_rbm").'
            )

    def init_visible_bias(self, data: torch.Tensor, *, eps: float = 1e-3) -> None:
        """Set ``b_i = log(p_i / (1 - p_i))`` with ``p_i`` the fraction of examples where unit ``i`` is on, clipped
        to ``[eps, 1 - eps]`` (Hinton, 2010, sec. 8), and restart the persistent chains from that model."""
        with torch.no_grad():
            self.visible_bias.copy_(torch.logit(self._rows(data).mean(0), eps=eps))
            if self.persistent_chain is not None:
                self.persistent_chain.copy_(self._initial_visible(len(self.persistent_chain), None))

    @torch.no_grad()
    def validation_metrics(self, batch: Any) -> dict[str, torch.Tensor]:
        """:meth:`RBM.validation_metrics` plus ``pseudo_log_likelihood`` (one random unit per example flipped,
        as scikit-learn's ``score_samples``)."""
        v = self._rows(batch[0] if isinstance(batch, (tuple, list)) else batch)
        metrics = super().validation_metrics((v, None))
        metrics["pseudo_log_likelihood"] = pseudo_log_likelihood(self, v).mean()
        return metrics
