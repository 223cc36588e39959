"""When an export fails, find the layer responsible and the formats that can hold it.

The network runs once with hooks that record each submodule's inputs; then, in call order (lamina's and
user-defined modules before torch's own, as they are the usual culprits), each layer is exported alone in the
failing format. The first that fails is searched the same way, down to the innermost module that fails, and that
module is tried in every other format.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import torch
from torch import nn

from lamina.errors import ExportError
from lamina.export.common import root_cause
from lamina.export.formats import FORMATS, Format
from lamina.export.source import ExportSource

__all__ = ["explain_failure", "locate_failure"]

Trial = Callable[[nn.Module, tuple[torch.Tensor, ...]], None]


def _record_calls(model: nn.Module, inputs: tuple[torch.Tensor, ...]) -> dict[str, tuple]:
    """Module path -> the positional inputs of its first call, in call order."""
    calls: dict[str, tuple] = {}
    hooks = [
        module.register_forward_pre_hook(lambda _, args, path=path: calls.setdefault(path, args))
        for path, module in model.named_modules()
        if path
    ]
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return calls


Found = tuple[str, nn.Module, str]  # (module path, module, reason)


def _search(module: nn.Module, prefix: str, calls: dict[str, tuple], trial: Trial) -> Found | None:
    order = list(calls)
    children = [(f"{prefix}{name}", child) for name, child in module.named_children()]
    children.sort(
        key=lambda item: (
            type(item[1]).__module__.startswith("torch."),
            order.index(item[0]) if item[0] in calls else len(order),
        )
    )
    for path, child in children:
        if path not in calls:  # a container that is never called itself (a ModuleDict): look inside
            found = _search(child, f"{path}.", calls, trial)
            if found:
                return found
            continue
        args = calls[path]
        if not args or not all(isinstance(a, torch.Tensor) for a in args):
            continue
        try:
            trial(child, args)
        except Exception as err:  # noqa: BLE001 - any failure of the exporter is the finding
            return _search(child, f"{path}.", calls, trial) or (path, child, root_cause(err))
    return None


def locate_failure(model: nn.Module, inputs: tuple[torch.Tensor, ...], trial: Trial) -> Found | None:
    """``(module path, module, reason)`` of the innermost layer that ``trial`` cannot export on its own, or
    ``None`` if every layer exports alone (the failure comes from how they are combined)."""
    calls = _record_calls(model, inputs)
    return _search(model, "", calls, trial)


def _holds(fmt: Format, module: nn.Module, inputs: tuple, source: ExportSource) -> bool:
    if any(importlib.util.find_spec(name) is None for name in fmt.requires):
        return False
    if fmt.trial is None:
        return source.model_config is not None
    try:
        fmt.trial(module, inputs)
    except Exception:  # noqa: BLE001
        return False
    return True


def explain_failure(
    source: ExportSource, fmt: Format, error: BaseException, inputs: tuple[torch.Tensor, ...]
) -> ExportError:
    """An :class:`ExportError` naming the layer that ``fmt`` cannot hold and the formats that can."""
    if fmt.trial is None:
        return ExportError(f"cannot export {source.name} to {fmt.name}: {root_cause(error)}")
    found = locate_failure(source.model, inputs, fmt.trial)
    if found is None:
        return ExportError(
            f"cannot export {source.name} to {fmt.name}: {root_cause(error)} (every layer exports "
            "on its own; the failure comes from how they are combined)"
        )
    path, module, reason = found
    args = _record_calls(source.model, inputs)[path]
    others = [other.name for other in FORMATS.values() if other is not fmt and _holds(other, module, args, source)]
    can = f"formats that can hold it: {', '.join(others)}" if others else "no other format can hold it either"
    return ExportError(
        f"cannot export {source.name} to {fmt.name}: {source.describe(path, module)} cannot be "
        f"exported to {fmt.name} ({reason}); {can}"
    )
