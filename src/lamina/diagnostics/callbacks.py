"""Callbacks that record diagnostics during training, every ``every`` optimizer steps (and at step 1):

- ``gradient_flow``: per layer, the back-propagated delta norm, the weight-gradient norm, the weight norm and the
  relative size of the optimizer's update ``||Delta W|| / ||W||`` (CS231n's "babysitting": about 1e-3), on the
  training batch of that step;
- ``unit_statistics``: per activation layer, the percentage of dead ReLU units and of saturated sigmoid or tanh
  units on that batch.

In an experiment file: ``[train] callbacks = [{ type = "gradient_flow", every = 100 }]``. Records go to
``<run>/gradient_flow.jsonl`` (``unit_statistics.jsonl``), one JSON line per recorded step, and the figures to
``<run>/plots/`` so the run's report shows them. They cost nothing between recorded steps: forward hooks only
look at the outputs of the steps due. With a closure optimizer (L-BFGS, Hessian-free) the deltas add up over the
closure's evaluations in that step; with fp16 they are those of the scaled loss.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar

import torch
from torch import nn

from lamina import files, jsonio
from lamina.config.component import Bounds, spec_base, validated
from lamina.diagnostics.gradient_flow import weight_tensors
from lamina.diagnostics.layers import find_layer, layer_label, parametrized_layers, select_parametrized
from lamina.diagnostics.units import activation_layers, unit_stats_of
from lamina.registry import register
from lamina.train.callbacks.base import Callback, CallbackSpec

__all__ = ["GradientFlowLog", "UnitStatisticsLog", "GradientFlowSpec", "UnitStatisticsSpec", "read_records"]


def _clean(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """The records of a ``gradient_flow.jsonl`` or ``unit_statistics.jsonl`` (a torn last line is skipped)."""
    records = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(jsonio.loads(raw))
        except json.JSONDecodeError:
            continue
    return records


class _StepRecorder(Callback):
    """Arms forward hooks on the steps due, turns what they saw into a record after the step, keeps the records
    (in memory and in ``<folder>/<filename>``) and plots them when training ends."""

    filename: ClassVar[str] = ""

    @validated
    def __init__(
        self,
        every: Annotated[int, Bounds(ge=1)] = 100,
        *,
        folder: str | Path | None = None,
        layers: Sequence[str] | None = None,
    ) -> None:
        self.every, self.folder, self.layers = every, folder, list(layers) if layers is not None else None
        self.records: list[dict[str, Any]] = []
        self.path: Path | None = None
        self._handles: list[Any] = []

    def _due(self, step: int) -> bool:
        return step == 1 or step % self.every == 0

    def _select(self, model: nn.Module) -> list[tuple[str, nn.Module]]:
        raise NotImplementedError

    def _hook(self, name: str, module: nn.Module, output: torch.Tensor) -> None:
        raise NotImplementedError

    def _collect(self, trainer: Any) -> dict[str, dict[str, float | None]]:
        raise NotImplementedError

    def _plot(self, plots: Path) -> None:
        raise NotImplementedError

    def on_train_begin(self, trainer: Any) -> None:
        """Open the records file (keeping, when resuming, the records up to the restored step), attach the forward
        hooks to the selected layers and arm them if the next step is due."""
        folder = self.folder if self.folder is not None else getattr(trainer, "run_dir", None)
        self.path = Path(folder) / self.filename if folder is not None else None
        self.records = []
        if self.path is not None and self.path.exists():  # resuming: keep what the restored weights have seen
            self.records = [r for r in read_records(self.path) if r.get("step", 0) <= trainer.step]
            files.atomic_write(self.path, "".join(jsonio.dumps(r) + "\n" for r in self.records))
        self._modules = self._select(trainer.model)
        self._reset()
        for name, module in self._modules:
            self._handles.append(module.register_forward_hook(self._forward_hook(name)))
        self._armed = self._due(trainer.step + 1)

    def _forward_hook(self, name: str):
        def _on_forward(module: nn.Module, args: tuple, output: Any) -> None:
            out = (
                output
                if isinstance(output, torch.Tensor)
                else next((o for o in output if isinstance(o, torch.Tensor)), None)
                if isinstance(output, (tuple, list))
                else None
            )
            if self._armed and out is not None and out.requires_grad:  # a training forward, not evaluation
                self._hook(name, module, out)

        return _on_forward

    def _reset(self) -> None:
        """Forget what the hooks saw."""

    def on_batch_end(self, trainer: Any, step: int, loss: Any) -> None:
        """On a due step, turn what the hooks saw into a record (kept, and appended to the file); then arm the hooks
        for the next step if it is due."""
        if self._armed:
            record = {
                "step": step,
                "epoch": trainer.epoch + 1,
                "loss": _clean(float(loss)),
                "layers": self._collect(trainer),
            }
            self.records.append(record)
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                files.append_text(self.path, jsonio.dumps(record) + "\n")
            self._reset()
        self._armed = self._due(step + 1)

    def on_train_end(self, trainer: Any) -> None:
        """Remove the forward hooks and, when the records go to a file, plot them into ``plots/`` beside it."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        if self.path is not None and self.records:
            self._plot(self.path.parent / "plots")

    def state_dict(self) -> dict[str, Any]:
        """``{"records": [...]}`` when there is no records file; empty otherwise (the file is the state)."""
        # with a folder the JSON-lines file is the state; otherwise the records travel in the checkpoint
        return {"records": self.records} if self.path is None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the records kept by :meth:`state_dict` (if any)."""
        if "records" in state:
            self.records = list(state["records"])


class GradientFlowLog(_StepRecorder):
    """Record per-layer gradient flow on the training batch every ``every`` steps.

    Args:
        every: steps between records (step 1, the untrained network, is always recorded).
        folder: where ``gradient_flow.jsonl`` and ``plots/`` go (default: the run folder, when ``lamina.train``
            drives the trainer; without either, records stay in :attr:`records`).
        layers: restrict to these layer names.

    Each record: ``{"step", "epoch", "loss", "layers": {name: {"delta_norm", "grad_norm", "weight_norm",
    "ratio", "update_ratio"}}}``.
    """

    filename = "gradient_flow.jsonl"

    def _select(self, model: nn.Module) -> list[tuple[str, nn.Module]]:
        return select_parametrized(model, self.layers) if self.layers is not None else parametrized_layers(model)

    def _reset(self) -> None:
        self._delta_sq: dict[str, float] = {}
        self._before: dict[str, list[torch.Tensor]] = {}

    def _hook(self, name: str, module: nn.Module, output: torch.Tensor) -> None:
        if name not in self._before:  # the weights before this step's update
            self._before[name] = [w.detach().clone() for w in weight_tensors(module)[0]]
        self._delta_sq.setdefault(name, 0.0)

        def _accumulate(grad: torch.Tensor) -> None:
            self._delta_sq[name] += float(grad.detach().double().pow(2).sum())

        output.register_hook(_accumulate)

    def _collect(self, trainer: Any) -> dict[str, dict[str, float | None]]:
        layers = {}
        for name, module in self._modules:
            if name not in self._before:
                continue
            weights = weight_tensors(module)[0]
            before = self._before[name]
            norm = lambda ts: math.sqrt(sum(float(t.double().pow(2).sum()) for t in ts))  # noqa: E731
            w0 = norm(before)
            grads = [w.grad for w in weights if w.grad is not None]
            g = norm(grads) if grads else math.nan
            step = norm([w.detach() - b for w, b in zip(weights, before)])
            layers[layer_label(name)] = {
                "delta_norm": _clean(math.sqrt(self._delta_sq[name])) if name in self._delta_sq else None,
                "grad_norm": _clean(g),
                "weight_norm": _clean(w0),
                "ratio": _clean(g / w0) if w0 > 0 else None,
                "update_ratio": _clean(step / w0) if w0 > 0 else None,
            }
        return layers

    def _plot(self, plots: Path) -> None:
        from lamina.diagnostics.plots import plot_gradient_flow_history, plot_update_ratio_history

        plot_gradient_flow_history(self.records, plots / "gradient_flow_during_training.png")
        plot_update_ratio_history(self.records, plots / "update_ratio_during_training.png")


class UnitStatisticsLog(_StepRecorder):
    """Record the percentage of dead (ReLU) and saturated (sigmoid, tanh) units per layer every ``every`` steps.

    Args:
        every, folder, layers: as for :class:`GradientFlowLog`.
        saturation: the margin (fraction of the output range) within which an activation counts as saturated.

    Each record: ``{"step", "epoch", "loss", "layers": {name: {"units", "dead_percent", "saturated_percent",
    "zero_output_percent", "saturated_output_percent", "mean"}}}`` (percentages of the layer's units or outputs on
    that batch; ``None`` where they do not apply).
    """

    filename = "unit_statistics.jsonl"

    @validated
    def __init__(
        self,
        every: Annotated[int, Bounds(ge=1)] = 100,
        *,
        folder: str | Path | None = None,
        layers: Sequence[str] | None = None,
        saturation: Annotated[float, Bounds(gt=0, lt=0.5)] = 0.01,
    ) -> None:
        super().__init__(every, folder=folder, layers=layers)
        self.saturation = saturation

    def _select(self, model: nn.Module) -> list[tuple[str, nn.Module]]:
        found = activation_layers(model)
        if self.layers is None:
            return found
        wanted = {find_layer(model, name)[0] for name in self.layers}
        return [(n, m) for n, m in found if n in wanted or any(n.startswith(f"{w}.") for w in wanted)]

    def _reset(self) -> None:
        self._outputs: dict[str, list[torch.Tensor]] = {}

    def _hook(self, name: str, module: nn.Module, output: torch.Tensor) -> None:
        self._outputs.setdefault(name, []).append(output.detach())

    def _collect(self, trainer: Any) -> dict[str, dict[str, float | None]]:
        layers = {}
        for name, module in self._modules:
            if name not in self._outputs:
                continue
            s = unit_stats_of(name, module, torch.cat(self._outputs[name]), saturation=self.saturation, bins=10)
            pct = lambda v: None if v is None else 100.0 * v  # noqa: E731
            layers[s.name] = {
                "units": s.units,
                "dead_percent": pct(s.dead / s.units) if s.rectified else None,
                "saturated_percent": pct(s.saturated / s.units) if s.bounded else None,
                "zero_output_percent": pct(s.zero_fraction),
                "saturated_output_percent": pct(s.saturated_fraction),
                "mean": _clean(s.mean),
            }
        return layers

    def _plot(self, plots: Path) -> None:
        from lamina.diagnostics.plots import plot_unit_history

        plot_unit_history(self.records, plots / "units_during_training.png")


@register("callback", "gradient_flow")
class GradientFlowSpec(spec_base(GradientFlowLog, CallbackSpec, exclude=("folder",))):  # type: ignore[misc]  # a base made by spec_base
    """``{ type = "gradient_flow", every = 100 }``: :class:`GradientFlowLog`'s options, with its defaults and bounds
    (the run supplies the folder).

    Args:
        every: optimizer steps between records (100: a few dozen points for a typical run, at no cost between).
        layers: only these layers (default: every layer with weights).
    """

    def build(self) -> GradientFlowLog:
        """The :class:`GradientFlowLog` these options describe."""
        return GradientFlowLog(**self.options())


@register("callback", "unit_statistics", aliases=("units",))
class UnitStatisticsSpec(spec_base(UnitStatisticsLog, CallbackSpec, exclude=("folder",))):  # type: ignore[misc]  # a base made by spec_base
    """``{ type = "unit_statistics", every = 100 }``: :class:`UnitStatisticsLog`'s options, with its defaults and
    bounds (the run supplies the folder).

    Args:
        every: optimizer steps between records.
        layers: only these layers (default: every activation layer).
        saturation: the saturation margin as a fraction of the output range (1%: sigmoid outside [0.01, 0.99]).
    """

    def build(self) -> UnitStatisticsLog:
        """The :class:`UnitStatisticsLog` these options describe."""
        return UnitStatisticsLog(**self.options())
