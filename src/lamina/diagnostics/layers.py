"""What every diagnostic needs from a model: its layers by name, the input shape it expects, and the outputs of
chosen layers on a batch (forward hooks).

Layer names are the model's own (``model.named_modules()``), shortened the way lamina's summary names layers:
a dense or convolution block built with an activation is ``Sequential(linear, activation)``, so its weights live
in ``dense_0.linear`` and its nonlinearity in ``dense_0.activation``; both are shown as ``dense_0``. A DAG's nodes
(``layers.<node>``) are shown by node name. Lookups accept either spelling.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

from lamina.errors import LaminaError, ShapeError, did_you_mean
from lamina.nn.spec import fmt_shape

__all__ = [
    "DiagnosticsError",
    "LayerNotFoundError",
    "layer_label",
    "parametrized_layers",
    "find_layer",
    "layer_names",
    "expected_input_shape",
    "check_inputs",
    "forward",
    "require_parameters",
    "split_batch",
    "capture_outputs",
    "is_shape_only",
    "select_parametrized",
    "match_model",
]

_SHAPE_ONLY = (nn.Flatten, nn.Unflatten, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Identity)


class DiagnosticsError(LaminaError, ValueError):
    """A model or batch a diagnostic cannot work on; the message says what it needs."""


class LayerNotFoundError(LaminaError, LookupError):
    """A layer name the model does not have; the message lists the names it has."""


def layer_label(name: str) -> str:
    """The name a user sees: ``dense_0.linear`` -> ``dense_0``, ``layers.conv.activation`` -> ``conv``."""
    for suffix in (".linear", ".activation"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name[len("layers.") :] if name.startswith("layers.") else name


def parametrized_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules owning trainable parameters themselves (``nn.Linear``, ``nn.Conv2d``, ``nn.BatchNorm1d`` ...),
    in the order ``named_modules`` visits them (the forward order for a stack), with their qualified names."""
    return [(name, m) for name, m in model.named_modules() if any(p.requires_grad for p in m.parameters(recurse=False))]


def require_parameters(model: nn.Module, what: str) -> list[tuple[str, nn.Module]]:
    """:func:`parametrized_layers`, refusing a model that has none."""
    layers = parametrized_layers(model)
    if not layers:
        raise DiagnosticsError(
            f"{what} needs a model with trainable parameters; {type(model).__name__} has none "
            "(a model made only of activations, pooling or reshapes has no weights to diagnose)"
        )
    return layers


def select_parametrized(model: nn.Module, names: Sequence[str]) -> list[tuple[str, nn.Module]]:
    """The layers with weights among those named: a named block without weights of its own (``dense_0``, a
    ``Sequential(linear, activation)``) stands for the weighted modules inside it."""
    chosen: dict[str, nn.Module] = {}
    for name in names:
        qualified, module = find_layer(model, name)
        inner = [(f"{qualified}.{n}" if n else qualified, m) for n, m in parametrized_layers(module)]
        if not inner:
            raise DiagnosticsError(
                f"layer {name!r} ({type(module).__name__}) has no trainable parameters; layers "
                f"with weights: {', '.join(layer_label(n) for n, _ in parametrized_layers(model))}"
            )
        chosen.update(inner)
    return list(chosen.items())


def layer_names(model: nn.Module) -> list[str]:
    """Every layer a user can name: each module's label (top-level blocks and their parts), in forward order."""
    return list(
        dict.fromkeys(
            layer_label(name)
            for name, module in model.named_modules()
            if name and not isinstance(module, (nn.ModuleDict, nn.ModuleList))
        )
    )


def find_layer(model: nn.Module, name: str) -> tuple[str, nn.Module]:
    """``(qualified name, module)`` of the layer a user named (``dense_0``, ``dense_0.linear``, a DAG node).

    Raises:
        LayerNotFoundError: listing the names that exist, with the closest one.
    """
    modules = dict(model.named_modules())
    if name and name in modules:
        return name, modules[name]
    for qualified in (f"layers.{name}",):
        if qualified in modules:
            return qualified, modules[qualified]
    names = layer_names(model)
    raise LayerNotFoundError(
        f"no layer {name!r} in the model;{did_you_mean(name, names)} its layers are: {', '.join(names) or '(none)'}"
    )


