"""The facts about every registered component an experiment file can name: its options with their types, bounds and
defaults, in plain text.

One source for every listing of them (``lamina names`` and the documentation's experiment-file reference), read
from the spec classes themselves, so a listing cannot drift from what the file accepts::

    >>> from lamina.config.describe import describe
    >>> [o.name for o in describe("optimizer", "sgd").options][:2]
    ['lr', 'momentum']
"""

from __future__ import annotations

import inspect
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic.fields import FieldInfo

from lamina.config.fields import Bounds, Choices, ComponentOf, interval_text
from lamina.config.spec import Spec
from lamina.registry import KINDS, registry

__all__ = ["OptionInfo", "ComponentInfo", "describe", "describe_kind", "option_descriptions", "option_rows"]

_SECTION = re.compile(r"(Args|Arguments|Options|Attributes|Keyword Args|Keyword Arguments):")

# fields every layer has for graph models; listed once on the reference page rather than under each layer
_SHARED_LAYER_FIELDS = ("name", "inputs")


@dataclass(frozen=True)
class OptionInfo:
    """One option of a component as an experiment file sees it.

    Attributes:
        name: the TOML key.
        type: the value's type in words (``"float"``, ``"int | list[int]"``, ``"activation"`` for a registered
            component's name or table).
        rule: the bounds or choices (``"> 0"``, ``"in [0, 1)"``, ``"one of 'fp32', 'bf16'"``); ``""`` for none.
        default: the default as TOML would write it (``"0.01"``, ``'"rank"'``, ``"none"``); ``""`` when required.
        required: whether the file must give it.
        description: what it does, from lamina's docstrings (the spec's, then its constructor's); ``""`` if none.
    """

    name: str
    type: str
    rule: str
    default: str
    required: bool
    description: str = ""


@dataclass(frozen=True)
class ComponentInfo:
    """A registered component: its kind, canonical name, aliases, spec class and options."""

    kind: str
    name: str
    aliases: tuple[str, ...]
    spec: type
    options: tuple[OptionInfo, ...]


def describe(kind: str, name: str) -> ComponentInfo:
    """The facts about the component registered as ``name`` (or an alias of it) under ``kind``.

    Raises:
        ValueError: an unknown kind; KeyError: an unknown name (each naming the closest valid one).
    """
    reg = registry(kind)
    cls = reg.lookup(name)
    canonical = getattr(cls, "registered_name", "") or name
    aliases = tuple(a for a in reg.names() if reg.lookup(a) is cls and a != canonical)
    return ComponentInfo(kind, canonical, aliases, cls, tuple(option_rows(cls)))


def describe_kind(kind: str) -> list[ComponentInfo]:
    """:func:`describe` for every component of ``kind`` (one of :data:`lamina.registry.KINDS`), sorted by name."""
    return [describe(kind, n) for n in registry(kind).names(aliases=False)]


def option_rows(spec: type[Spec], *, every: bool = False) -> list[OptionInfo]:
    """The options of a spec class in declaration order. Unless ``every``, the ``name`` and ``inputs`` keys every
    layer takes (for graph models) and the key that names the component (``type``) are left out."""
    skip: set[str] = set()
    if not every:
        skip = set(_SHARED_LAYER_FIELDS if spec.registry_kind == "layer" else ())
        skip.add(KINDS.get(spec.registry_kind, "type"))
    descriptions = option_descriptions(spec)
    return [_row(n, f, descriptions.get(n, "")) for n, f in spec.model_fields.items() if n not in skip]


def _row(name: str, field: FieldInfo, description: str = "") -> OptionInfo:
    base, bounds, choices, kind = _unpack(field.annotation, list(field.metadata))
    required = field.is_required()
    if required:
        default = ""
    elif field.default_factory is not None:
        default = _toml(field.default_factory())  # type: ignore[call-arg]
    else:
        default = _toml(field.default)
    rule = ""
    if choices:
        rule = "one of " + ", ".join(repr(c) for c in choices)
    elif bounds is not None:
        rule = _interval(bounds)
    return OptionInfo(name, kind or _type_text(base), rule, default, required, field.description or description)


def option_descriptions(cls: type) -> dict[str, str]:
    """Each option's description, from the spec classes' docstrings (the nearest first), then those of the class
    whose constructor declares the options and its bases. lamina's own docstrings only: torch's change from one
    release to the next, and the index must not."""
    found: dict[str, str] = {}
    owners: list[Any] = [k for k in cls.__mro__ if isinstance(k, type) and issubclass(k, Spec)]
    target = getattr(cls, "target_class", None)
    for klass in getattr(target, "__mro__", ()):  # "others: see RBM": the bases' docstrings too
        if klass is not object:
            owners += [klass, vars(klass).get("__init__")]
    if target is not None and not isinstance(target, type):  # a function whose keywords are the options
        owners.append(target)
    for owner in owners:
        if getattr(owner, "__module__", "").startswith("lamina"):
            for name, text in _arg_descriptions(getattr(owner, "__doc__", None)).items():
                found.setdefault(name, text)
    return found


