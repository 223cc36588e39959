"""An option is declared once: in the annotated signature of the constructor that takes it.

A component's constructor names each option, its default and its bounds::

    class HessianFree(torch.optim.Optimizer):
        @validated
        def __init__(self, params, lr: Annotated[float, Bounds(gt=0)] = 1.0, *,
                     preconditioner: Annotated[str | None, Choices("none", "empirical_fisher")] = "none"): ...

and everything else is derived from it, as jsonargparse and LightningCLI derive a YAML schema from a class's
signature:

- :func:`spec_base` builds the pydantic base of the component's experiment-file spec, one field per option, so the
  TOML keys *are* the keyword names, with the same defaults and bounds;
- :func:`validated` checks a direct Python call with the same field types, so ``HessianFree(params, damping=-1)``
  fails with the experiment file's wording (``ValueError: Invalid HessianFree: damping: expected a number > 0,
  got -1.0``);
- :meth:`lamina.config.spec.Spec.options` hands the validated options to the constructor by name, so a builder
  is ``HessianFree(params, **spec.options())`` rather than a hand-written mapping.

``tests/config/test_component_consistency.py`` walks the registry and fails where a spec and its constructor
disagree on an option's name, default or bounds.
"""

from __future__ import annotations

import functools
import inspect
import operator
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, Union

from pydantic import ConfigDict, ValidationError, create_model

from lamina.config.fields import Bounds, Choices, ComponentOf, choice, count, number
from lamina.config.problems import problems_from
from lamina.config.spec import Spec
from lamina.registry import registry

__all__ = [
    "Bounds",
    "Choices",
    "Option",
    "disagreements",
    "option_type",
    "options_of",
    "spec_base",
    "spec_fields",
    "validated",
]

F = TypeVar("F", bound=Callable[..., Any])

_EMPTY = inspect.Parameter.empty


@dataclass(frozen=True)
class Option:
    """One keyword option of a constructor: its name, default (``inspect.Parameter.empty`` if required), the
    annotation's base type, and its :class:`Bounds` or :class:`Choices` (``None`` where it declares none)."""

    name: str
    default: Any
    annotation: Any
    bounds: Bounds | None = None
    choices: Choices | None = None

    @property
    def required(self) -> bool:
        """True where the constructor gives no default."""
        return self.default is _EMPTY


def _split(annotation: Any) -> tuple[Any, Bounds | None, Choices | None]:
    """``Annotated[T, Bounds(...)]`` -> ``(T, bounds, choices)``; other annotations pass through unmarked."""
    bounds = choices = None
    if typing.get_origin(annotation) is Annotated:
        base, *meta = typing.get_args(annotation)
        bounds = next((m for m in meta if isinstance(m, Bounds)), None)
        choices = next((m for m in meta if isinstance(m, Choices)), None)
        return base, bounds, choices
    return annotation, bounds, choices


def options_of(target: type | Callable[..., Any]) -> dict[str, Option]:
    """The options a constructor (or function) takes, from its annotated signature, in order.

    ``self``, ``*args`` and ``**kwargs`` are left out; where ``**kwargs`` is forwarded to the base class's
    constructor (``DenoisingAutoencoder(n_visible, n_hidden, *, corruption, level, **options)``), the base's
    options follow the class's own.
    """
    owners: list[Callable[..., Any]] = []
    if isinstance(target, type):
        for klass in target.__mro__:
            if "__init__" in vars(klass) and klass is not object:
                owners.append(inspect.unwrap(vars(klass)["__init__"]))
    else:
        owners.append(inspect.unwrap(target))
    found: dict[str, Option] = {}
    for function in owners:
        try:
            hints = typing.get_type_hints(function, include_extras=True)
        except (NameError, TypeError):  # a foreign class's unresolvable annotation: its names and defaults still count
            hints = {}
        forwards = False
        for p in list(inspect.signature(function).parameters.values())[(1 if isinstance(target, type) else 0) :]:
            if p.kind is p.VAR_KEYWORD:
                forwards = True
            elif p.kind is not p.VAR_POSITIONAL and p.name not in found:
                base, bounds, choices = _split(hints.get(p.name, Any))
                found[p.name] = Option(p.name, p.default, base, bounds, choices)
        if not forwards:
            break
    return found


