"""Evolution strategies (Salimans, Ho, Chen, Sidor & Sutskever, 2017): a gradient estimate from loss evaluations
alone, handed to any first-order optimizer.

For the Gaussian-smoothed loss ``L_sigma(w) = E[L(w + sigma eps)]``, ``eps ~ N(0, I)``, with antithetic pairs
``w +- sigma eps_i`` (``i = 1..n``)::

    grad L_sigma(w) ~ 1 / (2 n sigma) sum_i (F(L(w + sigma eps_i)) - F(L(w - sigma eps_i))) eps_i

where ``F`` is the identity (an unbiased estimate) or, by default, rank-based fitness shaping: each of the ``2 n``
losses replaced by its centred rank in ``[-1/2, 1/2]``, which makes the step invariant to monotone transformations
of the loss and robust to outliers (Wierstra et al., 2014).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import torch
from pydantic import Field, model_validator

from lamina.config.component import Bounds, Choices, spec_base, validated
from lamina.config.fields import component, raise_problems
from lamina.optim.closures import loss_value, record, require_closure
from lamina.optim.curvature import flatten, unflatten
from lamina.optim.torch_optimizers import OptimizerSpec, Params
from lamina.registry import register, resolve

__all__ = ["EvolutionStrategies", "EvolutionStrategiesSpec", "centered_ranks", "es_gradient", "ESEstimate"]

FORM = """    def closure():
        return loss_fn(model(x), y)             # the loss only: no backward(), it runs under torch.no_grad()"""


def centered_ranks(values: torch.Tensor) -> torch.Tensor:
    """Each value's rank among ``values``, scaled to ``[-1/2, 1/2]`` (ties broken by position)."""
    ranks = torch.empty_like(values)
    ranks[values.argsort()] = torch.arange(len(values), dtype=values.dtype, device=values.device)
    return ranks / max(len(values) - 1, 1) - 0.5


@dataclass
class ESEstimate:
    """The gradient estimate and the losses behind it (``losses[:, 0]`` at ``w + sigma eps``, ``[:, 1]`` at
    ``w - sigma eps``)."""

    gradient: torch.Tensor
    losses: torch.Tensor


def es_gradient(
    loss_at: Callable[[torch.Tensor], float],
    weights: torch.Tensor,
    *,
    sigma: float,
    pairs: int,
    shaping: str = "rank",
    generator: torch.Generator | None = None,
) -> ESEstimate:
    """Estimate the gradient of the Gaussian-smoothed loss from ``2 * pairs`` antithetic evaluations.

    Args:
        loss_at: the loss at a flat weight vector.
        weights: the flat weights ``w``.
        sigma: the perturbations' standard deviation.
        pairs: antithetic pairs ``n``.
        shaping: ``"rank"`` (centred ranks) or ``"none"`` (raw losses: unbiased for ``grad L_sigma``).
        generator: draws the perturbations (``None``: torch's global generator).

    Returns:
        An :class:`ESEstimate`.

    Cost: ``2 n`` loss evaluations; ``n`` copies of the weights held for the weighted sum.
    """
    noise = torch.randn(pairs, weights.numel(), generator=generator, dtype=weights.dtype, device="cpu")
    noise = noise.to(weights.device)
    losses = torch.tensor(
        [[loss_at(weights + sigma * eps), loss_at(weights - sigma * eps)] for eps in noise],
        dtype=weights.dtype,
        device=weights.device,
    )  # (n, 2)
    fitness = centered_ranks(losses.reshape(-1)).view_as(losses) if shaping == "rank" else losses
    gradient = (fitness[:, 0] - fitness[:, 1]) @ noise / (2 * pairs * sigma)
    return ESEstimate(gradient, losses)


