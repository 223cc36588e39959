"""Greedy layer-wise pretraining (Hinton, Osindero & Teh, 2006; Bengio, Lamblin, Popovici & Larochelle, 2007).

The procedure of the seeds' pseudocode::

    h = x
    for each hidden dense layer l of the network (all but the output layer):
        train a greedy module (an RBM, or an autoencoder) on h
        copy its encoder weights and hidden biases into layer l
        h = layer_l(h)          # the next module's training set: this layer's activations
    then fine-tune the whole network, supervised

A method is a registered :class:`LayerwisePretrainSpec` (``[pretrain] method = "rbm"``) that builds a
:class:`GreedyLayer` for a layer of ``n_visible`` inputs and ``n_hidden`` units; this module trains and copies
them, and checkpoints between layers so that a killed run resumes at the layer it was on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from pydantic import Field, ValidationError, model_validator
from torch import nn

from lamina.config.fields import component, count, raise_problems
from lamina.config.problems import message_of
from lamina.data.dataset import ArrayDataset
from lamina.errors import ConfigError, ShapeError
from lamina.pretrain.protocol import PretrainSpec
from lamina.registry import resolve
from lamina.train import distributed
from lamina.train.checkpoint import load_checkpoint, save_checkpoint
from lamina.train.rng import resolve_device, seeded
from lamina.train.trainer import Trainer

__all__ = [
    "GreedyLayer",
    "LayerwisePretrainSpec",
    "PretrainedLayer",
    "dense_layers",
    "activation_name",
    "pretrain_layerwise",
]

_ACTIVATION_NAMES = {
    nn.Sigmoid: "sigmoid",
    nn.Tanh: "tanh",
    nn.ReLU: "relu",
    nn.Identity: "identity",
    nn.LeakyReLU: "leaky_relu",
    nn.ELU: "elu",
    nn.SELU: "selu",
    nn.GELU: "gelu",
    nn.Softplus: "softplus",
}


class GreedyLayer(nn.Module):
    """What a greedy module offers the driver: an encoder in ``nn.Linear``'s layout and a training objective.

    Attributes (set by subclasses):
        weight: ``(n_hidden, n_visible)`` encoder weights (an RBM's W).
        hidden_bias: ``(n_hidden,)``.
        visible_bias: ``(n_visible,)``, the decoder's bias (used to unroll a deep autoencoder).
    """

    weight: nn.Parameter
    hidden_bias: nn.Parameter
    visible_bias: nn.Parameter

    def training_loss(self, batch: Any) -> torch.Tensor:
        """The objective the trainer minimises (an RBM's CD surrogate, an autoencoder's reconstruction loss)."""
        raise NotImplementedError

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """The hidden representation of ``x``: ``(N, n_visible) -> (N, n_hidden)``."""
        raise NotImplementedError

    def prepare(self, x: torch.Tensor) -> None:
        """Look at the layer's whole training set before training: check it fits the model (e.g. inputs in [0, 1]
        for a cross-entropy reconstruction) and settle data-dependent choices. Default: nothing."""


def activation_name(module: nn.Module | None) -> str:
    """The registered name of an activation module (``nn.Sigmoid() -> "sigmoid"``; ``None`` -> ``identity``)."""
    if module is None:
        return "identity"
    return _ACTIVATION_NAMES.get(type(module), type(module).__name__.lower())


def dense_layers(model: nn.Module) -> list[tuple[str, nn.Linear, nn.Module | None]]:
    """The dense layers of a stack, in order: ``(child name, the nn.Linear, its activation or None)``."""
    found = []
    for name, child in model.named_children():
        if isinstance(child, nn.Linear):
            found.append((name, child, None))
        elif isinstance(child, nn.Sequential) and len(child) == 2 and isinstance(child[0], nn.Linear):
            found.append((name, child[0], child[1]))
    return found


@dataclass
class PretrainedLayer:
    """The record of one pretrained layer: which, the trained greedy module and what it logged."""

    layer: str
    module: GreedyLayer
    history: list[dict[str, float]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Shape and final logged figures, for the run report."""
        final = self.history[-1] if self.history else {}
        named = getattr(self.module, "objective_name", None) in final
        return {
            "layer": self.layer,
            "n_visible": self.module.weight.shape[1],
            "n_hidden": self.module.weight.shape[0],
            "epochs": len(self.history),
            # an objective the module names (an RBM's free_energy_gap) is not repeated as "loss"
            **{k: v for k, v in final.items() if k not in ("epoch", "time", "lr") and (k != "loss" or not named)},
        }


