"""Named components: layers, activations, initializers, losses, optimizers, schedules, datasets, callbacks,
metrics, pretraining methods and data transforms (augmentations applied to training batches).

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

The kinds are fixed (:data:`KINDS`): ``registry("layr")`` is a ``ValueError`` naming ``'layer'``, never a new,
empty kind. The first lookup in any registry imports lamina's own component modules (:data:`BUILTIN_MODULES`, so
that ``import lamina`` stays light and a registry is never seen half-filled), then the components third-party
packages declare in the ``lamina.plugins`` entry-point group (see the README's "Plugins"), each once; a plugin that
fails to load is skipped with a :class:`PluginWarning` naming it.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Callable
from types import MappingProxyType
from typing import Any, TypeVar

from lamina.errors import ConfigError, Problem, did_you_mean

__all__ = [
    "Registry",
    "register",
    "registry",
    "resolve",
    "KINDS",
    "BUILTIN_MODULES",
    "PLUGIN_GROUP",
    "PluginWarning",
    "load_plugins",
    "plugins_installed",
]

T = TypeVar("T", bound=type)

# kind -> the key that names the component inside its TOML table; a fixed set (read-only)
KINDS: MappingProxyType[str, str] = MappingProxyType(
    {
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
        "transform": "type",
    }
)

PLUGIN_GROUP = "lamina.plugins"  # the entry-point group third-party components are declared in

# lamina's modules whose import registers its own components; imported by name on the first lookup, as a plugin is,
# so that the registry (foundation layer) imports nothing above it. tests/test_registry_index.py checks that they
# register everything importing every lamina module would.
BUILTIN_MODULES = (
    "lamina.data",
    "lamina.losses",
    "lamina.metrics",
    "lamina.nn",
    "lamina.optim",
    "lamina.diagnostics",
    "lamina.generative",
    "lamina.memory",
    "lamina.pretrain",
    "lamina.timeseries",
    "lamina.train.callbacks",
)


class PluginWarning(UserWarning):
    """A ``lamina.plugins`` entry point that failed to load; lamina goes on without it."""


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
        load_plugins()
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
        load_plugins()
        if aliases:
            return sorted(self._entries)
        return sorted(n for n, cls in self._entries.items() if cls.registered_name == n)

    def __contains__(self, name: object) -> bool:
        load_plugins()
        return isinstance(name, str) and name in self._entries

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._entries)} names)"


_REGISTRIES: dict[str, Registry] = {kind: Registry(kind, key=key) for kind, key in KINDS.items()}


def registry(kind: str) -> Registry:
    """The registry of ``kind``, one of :data:`KINDS` ("layer", "optimizer", ...).

    Raises:
        ValueError: an unknown kind, with the closest valid one (``registry("layr")``: did you mean 'layer'?).
    """
    try:
        return _REGISTRIES[kind]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown registry kind {kind!r};{did_you_mean(kind, KINDS)} valid kinds: {', '.join(KINDS)}"
        ) from None


_plugins_loaded = False


def plugins_installed() -> bool:
    """Whether any installed distribution declares an entry point in the ``lamina.plugins`` group.

    Reads the ``entry_points.txt`` of the ``*.dist-info`` and ``*.egg-info`` folders on ``sys.path``, the files
    ``importlib.metadata`` reads, without importing it (a tenth of a second: ``lamina names`` asks this first).
    Nothing is imported."""
    header = f"[{PLUGIN_GROUP}]"
    for folder in sys.path:
        try:
            entries = list(os.scandir(folder or "."))
        except OSError:
            continue
        for entry in entries:
            if not entry.name.endswith((".dist-info", ".egg-info")):
                continue
            try:
                with open(os.path.join(entry.path, "entry_points.txt"), encoding="utf-8") as points:
                    if any(line.strip() == header for line in points):
                        return True
            except OSError:
                continue
    return False


def load_plugins() -> None:
    """Import lamina's own component modules (:data:`BUILTIN_MODULES`), then the components third-party packages
    declare in the ``lamina.plugins`` entry-point group, once.

    An entry point names a module whose import registers its components (``my_pkg.lamina_layers``), or a function
    called once with no arguments (``my_pkg.lamina_layers:register_all``). Called by the first lookup in any
    registry, so that importing lamina imports no plugin; a plugin that fails to load (an import error, a name
    registered twice) is skipped with a :class:`PluginWarning` naming it and the error.
    """
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True  # first: a plugin's own lookups must not load the plugins again
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    from importlib.metadata import entry_points  # here: a tenth of a second that `import lamina` need not pay

    for point in entry_points(group=PLUGIN_GROUP):
        try:
            loaded = point.load()
            if point.attr:
                loaded()
        except Exception as err:  # noqa: BLE001 - any failure of third-party code: warn, go on without it
            warnings.warn(
                f"lamina plugin {point.name!r} ({point.value}) failed to load and was skipped: "
                f"{type(err).__name__}: {err}",
                PluginWarning,
                stacklevel=3,
            )


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
