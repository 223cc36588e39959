"""Named components: layers, activations, initializers, losses, optimizers, schedules, datasets, callbacks,
metrics and pretraining methods.

Each kind has a :class:`Registry` mapping names to *spec classes*: pydantic models that validate a component's
options and build it (``DenseSpec(units=10).build((784,)) -> nn.Linear``). An experiment file refers to them by
name, so later modules add names without touching the core::

    from lamina.registry import register
    from lamina.nn import LayerSpec

    @register("layer", "gated_linear")
    class GatedLinear(LayerSpec):
        units: int
        def build(self, input_shape): ...

:func:`resolve` turns a name, a ``{"type": ..., ...}`` table or a spec instance into a validated spec;
unknown names raise :class:`~lamina.errors.ConfigError` with the closest valid name.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from lamina.errors import ConfigError, Problem, did_you_mean

__all__ = ["Registry", "register", "registry", "resolve", "KINDS"]

T = TypeVar("T", bound=type)

# kind -> the key that names the component inside its TOML table
KINDS: dict[str, str] = {
    "layer": "type",
    "activation": "type",
    "initializer": "type",
    "loss": "type",
    "optimizer": "type",
    "schedule": "type",
    "dataset": "name",
    "callback": "type",
    "metric": "type",
    "pretrain": "method",
}


class Registry:
    """The names of one kind of component, each mapped to its spec class.

    Args:
        kind: what is registered ("layer", "optimizer", ...); used in messages.
        key: the TOML key that names a component of this kind ("type" for layers, "name" for datasets).
    """

    def __init__(self, kind: str, *, key: str = "type") -> None:
        self.kind = kind
        self.key = key
        self._entries: dict[str, type] = {}

    def register(self, name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[T], T]:
        """Class decorator registering a spec class under ``name`` (and ``aliases``)."""

        def _decorate(cls: T) -> T:
            for n in (name, *aliases):
                if n in self._entries and self._entries[n] is not cls:
                    raise ValueError(f"{self.kind} {n!r} is already registered to {self._entries[n].__name__}")
                self._entries[n] = cls
            if "registered_name" not in cls.__dict__:
                cls.registered_name = name  # the canonical name, used when a spec is written back out
            cls.registry_kind = self.kind
            return cls

        return _decorate

    def lookup(self, name: str) -> type:
        """The spec class registered as ``name``; a ``KeyError`` names the closest valid choice."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise KeyError(self.unknown_message(name)) from None

    def unknown_message(self, name: Any) -> str:
        """The message for an unknown name: the closest valid name and the full list."""
        valid = ", ".join(repr(n) for n in self.names(aliases=False)) or "(none installed)"
        return f"unknown {self.kind} {name!r};{did_you_mean(name, self._entries)} valid: {valid}"

    def names(self, *, aliases: bool = True) -> list[str]:
        """Every registered name, sorted; ``aliases=False`` keeps only each component's canonical name."""
        if aliases:
            return sorted(self._entries)
        return sorted(n for n, cls in self._entries.items() if cls.registered_name == n)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._entries

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._entries)} names)"


_REGISTRIES: dict[str, Registry] = {kind: Registry(kind, key=key) for kind, key in KINDS.items()}


def registry(kind: str) -> Registry:
    """The registry of ``kind`` ("layer", "optimizer", ...); a new kind is created on first use."""
    if kind not in _REGISTRIES:
        _REGISTRIES[kind] = Registry(kind)
    return _REGISTRIES[kind]


def register(kind: str, name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[T], T]:
    """Class decorator: ``@register("layer", "dense")`` registers a spec class under a name."""
    return registry(kind).register(name, aliases=aliases)


def resolve(kind: str, spec: Any, *, path: str = "") -> Any:
    """Turn a name, a table (``{"type": "sgd", "lr": 0.1}``) or a spec instance into a validated spec.

    Raises:
        ConfigError: listing every problem with its path (``path`` is prefixed, e.g. ``train.optimizer``).
    """
    from pydantic import TypeAdapter, ValidationError

    from lamina.config.fields import component
    from lamina.config.problems import problems_from

    try:
        return TypeAdapter(component(kind)).validate_python(spec)
    except ValidationError as err:
        raise ConfigError(problems_from(err, prefix=path)) from None
    except KeyError as err:  # pragma: no cover - component() reports unknown names itself
        raise ConfigError([Problem(path, str(err))]) from None