class LayerwisePretrainSpec(PretrainSpec):
    """Options shared by every greedy method (``[pretrain]``); subclasses add their own and build the module.

    Args:
        epochs, batch_size: training of each greedy module.
        optimizer: by name or table; the default is SGD with momentum 0.5 (Hinton's guide, 2010).
        schedule: learning-rate schedule of each greedy module's training (by name or table), or none.
        seed: of each layer's training (layer ``i`` uses ``seed + i``); default: the experiment's seed.
        layers: per-layer overrides of any option, in order (``layers = [{ epochs = 20 }, { corruption = 0.3 }]``).
    """

    compatible_activations: ClassVar[tuple[str, ...]] = ()  # empty: any activation
    why_incompatible: ClassVar[str] = ""

    epochs: count() = 10
    batch_size: count() = 128
    optimizer: component("optimizer") = Field({"type": "sgd", "lr": 0.1, "momentum": 0.5}, validate_default=True)
    schedule: component("schedule") | None = None
    seed: count(0) | None = None
    layers: list[dict[str, Any]] = []

    @model_validator(mode="after")
    def _check_layer_overrides(self) -> LayerwisePretrainSpec:
        problems = []
        for i in range(len(self.layers)):
            try:
                self.for_layer(i)
            except ValidationError as err:
                problems += [(("layers", i, *e["loc"]), message_of(e)) for e in err.errors()]
        raise_problems("pretrain", problems)
        return self

    def for_layer(self, index: int) -> LayerwisePretrainSpec:
        """These options with layer ``index``'s overrides applied."""
        if index >= len(self.layers) or not self.layers[index]:
            return self
        # the dump also names the method (the registry's key); keep only the options
        base = {k: v for k, v in self.model_dump(exclude={"layers"}).items() if k in type(self).model_fields}
        spec = type(self).model_validate({**base, **self.layers[index]})
        spec._name = self._name
        return spec

    def check_layer(self, layer: str, activation: str) -> None:
        """Refuse a layer this method cannot pretrain (e.g. a Bernoulli RBM under a ReLU layer), saying why."""
        if self.compatible_activations and activation not in self.compatible_activations:
            raise ConfigError(
                f"pretrain.method: {self.type_name} cannot pretrain layer {layer!r} with {activation} units: "
                f"{self.why_incompatible} It fits layers with {' or '.join(self.compatible_activations)} activation."
            )

    def build_module(self, n_visible: int, n_hidden: int, activation: str) -> GreedyLayer:
        """The greedy module for a layer of ``n_visible`` inputs and ``n_hidden`` units with this activation."""
        raise NotImplementedError

    def build_labelled_module(self, n_visible: int, n_labels: int, n_hidden: int, activation: str) -> GreedyLayer:
        """The greedy module of a top layer that learns its ``n_visible`` inputs jointly with ``n_labels`` one-hot
        label units, which follow the inputs (a DBN's top RBM). Default: refused, the method has no label units."""
        raise ConfigError(
            f"pretrain.method: {self.type_name} cannot learn labels beside a layer's inputs; a labelled "
            "top layer is pretrained with method 'rbm'"
        )

    def prepare_module(self, module: GreedyLayer, inputs: torch.Tensor) -> None:
        """Called once the module is built, with its training inputs (e.g. to set an RBM's visible biases from
        the data's statistics). Default: the module's own ``prepare(inputs)`` where it has one (autoencoders
        settle ``loss="auto"`` there)."""
        if hasattr(module, "prepare"):
            module.prepare(inputs)

    def layer_callbacks(self, module: GreedyLayer, inputs: torch.Tensor, index: int) -> list:
        """Extra callbacks for the trainer of layer ``index`` (monitors, momentum schedules). Default: none."""
        return []

    def next_inputs(self, activations: torch.Tensor, index: int, generator: torch.Generator) -> torch.Tensor:
        """The training inputs of the next greedy module, given layer ``index``'s activations of its own inputs.
        Default: the activations (an RBM method may draw binary samples from them instead)."""
        return activations

    def pretrain(
        self, model: nn.Module, data: Any, *, device: Any, seed: int | None, folder: Path | None = None
    ) -> dict[str, Any]:
        """Run :func:`pretrain_layerwise` with these options; return a per-layer summary."""
        layers = pretrain_layerwise(
            model, data, self, device=device, seed=self.seed if self.seed is not None else seed, folder=folder
        )
        return {"method": self.type_name, "layers": [p.summary() for p in layers]}


def _inputs(data: Any) -> torch.Tensor:
    if isinstance(data, ArrayDataset):
        return data.x
    if isinstance(data, torch.Tensor):
        return data
    raise TypeError(f"greedy pretraining needs an ArrayDataset or a tensor of inputs, got {type(data).__name__}")


