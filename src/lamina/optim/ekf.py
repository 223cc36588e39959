"""Extended Kalman filter training (Singhal & Wu, 1989; Puskorius & Feldkamp, 1994; Haykin, 2001): the weights are
the state of a filter whose observation is the network's output.

With ``w`` the weights, ``P`` their error covariance, ``H = d outputs / d w`` (the linearised observation matrix,
one row per output of every example in the batch) and ``e = targets - outputs``::

    A = (H P H^T + R / lr)^-1          K = P H^T A
    w <- w + K e                       P <- P - K H P + Q

``R`` is the measurement noise and ``Q`` the process noise (both times the identity), optionally annealed; ``lr``
divides ``R`` (Haykin's learning rate), so lamina's learning-rate schedules apply. The global filter (GEKF) keeps one
``n x n`` covariance; the decoupled one (DEKF) a block-diagonal one, per layer or per neuron, and the same equations
hold block by block with ``A`` shared (:mod:`lamina.optim.ekf_blocks`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, ClassVar

import torch

from lamina.config.component import Bounds, Choices, spec_base, validated
from lamina.optim.closures import require_closure, residuals_of
from lamina.optim.curvature import CurvatureError, flatten, unflatten
from lamina.optim.ekf_blocks import DECOUPLINGS, covariance_bytes, decoupled_blocks, format_bytes
from lamina.optim.torch_optimizers import OptimizerSpec, Params
from lamina.registry import register

__all__ = ["EKF", "EKFSpec", "ekf_update", "output_jacobian", "annealed"]

FORM = """    def closure():
        return y - model(x)                     # the residuals, with their graph"""


def annealed(initial: float, final: float | None, steps: int, step: int) -> float:
    """``initial`` moved towards ``final`` over ``steps`` steps, geometrically (linearly if either is 0), then held."""
    if final is None or steps <= 0:
        return initial
    t = min(step, steps) / steps
    if initial > 0 and final > 0:
        return initial * (final / initial) ** t
    return initial + (final - initial) * t


