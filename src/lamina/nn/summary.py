"""A model's layers with their output shapes and parameter counts (Keras' ``model.summary()``)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from lamina.nn.spec import fmt_shape

__all__ = ["LayerRow", "summarize", "format_summary", "count_parameters"]


@dataclass(frozen=True)
class LayerRow:
    """One layer of a summary."""

    name: str
    kind: str
    output_shape: str
    parameters: int
    trainable: int


def count_parameters(module: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of scalar parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def summarize(model: nn.Module) -> list[LayerRow]:
    """A row per top-level layer: name, config type (or module class), output shape (where the builder recorded
    it), parameters."""
    shapes = getattr(model, "shapes", None)
    kinds = getattr(model, "kinds", None)
    rows = []
    children = (
        list(model.layers.items())
        if hasattr(model, "layers") and isinstance(model.layers, nn.ModuleDict)
        else list(model.named_children())
    )
    for i, (name, child) in enumerate(children):
        if isinstance(shapes, dict):
            shape = shapes.get(name)
        elif isinstance(shapes, list) and i < len(shapes):
            shape = shapes[i]
        else:
            shape = None
        if isinstance(kinds, dict):
            kind = kinds.get(name, type(child).__name__)
        elif isinstance(kinds, list) and i < len(kinds):
            kind = kinds[i]
        else:
            kind = type(child).__name__
        rows.append(
            LayerRow(
                name,
                kind,
                fmt_shape(shape) if shape is not None else "?",
                count_parameters(child),
                count_parameters(child, trainable_only=True),
            )
        )
    return rows


def format_summary(model: nn.Module) -> str:
    """The summary as a plain-text table, with the total."""
    rows = summarize(model)
    header = ("layer", "type", "output shape", "parameters")
    table = [header] + [(r.name, r.kind, r.output_shape, f"{r.parameters:,}") for r in rows]
    widths = [max(len(row[c]) for row in table) for c in range(4)]
    lines = [
        "  ".join(cell.ljust(w) if c < 3 else cell.rjust(w) for c, (cell, w) in enumerate(zip(row, widths)))
        for row in table
    ]
    lines.insert(1, "-" * len(lines[0]))
    total, trainable = count_parameters(model), count_parameters(model, trainable_only=True)
    lines.append(f"total parameters: {total:,} ({trainable:,} trainable)")
    return "\n".join(lines)
