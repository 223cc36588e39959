"""Deep belief nets (Hinton, Osindero & Teh, 2006): a top RBM (an undirected associative memory, optionally joined
to a softmax label) over a stack of directed sigmoid belief layers.

* **Greedy pretraining** (:meth:`DBN.pretrain`): each RBM learns from the hidden probabilities (or samples) of the
  one below, through the shared driver :func:`~lamina.pretrain.pretrain_layerwise`; the top RBM also sees the
  label when ``n_labels > 0``.
* **Generation** (:meth:`DBN.sample`): Gibbs sampling in the top RBM (label clamped if given), then one down pass.
* **Fine-tuning**: either generatively with the up-down algorithm (``training_loss``, so the ordinary trainer runs
  it; :mod:`lamina.generative.up_down`), or discriminatively by backprop after :meth:`DBN.to_classifier`
  (Hinton & Salakhutdinov, 2006).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from lamina.errors import ConfigError, DataError, ShapeError
from lamina.generative.rbm.functions import sample_bernoulli
from lamina.generative.rbm.model import RBM, BernoulliRBM
from lamina.generative.rbm.pretrain import GaussianRBMPretrainSpec, RBMPretrainSpec
from lamina.generative.up_down import down_pass, up_down_surrogate  # down_pass: re-exported, its home was here
from lamina.pretrain.greedy import LayerwisePretrainSpec, pretrain_layerwise
from lamina.registry import resolve
from lamina.train.rng import resolve_device

__all__ = ["DBN", "down_pass", "check_stack"]


def check_stack(rbms: Sequence[RBM]) -> None:
    """Raise :class:`~lamina.errors.ShapeError` unless each RBM's visible layer is the hidden layer below it."""
    for i, (below, above) in enumerate(zip(rbms, rbms[1:])):
        expected = below.n_hidden + getattr(above, "softmax_units", 0)
        if above.n_visible != expected:
            raise ShapeError(
                f"RBM {i + 1} of the stack has {above.n_visible} visible units but RBM {i} below it has "
                f"{below.n_hidden} hidden units; each RBM's visible layer must be the hidden layer below"
            )