def _without_none(annotation: Any) -> tuple[Any, bool]:
    """``T | None`` -> ``(T, True)``."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def option_type(option: Option) -> Any:
    """The pydantic field type of ``option``: ``number``/``count``/``choice`` with its bounds or choices,
    ``bool``, ``str``, a list of numbers, integers or strings (a list's bounds bound its elements), or a union of
    those (``int | list[int]``, each arm with the option's bounds); ``| None`` where the constructor accepts
    ``None``.

    Raises:
        TypeError: for an annotation no experiment file can give (a tensor, a generator...): leave that parameter
            out with ``exclude``.
    """
    base, optional = _without_none(option.annotation)
    b = option.bounds or Bounds()
    if base is bool:
        field: Any = bool
    elif base is float:
        field = number(b.lo, b.hi, lo_open=b.gt is not None, hi_open=b.lt is not None)
    elif base is int:
        if b.gt is not None or b.lt is not None:
            raise TypeError(f"`{option.name}`: give an integer's bounds as ge/le, got {b}")
        field = count(None if b.ge is None else int(b.ge), None if b.le is None else int(b.le))
    elif base is str:
        field = choice(*option.choices) if option.choices else str
    elif typing.get_origin(base) in (list, tuple, Sequence) and typing.get_args(base)[:1] == (float,):
        field = list[number(b.lo, b.hi, lo_open=b.gt is not None, hi_open=b.lt is not None)]  # type: ignore[misc]
    elif typing.get_origin(base) in (list, tuple, Sequence) and typing.get_args(base)[:1] == (int,):
        field = list[count(None if b.ge is None else int(b.ge), None if b.le is None else int(b.le))]  # type: ignore[misc]
    elif typing.get_origin(base) in (list, tuple, Sequence) and typing.get_args(base)[:1] == (str,):
        field = list[str]
    elif typing.get_origin(base) in (Union, types.UnionType):  # ``int | list[int]``: each arm with the same bounds
        arms = [option_type(Option(option.name, option.default, arm, option.bounds)) for arm in typing.get_args(base)]
        field = functools.reduce(operator.or_, arms)
    else:
        raise TypeError(
            f"`{option.name}`: an option of type {option.annotation!r} cannot come from an experiment "
            "file; annotate it as bool, int, float or str (with Bounds or Choices), or exclude it"
        )
    return field | None if optional else field


def spec_fields(target: type | Callable[..., Any], *, exclude: Iterable[str] = ()) -> dict[str, tuple[Any, Any]]:
    """``{name: (field type, default)}`` for :func:`pydantic.create_model`, one per option of ``target``'s
    constructor except those in ``exclude`` (the inputs a builder supplies: ``params``, sizes, devices...)."""
    skip = set(exclude)
    fields = {}
    for option in options_of(target).values():
        if option.name in skip:
            continue
        default = ... if option.required else option.default
        if isinstance(default, tuple):  # TOML has only lists, and strict mode refuses a tuple
            default = list(default)
        fields[option.name] = (option_type(option), default)
    return fields


def spec_base(target: type | Callable[..., Any], base: type, *, exclude: Iterable[str] = ()) -> Any:
    """A subclass of the spec class ``base`` with one field per option of ``target``'s constructor (see
    :func:`spec_fields`) and ``target_class = target``; the registered spec subclasses it and adds ``build``.
    ``target`` may also be a function whose keywords are the options (a loss function's ``delta``).

    Example:
        >>> class HessianFreeSpec(spec_base(HessianFree, OptimizerSpec, exclude=("params",))):
        ...     def build(self, params): return HessianFree(params, **self.options())
    """
    model: Any = create_model(
        f"{target.__name__}Options",
        __base__=base,
        __module__=target.__module__,  # type: ignore[call-overload]
        **spec_fields(target, exclude=exclude),
    )
    model.target_class = target
    model.excluded_options = tuple(exclude)
    model.__doc__ = f"The options of :class:`{target.__module__}.{target.__qualname__}`, from its signature."
    return model


_STRICT = ConfigDict(strict=True, arbitrary_types_allowed=True)


@functools.cache
def _checker(function: Callable[..., Any]) -> tuple[Any, tuple[str, ...]]:
    """The pydantic model that checks ``function``'s annotated options, and the names it checks."""
    fields = {}
    for option in options_of(function).values():
        try:
            fields[option.name] = (option_type(option), ...)
        except TypeError:
            continue  # not an option a config could give (params, a generator, a device): the constructor's own
    model = create_model(f"_{function.__qualname__}Checker", __config__=_STRICT, **fields)  # type: ignore[call-overload]
    return model, tuple(fields)


@typing.overload
def validated(init: F, /) -> F:
    """``@validated``: the bare decorator."""


@typing.overload
def validated(*, renamed: dict[str, str]) -> Callable[[F], F]:
    """``@validated(renamed=...)``: the decorator with renamed keywords."""


def validated(init: F | None = None, /, *, renamed: dict[str, str] | None = None) -> Any:
    """Decorator for a constructor (or a function whose keywords are options): check its options with the field
    types :func:`spec_base` derives from the same signature, so a direct call and an experiment file fail alike.

    ``@validated(renamed={"hidden": "units"})``: a keyword renamed so that the Python name is the experiment
    file's key; the old keyword fails with ``TypeError: Elman: 'hidden' is now 'units'`` (as a renamed TOML key
    does, :attr:`lamina.config.spec.Section.renamed_keys`) rather than Python's bare "unexpected keyword".

    Raises (from the decorated constructor):
        ValueError: ``Invalid <class of the object built, or function>: <option>: <problem>`` for every option
            that breaks its declaration. The checked values are passed on as the spec gives them (``lr=1`` arrives
            as ``1.0``).
        TypeError: a keyword of ``renamed`` given.
    """
    if init is None:
        return lambda function: _validated(function, renamed or {})
    return _validated(init, {})


def _validated(init: F, renamed: dict[str, str]) -> F:
    """:func:`validated`'s wrapper of ``init`` (a constructor, or a function whose keywords are options)."""
    signature = inspect.signature(init)
    method = next(iter(signature.parameters), "") == "self"

    @functools.wraps(init)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        """Validate the call's options as the experiment file would, then run the constructor."""
        what = type(args[0]).__name__ if method and args else init.__name__
        old = [k for k in kwargs if k in renamed]
        if old:
            now = ", ".join(f"{k!r} is now {renamed[k]!r}" for k in old)
            raise TypeError(f"{what}: {now}")
        model, names = _checker(init)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        given = {n: bound.arguments[n] for n in names if n in bound.arguments}
        try:
            checked = model.model_validate({n: list(v) if isinstance(v, tuple) else v for n, v in given.items()})
        except ValidationError as err:
            problems = "; ".join(f"{p.path}: {p.message}" for p in problems_from(err))
            raise ValueError(f"Invalid {what}: {problems}") from None
        for n in names:
            if n in bound.arguments and not isinstance(bound.arguments[n], tuple):
                bound.arguments[n] = getattr(checked, n)
        return init(*bound.args, **bound.kwargs)

    wrapper.__lamina_validated__ = True  # type: ignore[attr-defined]  # lamina declares these options itself
    return typing.cast(F, wrapper)


def _validates(target: type | Callable[..., Any]) -> bool:
    """True where ``target``'s constructor (the nearest ``__init__``) or ``target`` itself is :func:`validated`."""
    if isinstance(target, type):
        init = next((vars(k)["__init__"] for k in target.__mro__ if "__init__" in vars(k)), None)
        return bool(getattr(init, "__lamina_validated__", False))
    return bool(getattr(target, "__lamina_validated__", False))


def _markers(annotation: Any, metadata: Iterable[Any] = ()) -> tuple[Bounds | None, Choices | None]:
    """The :class:`Bounds` and :class:`Choices` of a field, wherever pydantic keeps them (its metadata, or inside
    ``Annotated[...] | None``)."""
    found = list(metadata)
    base, _ = _without_none(annotation)
    if typing.get_origin(base) in (Union, types.UnionType):  # ``int | list[int]``: the arms share their bounds
        base = typing.get_args(base)[0]
    if typing.get_origin(base) is list:  # a list's bounds are its elements'
        base = typing.get_args(base)[0]
    if typing.get_origin(base) is Annotated:
        found += typing.get_args(base)[1:]
    bounds = next((m for m in found if isinstance(m, Bounds)), None)
    choices = next((m for m in found if isinstance(m, Choices)), None)
    return (None if bounds == Bounds() else bounds), choices


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _holds_component(annotation: Any, metadata: Iterable[Any] = ()) -> bool:
    """True for a :func:`lamina.config.fields.component` field (an activation, an initializer), also inside
    ``| None`` or a list."""
    if any(isinstance(m, ComponentOf) for m in metadata):
        return True
    base, _ = _without_none(annotation)
    if typing.get_origin(base) is list:
        base = typing.get_args(base)[0]
    return typing.get_origin(base) is Annotated and any(isinstance(m, ComponentOf) for m in typing.get_args(base)[1:])


def _framework_fields(spec: Any) -> set[str]:
    """The fields every component of ``spec``'s kind has (a layer's ``name`` and ``inputs``): those of the nearest
    base all the kind's registered specs share. A base shared by only some of them (the pooling layers' window
    options) is no excuse: its fields are the component's own."""
    kind = getattr(spec, "registry_kind", "")
    if not kind:
        return set()
    specs = [registry(kind).lookup(n) for n in registry(kind).names(aliases=False)]
    common = [
        b for b in spec.__mro__ if isinstance(b, type) and issubclass(b, Spec) and all(issubclass(o, b) for o in specs)
    ]
    return set(common[0].model_fields) if common else set()


def disagreements(spec: Any) -> list[str]:
    """Where the spec class ``spec`` and its ``target_class``'s constructor disagree, in words (empty: none).

    - every option the constructor declares with a type a config can give must be a field, unless the spec leaves
      it to the builder (``excluded_options``): a renamed key shows up as the constructor's name missing;
    - a field that is an option must have the constructor's default, unless the spec excludes that option: a
      field named like an excluded option stands for what the builder makes from it (evolution strategies'
      ``inner`` optimizer table, whose ``build`` the constructor gets; a highway layer's ``activation`` table,
      whose module it gets; a residual block's ``shortcut`` rule, from which it builds the shortcut module);
    - and the constructor's :class:`Bounds` and :class:`Choices`, where it declares them (it is lamina's: it is
      :func:`validated` or declares some). A foreign constructor (torch's) declares none: there every field must at
      least be one of its keywords, except a field holding a component, such as a layer's ``init``, which the
      builder applies to what the constructor made.

    ``target_class`` may be a class (its ``__init__``'s keywords) or a function (its keywords: ``F.huber_loss``'s
    ``delta``).
    """
    target = getattr(spec, "target_class", None)
    if target is None:
        return ["names no target_class, so its options are not tied to a constructor"]
    where = f"{target.__module__}.{target.__qualname__}"
    declared = options_of(target)
    fields = spec.model_fields
    problems = []
    foreign = not _validates(target) and not any(o.bounds or o.choices for o in declared.values())
    skip = set(getattr(spec, "excluded_options", ()))
    if foreign:
        framework = _framework_fields(spec)
        problems += [
            f"field {n!r} is not a keyword of {where}"
            for n, f in fields.items()
            if n not in declared and n not in framework and not _holds_component(f.annotation, f.metadata)
        ]
    else:
        for name, option in declared.items():
            if name in fields or name in skip:
                continue
            try:
                option_type(option)
            except TypeError:
                continue  # not something a config could give
            problems.append(f"{where} takes {name!r}, which the spec has no field for (renamed?)")
    for name in spec.option_names():
        if name in skip:
            continue
        field, option = fields[name], declared[name]
        default = field.get_default(call_default_factory=True)
        if not isinstance(default, Spec) and not option.required and _plain(default) != _plain(option.default):
            problems.append(f"{name!r}: default {default!r} in the spec, {option.default!r} in {where}")
        if not foreign:
            mine = _markers(field.annotation, field.metadata)
            theirs = (option.bounds, option.choices)
            if mine != theirs:
                problems.append(f"{name!r}: bounds/choices {mine} in the spec, {theirs} in {where}")
    return problems