def output_jacobian(values: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
    """``d values / d params`` as an ``(M, n)`` matrix for the ``M`` entries of ``values`` (backward passes under
    vmap)."""
    flat = values.reshape(-1)
    if flat.numel() == 1:
        rows = [torch.autograd.grad(flat[0], params, allow_unused=True)]
        return flatten(rows[0], params).unsqueeze(0)
    eye = torch.eye(flat.numel(), dtype=flat.dtype, device=flat.device)
    grads = torch.autograd.grad(flat, params, grad_outputs=eye, is_grads_batched=True, allow_unused=True)
    return torch.cat(
        [
            (g if g is not None else torch.zeros(len(eye), *p.shape, dtype=p.dtype, device=p.device)).reshape(
                len(eye), -1
            )
            for g, p in zip(grads, params)
        ],
        dim=1,
    )


def ekf_update(
    covariances: Sequence[torch.Tensor],
    blocks: Sequence[torch.Tensor],
    H: torch.Tensor,
    e: torch.Tensor,
    measurement_noise: float,
    process_noise: float,
) -> torch.Tensor:
    """One (decoupled) extended-Kalman-filter update; updates ``covariances`` in place and returns ``K e``.

    Args:
        covariances: per family, the ``(B, s, s)`` covariance blocks ``P_b``.
        blocks: per family, the ``(B, s)`` indices of each block's weights in the flat weight vector.
        H: ``(M, n)``, the outputs' Jacobian with respect to the ``n`` weights.
        e: ``(M,)``, targets minus outputs.
        measurement_noise: ``R`` (> 0), times the ``M x M`` identity.
        process_noise: ``Q`` (>= 0), added to each block's diagonal after the update.

    Returns:
        The weight change ``(n,)``.

    Cost: ``O(M sum_b s_b^2 + M^3)`` time, ``O(sum_b s_b^2)`` memory (``n^2`` for the global filter).
    """
    m = H.shape[0]
    projected = []  # H_b P_b, (B, M, s)
    S = torch.eye(m, dtype=H.dtype, device=H.device) * measurement_noise
    for P, idx in zip(covariances, blocks):
        h = H[:, idx].permute(1, 0, 2)  # (B, M, s)
        hp = h @ P
        projected.append(hp)
        S = S + (hp @ h.transpose(1, 2)).sum(0)  # sum_b H_b P_b H_b^T, (M, M)
    chol, info = torch.linalg.cholesky_ex(S)
    if info.item() != 0 or not torch.isfinite(S).all():
        raise CurvatureError(
            "EKF: H P H^T + R is not positive definite (the covariance P has lost its positive "
            "definiteness or holds non-finite values); raise measurement_noise or lower "
            "initial_covariance"
        )
    A = torch.cholesky_inverse(chol)  # M x M, shared by every block (LAPACK's batched solve is slow for small M)
    dw = torch.zeros(H.shape[1], dtype=H.dtype, device=H.device)
    for P, idx, hp in zip(covariances, blocks, projected):
        gain = hp.transpose(1, 2) @ A  # K_b = P_b H_b^T A, (B, s, M)
        dw[idx] = gain @ e  # (B, s)
        P.sub_(gain @ hp)  # P_b - K_b H_b P_b
        P.diagonal(dim1=1, dim2=2).add_(process_noise)
        P.copy_(0.5 * (P + P.transpose(1, 2)))  # keep P symmetric against rounding
    return dw


def _free_memory(device: torch.device) -> int | None:
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


class EKF(torch.optim.Optimizer):
    """Train by an extended Kalman filter over the weights: global (GEKF) or decoupled (DEKF).

    Args:
        params: the weights (one parameter group), in the order the model gives them (a weight matrix, then its
            bias), which is how ``decoupling`` finds layers and neurons.
        lr: divides the measurement noise (Haykin's learning rate ``eta``: ``A = (H P H^T + R / eta)^-1``).
        decoupling: ``"global"`` (GEKF, ``n^2`` memory), ``"layer"`` or ``"neuron"`` (DEKF; NDEKF per neuron).
        initial_covariance: ``P(0) = initial_covariance * I``, the prior variance of each weight (Haykin, 2001,
            suggests 1e2 to 1e3 for sigmoid networks with inputs of unit scale; smaller is more cautious).
        measurement_noise, process_noise: ``R`` and ``Q`` at the first step.
        measurement_noise_final, process_noise_final: annealed to these over ``anneal_steps`` steps (geometric,
            or linear when one end is 0), as Puskorius & Feldkamp (1994) anneal ``R`` from 100 to 3 and
            ``Q`` from 1e-2 to 1e-6.
        anneal_steps: the length of the annealing, in optimizer steps.
        max_memory: bytes the covariance may take (default: half the free memory of the weights' device); a
            larger covariance is refused before it is allocated.

    Closure: ``step(closure)`` takes a :class:`lamina.train.Closure` (residuals ``targets - outputs``, which must
    be real-valued of the outputs' shape) or a function returning the residuals with their graph::

        def closure():
            return y - model(x)
        optimizer.step(closure)

    A batch of ``N`` examples with ``m`` outputs is one ``M = N m`` dimensional observation (multi-stream EKF);
    the classic filter updates after every example (``batch_size = 1``).

    Cost per step: ``O(M n)`` memory for ``H`` and ``O(M sum_b s_b^2 + M^3)`` time; the covariance takes
    ``sum_b s_b^2`` numbers (``n^2`` for the global filter).

    References:
        Singhal & Wu, "Training multilayer perceptrons with the extended Kalman algorithm", NIPS 1989.
        Puskorius & Feldkamp, "Neurocontrol of nonlinear dynamical systems with Kalman filter trained recurrent
        networks", IEEE Trans. Neural Networks, 1994.
        Haykin (ed.), "Kalman Filtering and Neural Networks", Wiley, 2001, chapter 2.
        Prokhorov, "Toyota Prius HEV neurocontrol and diagnostics", Neural Networks, 2008.
    """

    needs_closure: ClassVar[bool] = True

    @validated
    def __init__(
        self,
        params: Params,
        lr: Annotated[float, Bounds(gt=0)] = 1.0,
        *,
        decoupling: Annotated[str, Choices(*DECOUPLINGS)] = "global",
        initial_covariance: Annotated[float, Bounds(gt=0)] = 100.0,
        measurement_noise: Annotated[float, Bounds(gt=0)] = 1.0,
        process_noise: Annotated[float, Bounds(ge=0)] = 1e-4,
        measurement_noise_final: Annotated[float | None, Bounds(gt=0)] = None,
        process_noise_final: Annotated[float | None, Bounds(ge=0)] = None,
        anneal_steps: Annotated[int, Bounds(ge=1)] = 1000,
        max_memory: Annotated[int | None, Bounds(ge=1)] = None,
    ) -> None:  # bytes
        defaults = dict(
            lr=lr,
            decoupling=decoupling,
            initial_covariance=initial_covariance,
            measurement_noise=measurement_noise,
            process_noise=process_noise,
            measurement_noise_final=measurement_noise_final,
            process_noise_final=process_noise_final,
            anneal_steps=anneal_steps,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("EKF doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        self._blocks = decoupled_blocks(self._params, decoupling)
        first = self._params[0]
        self._check_memory(decoupling, first, max_memory)
        self._blocks = [b.to(first.device) for b in self._blocks]

    def _check_memory(self, decoupling: str, first: torch.Tensor, max_memory: int | None) -> None:
        """Refuse, before allocating it, a covariance larger than ``max_memory`` (default: half the free memory)."""
        needed = covariance_bytes(self._blocks, first.dtype)
        free = _free_memory(first.device)
        limit = max_memory if max_memory is not None else (free // 2 if free else None)
        if limit is None or needed <= limit:
            return
        n = sum(p.numel() for p in self._params)
        sizes = {d: covariance_bytes(decoupled_blocks(self._params, d), first.dtype) for d in DECOUPLINGS}
        others = ", ".join(f"'{d}' needs {format_bytes(b)}" for d, b in sizes.items() if d != decoupling)
        shape = "an n x n matrix" if decoupling == "global" else "its blocks"
        raise MemoryError(
            f"EKF(decoupling={decoupling!r}) needs a covariance P of {format_bytes(needed)} for this "
            f"network's {n:,} weights ({shape}), more than the {format_bytes(limit)} allowed "
            f"(max_memory; default half the free memory on {first.device}). Use the decoupled filter "
            f"(DEKF): {others}"
        )

    def _covariances(self) -> list[torch.Tensor]:
        state = self.state[self._params[0]]
        if "covariance" not in state:
            first, scale = self._params[0], self.param_groups[0]["initial_covariance"]
            eye = [torch.eye(b.shape[1], dtype=first.dtype, device=first.device) * scale for b in self._blocks]
            state["covariance"] = [e.expand(b.shape[0], -1, -1).clone() for e, b in zip(eye, self._blocks)]
            state["step"] = 0
        return state["covariance"]

    def noise(self) -> tuple[float, float]:
        """``(R / lr, Q)`` at the current step (after annealing)."""
        group, step = self.param_groups[0], self.state[self._params[0]].get("step", 0)
        r = annealed(group["measurement_noise"], group["measurement_noise_final"], group["anneal_steps"], step)
        q = annealed(group["process_noise"], group["process_noise_final"], group["anneal_steps"], step)
        return r / group["lr"], q

    def step(self, closure: Callable | None = None) -> torch.Tensor:
        """One filter update on the batch; returns the loss before it (the closure's, or the mean squared residual)."""
        require_closure("EKF", closure, FORM)
        covariances = self._covariances()
        with torch.enable_grad():
            residuals, loss = residuals_of("EKF", closure, FORM)
            if not torch.isfinite(residuals.detach()).all():
                return loss  # the trainer reports the divergence
            H = -output_jacobian(residuals, self._params)  # d outputs / d w = -d residuals / d w
        r, q = self.noise()
        dw = ekf_update(covariances, self._blocks, H.detach(), residuals.detach().reshape(-1), r, q)
        with torch.no_grad():
            for p, d in zip(self._params, unflatten(dw, self._params)):
                p.add_(d)
        self.state[self._params[0]]["step"] += 1
        return loss


@register("optimizer", "ekf", aliases=("extended_kalman_filter", "dekf", "gekf"))
class EKFSpec(spec_base(EKF, OptimizerSpec, exclude=("params",))):
    """Extended-Kalman-filter training (Puskorius & Feldkamp, 1994): global (GEKF) or decoupled per layer or per
    neuron (DEKF); ``batch_size = 1`` is the classic per-example filter. Targets are real-valued (use ``mse``).
    The options are :class:`EKF`'s keyword arguments, with its defaults and bounds."""

    needs_closure: ClassVar[bool] = True

    def build(self, params: Params | Iterable) -> torch.optim.Optimizer:
        """An :class:`EKF` over ``params`` with these options."""
        return EKF(params, **self.options())