class EvolutionStrategies(torch.optim.Optimizer):
    """Evolution strategies: antithetic Gaussian perturbations, fitness shaping, and any optimizer on the estimate.

    Args:
        params: the weights (one parameter group).
        lr: the step size; it is copied into the inner optimizer's groups before each of its steps, so schedules
            on this optimizer apply.
        sigma: the perturbations' standard deviation (Salimans et al.: 0.02 for networks with unit-scale inputs).
        population: perturbations per step (an even number: ``population / 2`` antithetic pairs).
        shaping: ``"rank"`` (centred ranks, the paper's choice) or ``"none"``.
        inner: builds the optimizer applied to the estimated gradient from the parameter list (default:
            ``torch.optim.Adam``, the paper's choice); it must not need a closure.
        generator: draws the perturbations (``None``: torch's global generator, which the Trainer seeds).

    Closure: ``step(closure)`` takes a :class:`lamina.train.Closure` or a function returning the loss (it is
    evaluated under ``torch.no_grad()``, so it must not call ``backward()``)::

        def closure():
            return loss_fn(model(x), y)
        optimizer.step(closure)

    Cost: ``population + 1`` loss evaluations per step, no gradients.

    References:
        Salimans, Ho, Chen, Sidor & Sutskever, "Evolution strategies as a scalable alternative to reinforcement
        learning", arXiv:1703.03864, 2017.
        Wierstra, Schaul, Glasmachers, Sun, Peters & Schmidhuber, "Natural evolution strategies", JMLR, 2014.
    """

    needs_closure: ClassVar[bool] = True

    @validated
    def __init__(
        self,
        params: Params,
        lr: Annotated[float, Bounds(gt=0)] = 0.01,
        *,
        sigma: Annotated[float, Bounds(gt=0)] = 0.02,
        population: Annotated[int, Bounds(ge=2)] = 50,
        shaping: Annotated[str, Choices("rank", "none")] = "rank",
        inner: Callable[[list], torch.optim.Optimizer] | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        if population % 2:
            raise ValueError(
                f"Invalid EvolutionStrategies: population: expected an even number (antithetic pairs), got {population}"
            )
        super().__init__(params, dict(lr=lr, sigma=sigma, population=population, shaping=shaping))
        if len(self.param_groups) != 1:
            raise ValueError("EvolutionStrategies doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        self.inner = (inner or (lambda ps: torch.optim.Adam(ps, lr=lr)))(self._params)
        if getattr(self.inner, "needs_closure", False) or isinstance(self.inner, torch.optim.LBFGS):
            raise ValueError(
                f"EvolutionStrategies: the inner optimizer must be first-order (it gets an estimated "
                f"gradient, no closure), got {type(self.inner).__name__}"
            )
        self.generator = generator

    def _set(self, flat: torch.Tensor) -> None:
        with torch.no_grad():
            for p, v in zip(self._params, unflatten(flat, self._params)):
                p.copy_(v)

    def step(self, closure: Callable | None = None) -> torch.Tensor:
        """Estimate the gradient from ``population`` perturbed losses and let the inner optimizer step on it;
        returns the loss at the unperturbed weights."""
        require_closure("EvolutionStrategies", closure, FORM)
        group, params = self.param_groups[0], self._params
        loss, outputs = loss_value("EvolutionStrategies", closure, FORM)
        record(closure, loss, outputs)
        weights = flatten([p.detach() for p in params], params).clone()

        def _loss_at(w: torch.Tensor) -> float:
            self._set(w)
            value = float(loss_value("EvolutionStrategies", closure, FORM)[0])
            return value if value == value else float("inf")  # NaN ranks as the worst

        estimate = es_gradient(
            _loss_at,
            weights,
            sigma=group["sigma"],
            pairs=group["population"] // 2,
            shaping=group["shaping"],
            generator=self.generator,
        )
        self._set(weights)
        for p, g in zip(params, unflatten(estimate.gradient, params)):
            p.grad = g.clone()
        for inner_group in self.inner.param_groups:
            inner_group["lr"] = group["lr"]
        self.inner.step()
        self.state[params[0]]["losses"] = estimate.losses
        return loss

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state plus the inner optimizer's and, if there is one, the generator's."""
        state = super().state_dict()
        state["inner"] = self.inner.state_dict()
        if self.generator is not None:
            state["generator"] = self.generator.get_state()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`, the inner optimizer's state and the generator's included."""
        state_dict = dict(state_dict)
        inner, generator = state_dict.pop("inner", None), state_dict.pop("generator", None)
        super().load_state_dict(state_dict)
        if inner is not None:
            self.inner.load_state_dict(inner)
        if generator is not None and self.generator is not None:
            self.generator.set_state(generator)


@register("optimizer", "evolution_strategies", aliases=("es",))
class EvolutionStrategiesSpec(spec_base(EvolutionStrategies, OptimizerSpec, exclude=("params", "inner", "generator"))):
    """Evolution strategies (Salimans et al., 2017): antithetic perturbations, rank shaping, and ``inner`` (any
    first-order optimizer; its ``lr`` is replaced by this one's) on the estimated gradient. The options are
    :class:`EvolutionStrategies`' keyword arguments, with its defaults and bounds; ``inner`` is an optimizer table
    here, whose ``build`` the constructor gets."""

    needs_closure: ClassVar[bool] = True

    inner: component("optimizer") = Field(default_factory=lambda: resolve("optimizer", "adam"))  # the paper's

    @model_validator(mode="after")
    def _checks(self) -> EvolutionStrategiesSpec:
        problems = []
        if self.population % 2:
            problems.append((("population",), f"expected an even number (antithetic pairs), got {self.population}"))
        if self.inner.needs_closure:
            problems.append(
                (("inner",), f"expected a first-order optimizer, got {self.inner.type_name!r}, which needs a closure")
            )
        raise_problems("evolution_strategies", problems)
        return self

    def build(self, params: Params | Iterable) -> torch.optim.Optimizer:
        """An :class:`EvolutionStrategies` over ``params``, with ``inner`` building its inner optimizer."""
        return EvolutionStrategies(params, **self.options())
