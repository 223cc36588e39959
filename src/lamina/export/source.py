"""What an export starts from: a network in evaluation mode on the CPU, the shapes and dtypes of its inputs, and,
where lamina built it from a config, that config and the config path of each layer (for error messages).

A source is a run folder (``lamina train``'s output), a :class:`~lamina.train.runs.Run`, a fitted
:mod:`lamina.sklearn` estimator, or any ``torch.nn.Module`` with its input shape.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lamina.config.loader import to_toml
from lamina.errors import ExportError
from lamina.nn.builder import _default_names
from lamina.nn.graph import node_inputs
from lamina.train.runs import Run

__all__ = ["ExportSource", "resolve_source"]


@dataclass
class ExportSource:
    """A network ready to export.

    Attributes:
        model: the network, in evaluation mode, on the CPU.
        input_shapes: one example's shape for each model input (no batch dimension).
        input_dtypes: the dtype of each input (``torch.long`` for token ids, else ``torch.float32``).
        input_names: the names the exported graph gives its inputs.
        output_names: the names of its outputs.
        model_config: the lamina ``[model]`` table the network was built from (``None`` if unknown).
        config_toml: the resolved configuration to write beside exported weights (``None`` if unknown).
        layer_names: module path -> where the layer is in the config (``"model.layers[2] 'conv2d_2'"``).
        name: for messages and default file names.
        run_dir: the run folder, for a run.
    """

    model: nn.Module
    input_shapes: list[tuple[int, ...]]
    input_dtypes: list[torch.dtype]
    input_names: list[str]
    output_names: list[str]
    model_config: dict[str, Any] | None = None
    config_toml: str | None = None
    layer_names: dict[str, str] = field(default_factory=dict)
    name: str = "model"
    run_dir: Path | None = None

    def example(self, batch: int, *, seed: int = 0) -> tuple[torch.Tensor, ...]:
        """A random batch of inputs (normal floats; token ids 0 and 1), reproducible from ``seed``."""
        generator = torch.Generator().manual_seed(seed)
        return tuple(
            torch.randint(0, 2, (batch, *shape), generator=generator)
            if dtype == torch.long
            else torch.randn((batch, *shape), generator=generator, dtype=dtype)
            for shape, dtype in zip(self.input_shapes, self.input_dtypes)
        )

    def describe(self, module_path: str, module: nn.Module) -> str:
        """A layer as the user knows it: its place in the config if lamina built it, else its module path."""
        top = (
            module_path.split(".")[0] if not module_path.startswith("layers.") else ".".join(module_path.split(".")[:2])
        )
        where = self.layer_names.get(top, f"module '{module_path}'")
        inner = f", in '{module_path}'" if top != module_path and top in self.layer_names else ""
        return f"{where} ({type(module).__name__}{inner})"


def _from_run(run: Any) -> ExportSource:
    shapes = run.summary.get("input_shape")
    model = run.model  # CheckpointError when the checkpoint is missing
    if shapes is None:  # pragma: no cover - run.model needs input_shape already
        raise ExportError(f"{run.dir / 'summary.json'}: no input_shape recorded")
    cfg = run.experiment.model
    if cfg.layers is not None:
        input_shapes, dtypes = [tuple(shapes)], [cfg.layers[0].input_dtype]
        layer_names = {name: f"model.layers[{i}] '{name}'" for i, name in enumerate(_default_names(cfg.layers))}
        input_names = ["input"]
    else:
        input_shapes = [tuple(s) for s in shapes] if not isinstance(shapes[0], int) else [tuple(shapes)]
        wiring = node_inputs(cfg.nodes, cfg.inputs)
        dtypes = [
            next((node.input_dtype for node, srcs in zip(cfg.nodes, wiring) if name in srcs), torch.float32)
            for name in cfg.inputs
        ]
        layer_names = {f"layers.{node.name}": f"model.nodes[{i}] '{node.name}'" for i, node in enumerate(cfg.nodes)}
        input_names = list(cfg.inputs)
    outputs = list(cfg.outputs) if cfg.nodes is not None and cfg.outputs else ["output"]
    return ExportSource(
        model.eval(),
        input_shapes,
        dtypes,
        input_names,
        outputs,
        model_config=cfg.model_dump(mode="json", exclude_none=True),
        config_toml=to_toml(run.experiment),
        layer_names=layer_names,
        name=run.experiment.name or run.dir.name,
        run_dir=run.dir,
    )


def _from_estimator(estimator: Any) -> ExportSource:
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "module_")
    spec = estimator.module_spec_
    config = {"layers": spec["layers"]} if isinstance(spec, dict) and "layers" in spec else None
    toml = None
    if config is not None:
        import tomli_w

        toml = (
            f"# {type(estimator).__name__}: the network takes rows of {estimator.n_features_in_} features\n"
            + tomli_w.dumps({"model": config})
        )
    model = copy.deepcopy(estimator.module_).cpu().eval()
    names = {name: f"layer '{name}'" for name, _ in model.named_children()}
    return ExportSource(
        model,
        [(int(estimator.n_features_in_),)],
        [torch.float32],
        ["input"],
        ["output"],
        model_config=config,
        config_toml=toml,
        layer_names=names,
        name=type(estimator).__name__,
    )


def resolve_source(source: Any, *, input_shape: Any = None) -> ExportSource:
    """An :class:`ExportSource` from a run folder, a :class:`Run`, a fitted lamina estimator or an ``nn.Module``.

    Args:
        source: what to export.
        input_shape: one example's input shape, for a module that does not record it (lamina's do).

    Raises:
        CheckpointError: a run folder that is missing, or whose checkpoint is.
        ExportError: a module whose input shape is unknown, or a source of another kind.
    """
    if isinstance(source, ExportSource):
        return source
    if isinstance(source, (str, Path)):
        source = Run.open(source)
    if isinstance(source, Run):
        return _from_run(source)
    if hasattr(source, "module_spec_") or (hasattr(source, "get_params") and hasattr(source, "_module_from_spec")):
        return _from_estimator(source)
    if isinstance(source, nn.Module):
        shape = input_shape if input_shape is not None else getattr(source, "input_shape", None)
        if shape is None:
            raise ExportError(
                f"{type(source).__name__}: give input_shape=(...) (one example's shape, no batch "
                "dimension) to export a module that does not record it"
            )
        shapes = (
            list(shape.values())
            if isinstance(shape, dict)
            else ([tuple(shape)] if isinstance(shape[0], int) else [tuple(s) for s in shape])
        )
        model = copy.deepcopy(source).cpu().eval()
        names = getattr(source, "input_names", None) or (
            ["input"] if len(shapes) == 1 else [f"input_{i}" for i in range(len(shapes))]
        )
        outputs = list(getattr(source, "output_names", None) or ["output"])
        return ExportSource(
            model, shapes, [torch.float32] * len(shapes), list(names), outputs, name=type(source).__name__
        )
    raise ExportError(
        f"cannot export a {type(source).__name__}: give a run folder, a Run, a fitted lamina "
        "estimator or a torch.nn.Module"
    )
