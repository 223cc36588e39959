"""Gradient checking: autograd's gradient against central finite differences, in float64.

For a scalar function ``f`` of a tensor ``theta``, each checked entry compares

    analytic:  (d f / d theta)_i                       (autograd, i.e. the backward being tested)
    numeric:   (f(theta + eps e_i) - f(theta - eps e_i)) / (2 eps)      error O(eps^2)

A function with a non-scalar output is checked through ``f = sum(output * r)`` for a fixed random ``r``: its
gradient is the vector-Jacobian product the backward computes, so every output takes part. An entry passes when
``|analytic - numeric| <= atol + rtol |numeric|`` (numpy's ``allclose``); per parameter (or input) the worst
relative error ``|a - n| / max(|a|, |n|)`` is reported, as CS231n's "gradient checks" recommend.

Randomness (dropout) is frozen: every evaluation runs on the same seed, so each sees the same mask. Kinks
(ReLU at exactly 0, max-pooling ties) can fail a correct backward when ``theta +- eps`` crosses them.

References:
    LeCun, Bottou, Orr & Müller (1998), "Efficient BackProp"; Karpathy, CS231n notes, "Neural Networks Part 3:
    gradient checks" (2016).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from lamina.diagnostics.layers import DiagnosticsError, check_inputs
from lamina.errors import ShapeError
from lamina.nn.spec import fmt_shape

__all__ = ["gradcheck", "GradcheckResult", "GradcheckRow", "finite_difference_gradient"]


@dataclass(frozen=True)
class GradcheckRow:
    """The check of one parameter or input.

    Attributes:
        name: the parameter's name (``0.weight``) or ``input[i]``.
        shape: its shape.
        checked: entries compared (all of them, or a random sample of ``max_entries``).
        failed: entries outside the tolerance.
        max_abs_error: the largest ``|analytic - numeric|``.
        max_rel_error: the largest ``|analytic - numeric| / max(|analytic|, |numeric|)`` over entries whose
            gradient exceeds ``atol`` (tinier ones are all rounding).
        worst_index: the multi-index of the entry with the largest relative error (absolute if none is large).
        analytic, numeric: the two gradients at that entry.
    """

    name: str
    shape: tuple[int, ...]
    checked: int
    failed: int
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...]
    analytic: float
    numeric: float

    @property
    def passed(self) -> bool:
        """Whether every checked entry is within the tolerance."""
        return self.failed == 0


@dataclass
class GradcheckResult:
    """Every row of a gradient check; true (``bool(result)``) when all passed."""

    rows: list[GradcheckRow] = field(default_factory=list)
    eps: float = 1e-6
    atol: float = 1e-5
    rtol: float = 1e-3

    @property
    def passed(self) -> bool:
        """Whether every parameter and input passed."""
        return all(r.passed for r in self.rows)

    @property
    def failures(self) -> list[GradcheckRow]:
        """The rows that failed."""
        return [r for r in self.rows if not r.passed]

    def __bool__(self) -> bool:
        return self.passed

    def table(self) -> str:
        """A plain-text table: one row per parameter or input."""
        header = ("tensor", "shape", "checked", "failed", "max rel error", "max abs error", "worst at", "result")
        body = [
            (
                r.name,
                fmt_shape(r.shape),
                str(r.checked),
                str(r.failed),
                f"{r.max_rel_error:.3g}",
                f"{r.max_abs_error:.3g}",
                str(list(r.worst_index)),
                "ok" if r.passed else "FAILED",
            )
            for r in self.rows
        ]
        widths = [max(len(row[c]) for row in [header, *body]) for c in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in [header, *body]]
        verdict = (
            "gradient check passed" if self.passed else f"gradient check FAILED for {len(self.failures)} tensor(s)"
        )
        return "\n".join(
            [
                lines[0],
                "-" * len(lines[0]),
                *lines[1:],
                f"{verdict} (central differences, eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g})",
            ]
        )

    def __str__(self) -> str:
        return self.table()


def finite_difference_gradient(
    f: Callable[[], torch.Tensor], tensor: torch.Tensor, indices: torch.Tensor, eps: float
) -> torch.Tensor:
    """Central differences ``(f(t + eps e_i) - f(t - eps e_i)) / (2 eps)`` at the flat ``indices`` of ``tensor``
    (perturbed in place and restored; ``f`` reads it)."""
    flat = tensor.detach().view(-1)
    out = torch.empty(len(indices), dtype=torch.float64)
    with torch.no_grad():
        for k, i in enumerate(indices.tolist()):
            original = flat[i].item()
            flat[i] = original + eps
            plus = float(f())
            flat[i] = original - eps
            minus = float(f())
            flat[i] = original
            out[k] = (plus - minus) / (2 * eps)
    return out


def _target(fn: Any) -> tuple[Callable[..., Any], list[tuple[str, torch.Tensor]], str]:
    """The callable to check, its parameters (float64 copies) and its name for messages."""
    if inspect.isclass(fn) and issubclass(fn, torch.autograd.Function):
        return fn.apply, [], fn.__name__
    if isinstance(fn, nn.Module):
        module = copy.deepcopy(fn).to(torch.float64)  # the caller's module is never touched
        return module, [(n, p) for n, p in module.named_parameters() if p.requires_grad], type(fn).__name__
    if callable(fn):
        return fn, [], getattr(fn, "__name__", type(fn).__name__)
    raise DiagnosticsError(
        f"gradcheck checks an nn.Module, a torch.autograd.Function subclass or a function of "
        f"tensors, got {type(fn).__name__}"
    )


def _scalar(output: Any, generator: torch.Generator) -> Callable[[Any], torch.Tensor]:
    """``out -> sum(out * r)`` with one fixed random ``r`` per output tensor (1 for a scalar output)."""
    outs = output if isinstance(output, (tuple, list)) else (output,)
    outs = [o for o in outs if isinstance(o, torch.Tensor) and o.is_floating_point()]
    if not outs:
        raise DiagnosticsError(f"gradcheck needs a floating-point tensor output, got {type(output).__name__}")
    weights = [
        torch.ones((), dtype=torch.float64)
        if o.dim() == 0
        else torch.randn(o.shape, generator=generator, dtype=torch.float64)
        for o in outs
    ]

    def _reduce(value: Any) -> torch.Tensor:
        vals = value if isinstance(value, (tuple, list)) else (value,)
        vals = [v for v in vals if isinstance(v, torch.Tensor) and v.is_floating_point()]
        return sum((v.to(torch.float64) * w.to(v.device)).sum() for v, w in zip(vals, weights))

    return _reduce


def gradcheck(
    fn: Any,
    inputs: torch.Tensor | Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_entries: int | None = 1000,
    check_inputs_grad: bool = True,
    seed: int = 0,
) -> GradcheckResult:
    """Compare autograd's gradients with central finite differences, in float64, for every parameter and input.

    Args:
        fn: an ``nn.Module`` (a network, a layer, a loss module), a ``torch.autograd.Function`` subclass (its
            ``apply`` is checked) or any function of tensors (``torch.nn.functional.cross_entropy``).
        inputs: one tensor or a sequence of arguments; floating tensors are checked too (integer targets are
            passed through).
        eps: the finite-difference step (1e-6 balances the O(eps^2) truncation against float64 rounding).
        atol, rtol: an entry passes when ``|analytic - numeric| <= atol + rtol |numeric|``.
        max_entries: check at most this many entries of each tensor (a seeded random sample); ``None``: all.
        check_inputs_grad: also check the gradients with respect to floating-point inputs.
        seed: of the output projection, the sample of entries, and the frozen randomness (dropout).

    Returns:
        A :class:`GradcheckResult` (true when all passed) with the worst relative error per parameter.

    Raises:
        DiagnosticsError: nothing to check (no parameters and no floating-point inputs), or no float output.
        ShapeError: inputs of a shape the module cannot take.

    Example:
        >>> result = gradcheck(MySigmoid, torch.randn(5, 3))
        >>> print(result.table())
    """
    for name, value in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        if not value > 0:
            raise ValueError(f"`{name}` must be > 0, got {value!r}")
    call, params, label = _target(fn)
    args = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
    device = next((p.device for _, p in params), None)
    args = [
        a.detach().to(device=device or a.device, dtype=torch.float64).requires_grad_(check_inputs_grad)
        if isinstance(a, torch.Tensor) and a.is_floating_point()
        else a
        for a in args
    ]
    checked = list(params) + (
        [(f"input[{i}]", a) for i, a in enumerate(args) if isinstance(a, torch.Tensor) and a.requires_grad]
        if check_inputs_grad
        else []
    )
    if not checked:
        raise DiagnosticsError(
            f"gradcheck: {label} has no trainable parameters and no floating-point inputs; "
            "there is no gradient to check"
        )
    if isinstance(call, nn.Module) and args and isinstance(args[0], torch.Tensor):
        check_inputs(call, args[0])
    devices = [device.index or 0] if device is not None and device.type == "cuda" else []

    def _run() -> Any:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            try:
                return call(*args)
            except RuntimeError as err:
                shapes = ", ".join(
                    fmt_shape(tuple(a.shape)) if isinstance(a, torch.Tensor) else type(a).__name__ for a in args
                )
                raise ShapeError(
                    f"gradcheck: {label} failed on inputs of shapes {shapes}: {str(err).splitlines()[0]}"
                ) from None

    generator = torch.Generator().manual_seed(seed)
    reduce = _scalar(_run(), generator)
    grads = torch.autograd.grad(reduce(_run()), [t for _, t in checked], allow_unused=True)
    rows = []
    for (name, tensor), grad in zip(checked, grads):
        n = tensor.numel()
        count = n if max_entries is None or n <= max_entries else max_entries
        index = torch.arange(n) if count == n else torch.randperm(n, generator=generator)[:count].sort().values
        analytic = (torch.zeros(n, dtype=torch.float64) if grad is None else grad.detach().cpu().reshape(-1))[index]
        numeric = finite_difference_gradient(lambda: reduce(_run()), tensor, index, eps)
        rows.append(_compare(name, tuple(tensor.shape), index, analytic, numeric, atol, rtol))
    return GradcheckResult(rows, eps=eps, atol=atol, rtol=rtol)


def _compare(
    name: str,
    shape: tuple[int, ...],
    index: torch.Tensor,
    analytic: torch.Tensor,
    numeric: torch.Tensor,
    atol: float,
    rtol: float,
) -> GradcheckRow:
    err = (analytic - numeric).abs()
    scale = torch.maximum(analytic.abs(), numeric.abs())
    rel = torch.where(scale > atol, err / scale.clamp_min(atol), torch.zeros_like(err))
    failed = int((err > atol + rtol * numeric.abs()).sum())
    worst = int(rel.argmax()) if float(rel.max()) > 0 else int(err.argmax())
    flat = int(index[worst])
    multi = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), shape)) if shape else ()
    return GradcheckRow(
        name,
        shape,
        len(index),
        failed,
        float(err.max()),
        float(rel.max()),
        multi,
        float(analytic[worst]),
        float(numeric[worst]),
    )