@torch.no_grad()
def _forward_in_batches(module: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    was = module.training
    module.eval()
    try:
        return torch.cat([module(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    finally:
        module.train(was)


def _resolve_methods(method: Any, count: int) -> list[LayerwisePretrainSpec]:
    def _one(m: Any, path: str) -> LayerwisePretrainSpec:
        spec = m if isinstance(m, LayerwisePretrainSpec) else resolve("pretrain", m, path=path)
        if not isinstance(spec, LayerwisePretrainSpec):
            raise ConfigError(f"{path}: {spec.type_name!r} is not a layer-wise method (it builds no greedy module)")
        return spec

    if isinstance(method, (list, tuple)):
        if len(method) != count:
            raise ConfigError(
                f"pretrain: {len(method)} methods given for {count} layers to pretrain; give one per "
                "layer, or a single method for all of them"
            )
        return [_one(m, f"pretrain[{i}]") for i, m in enumerate(method)]
    spec = _one(method, "pretrain")
    return [spec] * count


def pretrain_layerwise(
    model: nn.Module,
    data: Any,
    method: LayerwisePretrainSpec | str | dict | list,
    *,
    device: Any = "auto",
    seed: int | None = 0,
    folder: str | Path | None = None,
    callbacks: list | None = None,
    include_last: bool = False,
    labels: torch.Tensor | None = None,
) -> list[PretrainedLayer]:
    """Pretrain every hidden dense layer of a stack in turn, copying each greedy module's weights into it.

    Args:
        model: a layer stack (``lamina.build_model`` or an ``nn.Sequential``); its last dense layer is the output
            layer and is left to supervised fine-tuning (unless ``include_last``).
        data: the training inputs (an :class:`~lamina.data.ArrayDataset` or a tensor); targets are not used.
        method: a registered method name (``"rbm"``), a table, or a :class:`LayerwisePretrainSpec`; or a list
            of these, one per layer pretrained.
        device: where the greedy modules train.
        seed: layer ``i`` trains with seed ``seed + i``.
        folder: keep a checkpoint after each layer here, and resume from it.
        callbacks: extra callbacks for each layer's trainer.
        include_last: pretrain the last dense layer too (an encoder whose top layer is a code, as in a deep
            autoencoder).
        labels: ``(N, K)`` one-hot labels joined to the inputs of the last layer pretrained, whose module learns
            them jointly (:meth:`LayerwisePretrainSpec.build_labelled_module`; a DBN's top RBM, Hinton, Osindero &
            Teh 2006). Only the weights of the layer's own inputs are copied into it.

    Returns:
        One :class:`PretrainedLayer` per pretrained layer (those restored from a checkpoint have no history).
    """
    device = resolve_device(device)
    targets = dense_layers(model) if include_last else dense_layers(model)[:-1]
    if not targets:
        raise ShapeError("greedy pretraining needs at least one hidden dense layer below the output layer")
    specs = _resolve_methods(method, len(targets))
    for spec, (name, _linear, act) in zip(specs, targets):
        spec.check_layer(name, activation_name(act))
    progress = Path(folder) / "pretrain_progress.pt" if folder is not None else None
    done = 0
    if progress is not None and progress.is_file():
        saved = load_checkpoint(progress)
        model.load_state_dict(saved["state"]["model"])
        done = saved["state"]["layers_done"]

    target_names = {name for name, _, _ in targets}
    h = _inputs(data).to(device)
    if labels is not None and (labels.dim() != 2 or len(labels) != len(h)):
        raise ShapeError(
            f"labels must be one-hot rows, one per example: shape ({len(h)}, K), got {tuple(labels.shape)}"
        )
    results, index = [], 0
    for name, child in model.named_children():
        if name in target_names:
            linear = child[0] if isinstance(child, nn.Sequential) else child
            if h.dim() != 2 or h.shape[1] != linear.in_features:
                raise ShapeError(
                    f"layer {name!r} expects {linear.in_features} inputs, the layers below give {tuple(h.shape[1:])}"
                )
            if index >= done:
                layer_spec = specs[index].for_layer(index)
                activation = activation_name(child[1] if isinstance(child, nn.Sequential) else None)
                layer_seed = None if seed is None else seed + index
                joint = labels is not None and index == len(targets) - 1
                inputs = torch.cat([h, labels.to(h)], 1) if joint else h
                with seeded(layer_seed):
                    greedy = (
                        layer_spec.build_labelled_module(
                            linear.in_features, labels.shape[1], linear.out_features, activation
                        )
                        if joint
                        else layer_spec.build_module(linear.in_features, linear.out_features, activation)
                    )
                greedy = greedy.to(device)
                layer_spec.prepare_module(greedy, inputs)
                trainer = Trainer(
                    greedy,
                    optimizer=layer_spec.optimizer,
                    schedule=layer_spec.schedule,
                    epochs=layer_spec.epochs,
                    batch_size=layer_spec.batch_size,
                    device=device,
                    seed=layer_seed,
                    callbacks=[*layer_spec.layer_callbacks(greedy, inputs, index), *(callbacks or [])],
                    verbose=0,  # the pretraining reports per layer through its callbacks and summary
                )
                history = trainer.fit(ArrayDataset(inputs))
                with torch.no_grad():  # a labelled module's label weights have no place in the layer
                    linear.weight.copy_(greedy.weight[:, : linear.in_features].to(linear.weight.device))
                    if linear.bias is not None:
                        linear.bias.copy_(greedy.hidden_bias.to(linear.bias.device))
                results.append(PretrainedLayer(name, greedy, history.state_dict()))
                if progress is not None and distributed.is_main():
                    save_checkpoint({"model": model.state_dict(), "layers_done": index + 1}, progress)
            index += 1
            if index == len(targets):
                break
            h = _forward_in_batches(child.to(device), h)
            generator = torch.Generator(h.device).manual_seed(0 if seed is None else seed + index)
            h = specs[index - 1].for_layer(index - 1).next_inputs(h, index - 1, generator)
            continue
        h = _forward_in_batches(child.to(device), h)
    return results
