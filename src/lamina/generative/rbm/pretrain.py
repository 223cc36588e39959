"""``[pretrain] method = "rbm"`` and ``"gaussian_rbm"``: greedy layer-wise pretraining with stacked RBMs
(Hinton, Osindero & Teh, 2006; Hinton & Salakhutdinov, 2006), through the shared driver
:func:`~lamina.pretrain.pretrain_layerwise`.

Each hidden sigmoid layer becomes an RBM's hidden layer: ``p(h = 1 | v) = sigmoid(W v + c)`` *is* the layer's
forward pass, so the RBM's ``W`` and ``c`` are copied into the layer as they are. The RBM's options are its
constructor's keyword arguments, with the same names and defaults (``k``, ``persistent_chains``, ``weight_decay =
0``...); ``preset = "hinton_salakhutdinov_2006"`` gives the settings of Hinton & Salakhutdinov's code (learning rate
0.1, momentum 0.5 then 0.9 from epoch 5, weight cost 0.0002, CD-1, batch size 100).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch

from lamina.config.component import spec_base
from lamina.config.fields import choice, count, number
from lamina.generative.rbm.callbacks import MomentumSchedule, RBMMonitor
from lamina.generative.rbm.gaussian import GaussianBernoulliRBM
from lamina.generative.rbm.model import RBM, BernoulliRBM
from lamina.generative.up_down import down_pass
from lamina.pretrain.greedy import GreedyLayer, LayerwisePretrainSpec, PretrainedLayer, _inputs, pretrain_layerwise
from lamina.registry import register

__all__ = ["RBMPretrainSpec", "GaussianRBMPretrainSpec", "HINTON_SALAKHUTDINOV_2006"]

# the settings of Hinton & Salakhutdinov's code (rbm.m, 2006) beside the constructor defaults they share (CD-1)
HINTON_SALAKHUTDINOV_2006: dict[str, Any] = {
    "weight_decay": 0.0002,
    "batch_size": 100,
    "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.5},
    "final_momentum": 0.9,
    "momentum_switch_epoch": 5,
}

RBM_PRESETS = {"hinton_salakhutdinov_2006": HINTON_SALAKHUTDINOV_2006}

# the constructor's inputs that the layer-wise driver supplies, not the experiment file
_BUILT_BY_THE_DRIVER = ("n_visible", "n_hidden", "generator", "device", "dtype")


@register("pretrain", "rbm")
class RBMPretrainSpec(spec_base(BernoulliRBM, LayerwisePretrainSpec, exclude=(*_BUILT_BY_THE_DRIVER, "softmax_units"))):
    """Stacked Bernoulli RBMs, one per hidden sigmoid layer.

    Its options beside ``epochs``, ``batch_size``, ``optimizer``, ``schedule``, ``seed`` and ``layers``:

    Args:
        k, persistent_chains, reconstruction, weight_decay, sparsity_target, sparsity_cost, sparsity_decay, init_std:
            :class:`~lamina.generative.BernoulliRBM`'s options, with its defaults (CD-1, no persistent chains, no
            weight cost, no sparsity penalty, weights ``N(0, 0.01^2)``).
        preset: ``"hinton_salakhutdinov_2006"``: the settings of Hinton & Salakhutdinov's code (weight cost 0.0002,
            SGD at 0.1 with momentum 0.5 then 0.9 from epoch 5, batch size 100) for the keys the table leaves out.
        final_momentum, momentum_switch_epoch: SGD's momentum becomes ``final_momentum`` at that epoch (``None``:
            keep the optimizer's).
        visible_bias_init: ``data`` (``log(p / (1 - p))`` of each input's mean, Hinton 2010 sec. 8) or ``zero``.
        propagate: the next RBM's training data: this layer's hidden ``probabilities``, or binary ``samples``
            drawn from them once.
        monitor_examples: training examples on which reconstruction error and pseudo-likelihood are logged
            each epoch (0: none).
        ais_every, ais_runs, ais_betas: also log the AIS log-likelihood of those examples every ``ais_every``
            epochs (0: never; binary data only, so in practice the first layer).
        plots: write filters, reconstructions and samples of the stack to the run's ``plots/``.
    """

    compatible_activations: ClassVar[tuple[str, ...]] = ("sigmoid",)
    why_incompatible: ClassVar[str] = (
        "an RBM's hidden units are binary, with p(h = 1 | v) = sigmoid(W v + c), so "
        "only a sigmoid layer computes what the RBM learned (rectified units would "
        "need noisy-ReLU RBMs, Nair & Hinton 2010, which lamina does not provide)."
    )
    visible_units: ClassVar[str] = "bernoulli"

    renamed_keys: ClassVar[dict[str, str]] = {
        "cd_k": "'k' (BernoulliRBM's name)",
        "persistent": "'persistent_chains', the number of persistent chains (e.g. the batch size; 0: plain CD-k)",
    }
    presets: ClassVar[dict[str, dict[str, Any]]] = RBM_PRESETS

    preset: choice(*RBM_PRESETS) | None = None
    final_momentum: number(0, 1, hi_open=True) | None = 0.9
    momentum_switch_epoch: count(0) = 5
    visible_bias_init: choice("data", "zero") = "data"
    propagate: choice("probabilities", "samples") = "probabilities"
    monitor_examples: count(0) = 1000
    ais_every: count(0) = 0
    ais_runs: count() = 100
    ais_betas: count(3) = 10000
    plots: bool = True

    def build_module(self, n_visible: int, n_hidden: int, activation: str) -> GreedyLayer:
        """A :class:`~lamina.generative.BernoulliRBM` of ``n_visible`` visible and ``n_hidden`` hidden units."""
        return BernoulliRBM(n_visible, n_hidden, **self.options())

    def build_labelled_module(self, n_visible: int, n_labels: int, n_hidden: int, activation: str) -> GreedyLayer:
        """A :class:`~lamina.generative.BernoulliRBM` whose last ``n_labels`` visible units are one softmax group."""
        return BernoulliRBM(n_visible + n_labels, n_hidden, softmax_units=n_labels, **self.options())

    def prepare_module(self, module: GreedyLayer, inputs: torch.Tensor) -> None:
        """Refuse inputs the RBM's visible units cannot model, and (``visible_bias_init = "data"``) set the visible
        biases from the inputs' statistics."""
        module.check_visible(module._rows(inputs))  # bad data is refused before any training, with advice
        if self.visible_bias_init == "data":
            module.init_visible_bias(inputs)

    def layer_callbacks(self, module: GreedyLayer, inputs: torch.Tensor, index: int) -> list:
        """An :class:`~lamina.generative.RBMMonitor` on the first ``monitor_examples`` inputs and a
        :class:`~lamina.generative.MomentumSchedule`, where enabled."""
        callbacks: list = []
        if self.monitor_examples:
            callbacks.append(
                RBMMonitor(
                    inputs[: self.monitor_examples],
                    ais_every=self.ais_every,
                    ais_runs=self.ais_runs,
                    ais_betas=self.ais_betas,
                )
            )
        if self.final_momentum is not None:
            callbacks.append(MomentumSchedule(self.final_momentum, self.momentum_switch_epoch))
        return callbacks

    def next_inputs(self, activations: torch.Tensor, index: int, generator: torch.Generator) -> torch.Tensor:
        """The hidden probabilities, or (``propagate = "samples"``) binary states drawn from them with
        ``generator``."""
        if self.propagate == "probabilities":
            return activations
        u = torch.rand(activations.shape, generator=generator, device=activations.device, dtype=activations.dtype)
        return (u < activations).to(activations.dtype)

    def pretrain(
        self, model: torch.nn.Module, data: Any, *, device: Any, seed: int | None, folder: Path | None = None
    ) -> dict[str, Any]:
        """Run :func:`pretrain_layerwise` with these options; return a per-layer summary, with the paths of the
        stack's figures when ``plots`` and a ``folder`` are given."""
        records = pretrain_layerwise(
            model, data, self, device=device, seed=self.seed if self.seed is not None else seed, folder=folder
        )
        summary = {"method": self.type_name, "layers": [p.summary() for p in records]}
        if self.plots and folder is not None and records:
            summary["figures"] = [str(p) for p in write_stack_figures(records, data, Path(folder).parent / "plots")]
        return summary


@register("pretrain", "gaussian_rbm")
class GaussianRBMPretrainSpec(RBMPretrainSpec):
    """Stacked RBMs for real-valued inputs: a Gaussian-Bernoulli RBM under the first hidden layer, Bernoulli RBMs
    above it (Hinton & Salakhutdinov, 2006). Standardise the inputs (``[data] scale = "standard"``) unless
    ``learn_std``.

    Its options beside those of ``rbm``:

    Args:
        learn_std: learn the visible units' standard deviations.
        gaussian_lr_scale: the first layer's learning rate is the optimizer's times this (Hinton & Salakhutdinov
            used 0.001 for the Gaussian layer against 0.1 for the binary ones); a per-layer ``optimizer`` in
            ``layers[0]`` overrides it.
    """

    visible_units: ClassVar[str] = "gaussian"
    target_class: ClassVar[type] = GaussianBernoulliRBM

    learn_std: bool = False  # GaussianBernoulliRBM's option, with its default
    gaussian_lr_scale: number(0, 1, lo_open=True) = 0.01

    _layer: int | None = None  # which layer this copy of the options is for (set by for_layer)

    def for_layer(self, index: int) -> GaussianRBMPretrainSpec:
        """These options with layer ``index``'s overrides applied; layer 0's learning rate is scaled by
        ``gaussian_lr_scale`` unless its overrides give an optimizer."""
        spec = super().for_layer(index).model_copy()
        spec._name, spec._layer = self._name, index
        if index == 0 and "optimizer" not in (self.layers[0] if self.layers else {}):
            scaled = spec.optimizer.model_copy(update={"lr": spec.optimizer.lr * self.gaussian_lr_scale})
            scaled._name = spec.optimizer._name
            spec.optimizer = scaled
        return spec

    def build_module(self, n_visible: int, n_hidden: int, activation: str) -> GreedyLayer:
        """A :class:`~lamina.generative.GaussianBernoulliRBM` for the first layer, a
        :class:`~lamina.generative.BernoulliRBM` above it."""
        if self._layer == 0:
            return GaussianBernoulliRBM(n_visible, n_hidden, **self.options())
        options = self.options()
        del options["learn_std"]  # Bernoulli visible units above the first layer have no standard deviations
        return BernoulliRBM(n_visible, n_hidden, **options)


def write_stack_figures(
    records: list[PretrainedLayer],
    data: Any,
    folder: Path,
    *,
    n_samples: int = 64,
    gibbs_steps: int = 1000,
    seed: int = 0,
) -> list[Path]:
    """First-layer filters, first-layer reconstructions, and samples of the stack as a deep belief net (Gibbs in
    the top RBM, then one down pass), when the inputs are images (or square vectors)."""
    from lamina.generative.rbm.plots import image_shape_of, plot_filters, plot_images, plot_reconstructions

    first = records[0].module
    x = _inputs(data)
    shape = image_shape_of(first.n_visible, tuple(x.shape[1:]))
    if shape is None or not isinstance(first, RBM):
        return []
    device = first.weight.device
    generator = torch.Generator(device).manual_seed(seed)
    paths = [plot_filters(first.weight, shape, folder / "rbm_filters.png")]
    examples = first._rows(x[:20].to(device))
    paths.append(
        plot_reconstructions(
            examples,
            first.reconstruct(examples),
            shape,
            folder / "rbm_reconstructions.png",
            title="first RBM's reconstructions",
        )
    )
    rbms = [r.module for r in records]
    if all(isinstance(r, RBM) for r in rbms) and all(a.n_hidden == b.n_visible for a, b in zip(rbms, rbms[1:])):
        top = rbms[-1].sample(n_samples, gibbs_steps, generator=generator, mean=False)
        samples = down_pass(rbms[:-1], top, generator=generator)
        paths.append(
            plot_images(
                samples,
                shape,
                folder / "rbm_samples.png",
                title=f"samples of the pretrained stack\n({gibbs_steps} Gibbs steps in the top RBM, then a down pass)",
            )
        )
    return paths