def _arg_descriptions(doc: str | None) -> dict[str, str]:
    """``{option: description}`` from a docstring's Google-style ``Args:`` (or ``Options:``/``Attributes:``)
    section. An entry may describe several options at once (``kernel_size, stride: per dimension``); a parenthesis
    after a name (``padding ("same", "valid" or sizes): ...``) opens that name's description."""
    found: dict[str, str] = {}
    inside, indent, current = False, None, list[str]()
    for line in inspect.cleandoc(doc or "").splitlines():
        text = line.strip()
        lead = len(line) - len(line.lstrip())
        if _SECTION.fullmatch(text):
            inside, indent, current = True, None, []
            continue
        if not inside or not text:
            continue
        if lead == 0:  # the next section (Shape:, Returns: ...) or prose
            inside, current = False, []
            continue
        indent = lead if indent is None else indent
        if lead == indent and ":" in text:
            key, _, description = text.partition(":")
            entries: list[tuple[str, str]] = []
            for part in _split_top_level(key):
                match = re.match(r"\*{0,2}([A-Za-z_]\w*)\s*(\(.*\))?$", part.strip())
                if match is None:
                    entries = []
                    break
                entries.append((match.group(1), match.group(2) or ""))
            current = [name for name, _ in entries if name not in found]
            for name, note in entries:
                found.setdefault(name, f"{note} {description.strip()}".strip())
        elif lead > indent and current:
            for name in current:
                found[name] = f"{found[name]} {text}".strip()
    return found


def _split_top_level(text: str) -> list[str]:
    """``"a, b (x, y), c"`` -> ``["a", " b (x, y)", " c"]``: commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def _unpack(annotation: Any, metadata: list[Any]) -> tuple[Any, Bounds | None, Choices | None, str]:
    """The base type, bounds, choices and component kind of a field (``Optional`` and ``Annotated`` looked into)."""
    meta = list(metadata)
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            inner, bounds, choices, kind = _unpack(rest[0], meta)
            return inner | None if kind == "" and inner is not Any else inner, bounds, choices, kind
    if typing.get_origin(annotation) is Annotated:
        annotation, *extra = typing.get_args(annotation)
        meta += extra
    bounds = next((m for m in meta if isinstance(m, Bounds)), None)
    choices = next((m for m in meta if isinstance(m, Choices)), None)
    kind = next((m.kind for m in meta if isinstance(m, ComponentOf)), "")
    return annotation, bounds, choices, kind


def _type_text(annotation: Any) -> str:
    """``int | list[int]``, ``list[activation]``, ``float | None``: the type as a reader writes it."""
    if annotation is type(None):
        return "none"
    if annotation is Any:
        return "any"
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *meta = typing.get_args(annotation)
        kind = next((m.kind for m in meta if isinstance(m, ComponentOf)), "")
        return kind or _type_text(base)
    if origin in (Union, types.UnionType):
        return " | ".join(_type_text(a) for a in typing.get_args(annotation))
    if origin is Literal:
        return " | ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (list, tuple, dict):
        inner = ", ".join(_type_text(a) for a in typing.get_args(annotation) if a is not Ellipsis)
        name = {list: "list", tuple: "list", dict: "table"}[origin]
        return f"{name}[{inner}]" if inner and origin is not dict else name
    if isinstance(annotation, type):
        if issubclass(annotation, Spec):
            return getattr(annotation, "registry_kind", "") or "table"
        return {"dict": "table", "NoneType": "none"}.get(annotation.__name__, annotation.__name__)
    return str(annotation)


def _interval(b: Bounds) -> str:
    return interval_text(b.lo, b.hi, b.gt is not None, b.lt is not None)


def _toml(value: Any) -> str:
    """A default as it would appear in an experiment file (``none`` where TOML has no null: leave the key out)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "inf" if math.isinf(value) and value > 0 else repr(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, Spec):
        name = getattr(value, "registered_name", "") or type(value).__name__
        options = value.model_dump(exclude_defaults=True)
        options.pop(KINDS.get(value.registry_kind, "type"), None)
        inner = ", ".join(f"{k} = {_toml(v)}" for k, v in options.items())
        return f'{{ {KINDS.get(value.registry_kind, "type")} = "{name}"{", " + inner if inner else ""} }}'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return repr(value)