class DBN(nn.Module):
    """A deep belief net with layer sizes ``sizes = [n_visible, n_1, ..., n_L]``: directed sigmoid layers
    ``n_0 .. n_{L-1}`` under a top RBM between ``n_{L-1}`` (+ ``n_labels`` softmax label units) and ``n_L``.

    Args:
        sizes: at least two layer sizes, the data's first.
        n_labels: classes joined to the top RBM's visible layer (Hinton et al.'s 10 label units); 0: unlabelled.
        k: Gibbs steps in the top RBM during up-down fine-tuning.
        generator: the source of training-time randomness (``None``: torch's global generator).

    Attributes:
        recognition: ``nn.ModuleList`` of the up layers ``nn.Linear(n_l, n_{l+1})``.
        generative: ``nn.ModuleList`` of the down layers ``nn.Linear(n_{l+1}, n_l)``.
        top: the top :class:`~lamina.generative.BernoulliRBM`.

    Example:
        >>> dbn = DBN([784, 500, 500, 2000], n_labels=10)
        >>> dbn.pretrain(x, y, method={"method": "rbm", "epochs": 10})
        >>> Trainer(dbn, optimizer={"type": "sgd", "lr": 0.01}, epochs=10).fit(ArrayDataset(x, y))  # up-down
        >>> dbn.sample(10, labels=torch.arange(10))

    References:
        Hinton, G. E., Osindero, S. & Teh, Y.-W. (2006). A fast learning algorithm for deep belief nets. Neural
        Computation 18(7). Hinton, G. E. & Salakhutdinov, R. R. (2006). Reducing the dimensionality of data with
        neural networks. Science 313.
    """

    def __init__(
        self, sizes: Sequence[int], *, n_labels: int = 0, k: int = 3, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        sizes = list(sizes)
        if len(sizes) < 2 or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in sizes):
            raise ValueError(f"`sizes` must be at least two positive layer sizes, got {sizes!r}")
        if isinstance(n_labels, bool) or not isinstance(n_labels, int) or n_labels < 0 or n_labels == 1:
            raise ValueError(f"`n_labels` must be 0 or an integer >= 2, got {n_labels!r}")
        self.sizes, self.n_labels, self.k, self.generator = sizes, n_labels, k, generator
        self.recognition = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-2], sizes[1:-1]))
        self.generative = nn.ModuleList(nn.Linear(b, a) for a, b in zip(sizes[:-2], sizes[1:-1]))
        self.top = BernoulliRBM(sizes[-2] + n_labels, sizes[-1], softmax_units=n_labels)

    # -- building from RBMs ---------------------------------------------------------------------------------

    def load_rbms(self, rbms: Sequence[RBM]) -> None:
        """Tie the net to a trained stack: recognition ``(W, c)`` and generative ``(W^T, b)`` of each lower RBM,
        and the top RBM's parameters."""
        check_stack(rbms)
        sizes = [rbms[0].n_visible] + [r.n_hidden for r in rbms]
        if len(rbms) != len(self.sizes) - 1 or sizes != self.sizes:
            raise ShapeError(
                f"a DBN of sizes {self.sizes} needs {len(self.sizes) - 1} RBMs of those sizes, got "
                f"RBMs of sizes {sizes}"
            )
        with torch.no_grad():
            for rbm, up, down in zip(rbms[:-1], self.recognition, self.generative):
                up.weight.copy_(rbm.weight)
                up.bias.copy_(rbm.hidden_bias)
                down.weight.copy_(rbm.weight.t())
                down.bias.copy_(rbm.visible_bias)
            for name in ("weight", "visible_bias", "hidden_bias"):
                getattr(self.top, name).copy_(getattr(rbms[-1], name))

    def _stack(self, sizes: Sequence[int]) -> nn.Sequential:
        return nn.Sequential(
            OrderedDict(
                (f"dense_{i}", nn.Sequential(OrderedDict(linear=nn.Linear(a, b), activation=nn.Sigmoid())))
                for i, (a, b) in enumerate(zip(sizes, sizes[1:]))
            )
        )

    def pretrain(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None = None,
        *,
        method: Any = "rbm",
        device: Any = "auto",
        seed: int | None = 0,
        callbacks: list | None = None,
    ) -> list:
        """Greedy layer-wise pretraining: each RBM on the layer below's hidden probabilities (or samples, with
        ``propagate = "samples"``), the top one on ``[h_{L-1}, one-hot(y)]`` when the net has labels.

        Args:
            x: ``(N, n_0)`` training inputs (or images of ``n_0`` pixels).
            y: ``(N,)`` class indices, needed when ``n_labels > 0``.
            method: the ``[pretrain]`` method (``"rbm"``, a table, or an ``RBMPretrainSpec``).
            device, seed, callbacks: as for :func:`~lamina.pretrain.pretrain_layerwise`.

        Returns:
            The :class:`~lamina.pretrain.PretrainedLayer` records, bottom to top.
        """
        spec = method if isinstance(method, LayerwisePretrainSpec) else resolve("pretrain", method, path="pretrain")
        if not isinstance(spec, RBMPretrainSpec) or isinstance(spec, GaussianRBMPretrainSpec):
            raise ConfigError(
                f"pretrain.method: a DBN of binary units is pretrained with method 'rbm', got {spec.type_name!r}"
            )
        device = resolve_device(device)
        x = x.reshape(len(x), -1)
        records = pretrain_layerwise(
            self._stack(self.sizes),
            x,
            spec,
            device=device,
            seed=seed,
            callbacks=callbacks,
            include_last=True,
            labels=self._one_hot(y, len(x)),
        )
        self.to(device)
        self.load_rbms([r.module for r in records])
        return records

    # -- inference ------------------------------------------------------------------------------------------

    def _one_hot(self, y: torch.Tensor | None, n: int) -> torch.Tensor | None:
        if not self.n_labels:
            return None
        if y is None:
            raise DataError(f"this DBN has {self.n_labels} label units: give the labels y")
        y = torch.as_tensor(y)
        if y.shape != (n,) or y.dtype.is_floating_point or int(y.min()) < 0 or int(y.max()) >= self.n_labels:
            raise DataError(
                f"labels must be {n} class indices in [0, {self.n_labels}), got shape {tuple(y.shape)} "
                f"and dtype {y.dtype}"
            )
        return F.one_hot(y.long(), self.n_labels).float()

    def up(self, x: torch.Tensor) -> torch.Tensor:
        """The recognition (mean-field) pass to the top RBM's visible layer ``h_{L-1}``. Shape: ``-> (N, n_{L-1})``."""
        h = x.reshape(len(x), -1).to(self.top.weight.dtype)
        for layer in self.recognition:
            h = torch.sigmoid(layer(h))
        return h

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """Features: the top hidden probabilities given the up pass (for a labelled net, with the label units off,
        so prefer :meth:`up` or :meth:`predict_proba` there). Shape: ``-> (N, n_L)``."""
        h = self.up(x)
        if self.n_labels:
            h = torch.cat([h, h.new_zeros(len(h), self.n_labels)], 1)
        return self.top.hidden_probabilities(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`transform`."""
        return self.transform(x)

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """``p(y | x) ∝ exp(-F_top([up(x), e_y]))``: the top RBM's free energy with each label clamped
        (Hinton et al., 2006, sec. 6). Shape: ``-> (N, n_labels)``."""
        if not self.n_labels:
            raise ValueError("predict_proba needs a DBN with label units (n_labels > 0)")
        h = self.up(x)
        top, n_h = self.top, h.shape[1]
        w_pen, w_lab = top.weight[:, :n_h], top.weight[:, n_h:]  # (n_top, n_pen), (n_top, K)
        base = torch.addmm(top.hidden_bias, h, w_pen.t())  # (N, n_top)
        # -F([h, e_y]) up to terms equal for every y: b_y + sum_j softplus(base_j + W_jy)
        scores = top.visible_bias[n_h:] + F.softplus(base[:, None, :] + w_lab.t()[None]).sum(-1)  # (N, K)
        return torch.softmax(scores, -1)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The most probable class under :meth:`predict_proba`."""
        return self.predict_proba(x).argmax(-1)

    @torch.no_grad()
    def sample(
        self, n: int, steps: int = 1000, *, labels: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``n`` samples: ``steps`` Gibbs steps in the top RBM (with ``labels`` clamped), then a down pass through
        the generative weights; the bottom layer's probabilities are returned. Shape: ``-> (n, n_0)``."""
        top = self.top
        clamp = None
        if labels is not None:
            clamp = self._one_hot(torch.as_tensor(labels, device=top.weight.device), n).to(top.weight)
        v = top._initial_visible(n, generator)
        for _ in range(steps):
            if clamp is not None:
                v[:, -self.n_labels :] = clamp
            v = top.sample_visible(top.sample_hidden(v, generator), generator)
        h = v[:, : self.sizes[-2]]
        for i, layer in enumerate(reversed(self.generative)):
            p = torch.sigmoid(layer(h))
            h = p if i == len(self.generative) - 1 else sample_bernoulli(p, generator)
        return h

    # -- fine-tuning ----------------------------------------------------------------------------------------

    def training_loss(self, batch: Any) -> torch.Tensor:
        """The up-down surrogate (:func:`~lamina.generative.up_down.up_down_surrogate`) of the batch ``(x, y)``."""
        x, y = batch
        x = x.reshape(len(x), -1).to(self.top.weight.dtype)
        if x.shape[1] != self.sizes[0]:
            raise ShapeError(f"this DBN has {self.sizes[0]} visible units, got inputs of shape {tuple(x.shape)}")
        return up_down_surrogate(
            x, self._one_hot(y, len(x)), self.recognition, self.generative, self.top, k=self.k, generator=self.generator
        )

    @torch.no_grad()
    def validation_metrics(self, batch: Any) -> dict[str, torch.Tensor]:
        """``recon_error`` of the up-then-down mean-field pass and, with labels, the classification ``error``."""
        x, y = batch
        x = x.reshape(len(x), -1).to(self.top.weight.dtype)
        h = x
        for layer in self.recognition:
            h = torch.sigmoid(layer(h))
        for layer in reversed(self.generative):
            h = torch.sigmoid(layer(h))
        metrics = {"recon_error": (x - h).pow(2).sum(-1).mean()} if len(self.generative) else {}
        if self.n_labels and y is not None:
            metrics["error"] = (self.predict(x) != y).float().mean()
        return metrics

    def to_classifier(self, n_classes: int) -> nn.Sequential:
        """A feed-forward net for backprop fine-tuning: the recognition layers and the top RBM's hidden layer as
        sigmoid dense layers (``dense_0`` ...), then a new linear output layer of ``n_classes`` (Hinton &
        Salakhutdinov, 2006: 784-500-500-2000-10 for MNIST)."""
        sizes = self.sizes + [n_classes]
        net = self._stack(self.sizes)
        with torch.no_grad():
            for up, block in zip(self.recognition, net):
                block.linear.weight.copy_(up.weight)
                block.linear.bias.copy_(up.bias)
            block = net[len(self.recognition)]
            block.linear.weight.copy_(self.top.weight[:, : self.sizes[-2]])
            block.linear.bias.copy_(self.top.hidden_bias)
        net.add_module(f"dense_{len(sizes) - 2}", nn.Linear(sizes[-2], n_classes))
        return net.to(self.top.weight.device)