def expected_input_shape(model: nn.Module) -> tuple[Any, ...] | None:
    """One example's input shape, where the model says it (a lamina stack records it) or its first layer implies
    it (``nn.Linear``: ``(in_features,)``); ``None`` when it cannot be known without running the model."""
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, dict) and len(shape) == 1:  # a DAG with one input
        shape = next(iter(shape.values()))
    if isinstance(shape, (tuple, list)) and all(isinstance(d, int) for d in shape):
        return tuple(shape)
    first = next((m for _, m in model.named_modules() if not list(m.children())), None)
    if isinstance(first, nn.Linear):
        return (first.in_features,)
    return None


def check_inputs(model: nn.Module, x: torch.Tensor) -> None:
    """Raise a :class:`ShapeError` naming the expected shape when ``x`` (a batch) does not fit the model."""
    if not isinstance(x, torch.Tensor):
        raise DiagnosticsError(f"inputs must be a tensor of shape (N, *input_shape), got {type(x).__name__}")
    expected = expected_input_shape(model)
    if expected is not None and tuple(x.shape[1:]) != expected:
        raise ShapeError(
            f"the model expects inputs of shape (N, {', '.join(map(str, expected))}) "
            f"(one example: {fmt_shape(expected)}), got a batch of shape {fmt_shape(tuple(x.shape))}"
        )


def match_model(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``x`` on the model's device, and, if floating-point, in the model's floating dtype (float64 inputs to a
    float32 model are measured in float32 rather than refused)."""
    param = next((p for p in model.parameters() if p.is_floating_point()), None)
    if param is None:
        return x
    return x.to(param.device, dtype=param.dtype if x.is_floating_point() else None)


def forward(model: nn.Module, x: torch.Tensor) -> Any:
    """``model(x)`` after :func:`check_inputs` (``x`` moved to the model's device and dtype); a shape error from deep
    inside torch becomes a :class:`ShapeError` naming the shape that was given."""
    check_inputs(model, x)
    x = match_model(model, x)
    try:
        return model(x)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        if "shape" in first or "size" in first or "dimension" in first:
            raise ShapeError(
                f"the model cannot take inputs of shape {fmt_shape(tuple(x.shape))} "
                f"(one example: {fmt_shape(tuple(x.shape[1:]))}): {first}"
            ) from None
        raise


def split_batch(batch: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(x, y)`` from a tensor, an ``(x, y)`` pair or an :class:`~lamina.data.ArrayDataset`."""
    if isinstance(batch, torch.Tensor):
        return batch, None
    if hasattr(batch, "inputs") and hasattr(batch, "targets"):
        return batch.x, batch.targets
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise DiagnosticsError(
        f"a batch is a tensor of inputs, an (inputs, targets) pair or an ArrayDataset, got {type(batch).__name__}"
    )


def _first_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)):
        return next((v for v in value if isinstance(v, torch.Tensor)), None)
    return None


@contextlib.contextmanager
def capture_outputs(
    modules: Sequence[tuple[str, nn.Module]], *, inputs: bool = False
) -> Iterator[dict[str, list[torch.Tensor]]]:
    """Record what each module returns (and, with ``inputs=True``, its first input under ``"<name>:in"``) while
    the block runs; a module called several times (a shared or recurrent layer) gets one entry per call."""
    seen: dict[str, list[torch.Tensor]] = {}
    handles = []

    def _hook_for(name: str):
        def _hook(module: nn.Module, args: tuple, output: Any) -> None:
            out = _first_tensor(output)
            if out is not None:
                seen.setdefault(name, []).append(out)
            if inputs and args and isinstance(args[0], torch.Tensor):
                seen.setdefault(f"{name}:in", []).append(args[0])

        return _hook

    try:
        for name, module in modules:
            handles.append(module.register_forward_hook(_hook_for(name)))
        yield seen
    finally:
        for handle in handles:
            handle.remove()


def is_shape_only(module: nn.Module) -> bool:
    """Whether a module only moves values around (flatten, reshape, dropout in eval, identity)."""
    return isinstance(module, _SHAPE_ONLY) or type(module).__name__ == "Reshape"
