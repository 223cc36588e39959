"""Field types for config sections, each with an error message in plain words.

``number(0, 1, hi_open=True)`` fails as ``expected a number in [0, 1), got 1.5``; ``choice("sync", "async")``
as ``expected one of 'sync', 'async', got 'snyc'; did you mean 'sync'?``; ``component("layer")`` dispatches a
table to the layer registered under its ``type``.

The bounds and choices are also kept as plain markers, :class:`Bounds` and :class:`Choices`, in the field's
``Annotated`` metadata: a constructor declares ``damping: Annotated[float, Bounds(gt=0)] = 1.0`` once and
:mod:`lamina.config.component` turns it into the same field type (issue 25: an option is declared once).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, SerializeAsAny
from pydantic_core import PydanticCustomError

from lamina.config.spec import Spec
from lamina.errors import did_you_mean
from lamina.registry import registry

__all__ = [
    "component",
    "number",
    "count",
    "choice",
    "identifier",
    "fail",
    "raise_problems",
    "Bounds",
    "Choices",
    "ComponentOf",
]


@dataclass(frozen=True)
class Bounds:
    """The interval an option's number must lie in: ``Bounds(gt=0)`` is ``> 0``, ``Bounds(ge=0, lt=1)`` is
    ``[0, 1)``. A marker for ``Annotated[float, Bounds(...)]`` (or ``int``) in a constructor's signature."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def __post_init__(self) -> None:
        if (self.ge is not None and self.gt is not None) or (self.le is not None and self.lt is not None):
            raise ValueError(f"Bounds: give at most one lower (ge or gt) and one upper (le or lt) bound, got {self}")

    @property
    def lo(self) -> float | None:
        """The lower bound, whether open or closed."""
        return self.gt if self.gt is not None else self.ge

    @property
    def hi(self) -> float | None:
        """The upper bound, whether open or closed."""
        return self.lt if self.lt is not None else self.le


class Choices(tuple):
    """The strings an option may take: ``Annotated[str, Choices("fp32", "bf16")]``; a marker like :class:`Bounds`."""

    def __new__(cls, *options: str) -> Choices:
        return super().__new__(cls, options)

    def __repr__(self) -> str:
        return f"Choices({', '.join(map(repr, self))})"


@dataclass(frozen=True)
class ComponentOf:
    """Marks a :func:`component` field with the kind it holds (``ComponentOf("activation")``), so that a listing
    of the options (``lamina names``) can say what the field takes."""

    kind: str


def fail(message: str) -> PydanticCustomError:
    """A validation error carrying ``message`` verbatim (braces and all)."""
    return PydanticCustomError("lamina", "{message}", {"message": message})


def interval_text(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> str:
    """A range in words: ``in (0, 1]``, ``>= 1``, ``< 5``; ``""`` for no bound."""
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {hi:g}"
    return ""


def number(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False, hi_open: bool = False) -> Any:
    """A finite float (ints accepted) within the given bounds."""
    rule = interval_text(lo, hi, lo_open, hi_open)
    expected = f"a number {rule}".strip()

    def _reject_bool(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise fail(f"expected {expected}, got {value!r}")
        return float(value)

    def _check(value: float) -> float:
        bad = not math.isfinite(value)
        bad |= lo is not None and (value <= lo if lo_open else value < lo)
        bad |= hi is not None and (value >= hi if hi_open else value > hi)
        if bad:
            raise fail(f"expected {expected}, got {value!r}")
        return value

    bounds = Bounds(**{("gt" if lo_open else "ge"): lo, ("lt" if hi_open else "le"): hi})
    return Annotated[float, bounds, BeforeValidator(_reject_bool), AfterValidator(_check)]


def count(lo: int | None = 1, hi: int | None = None) -> Any:
    """An integer within ``[lo, hi]`` (``count()`` is a positive integer, ``count(None)`` any integer)."""
    expected = f"an integer {interval_text(lo, hi, False, False)}".strip()

    def _check(value: Any) -> int:
        # numbers.Integral: a numpy integer from Python code is as good as an int (TOML gives only ints)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise fail(f"expected {expected}, got {value!r}")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise fail(f"expected {expected}, got {value!r}")
        return int(value)

    return Annotated[int, Bounds(ge=lo, le=hi), BeforeValidator(_check)]


def choice(*options: str) -> Any:
    """One of a fixed set of strings; a misspelling gets the closest option."""
    listed = ", ".join(repr(o) for o in options)

    def _check(value: Any) -> str:
        if value not in options:
            hint = did_you_mean(value, options) if isinstance(value, str) else ""
            raise fail(f"expected one of {listed}, got {value!r};{hint}".rstrip(";"))
        return value

    return Annotated[str, Choices(*options), BeforeValidator(_check)]


def _check_identifier(value: Any) -> str:
    if not isinstance(value, str) or not value.isidentifier():
        raise fail(f"expected a name of letters, digits and '_' (not starting with a digit), got {value!r}")
    return value


identifier = Annotated[str, BeforeValidator(_check_identifier)]


def component(kind: str) -> Any:
    """A field holding a registered component of ``kind``: a name, a table naming it, or a spec instance."""
    registry(kind)  # a misspelt kind fails here, where the field is declared

    def _dispatch(value: Any) -> Any:
        reg = registry(kind)
        if isinstance(value, Spec):
            return value
        if isinstance(value, str):
            name, options = value, {}
        elif isinstance(value, dict):
            options = dict(value)
            if reg.key not in options:
                raise fail(f"missing {reg.key!r}: which {kind}? valid: {', '.join(reg.names()) or '(none installed)'}")
            name = options.pop(reg.key)
            if not isinstance(name, str):
                raise fail(f"{reg.key}: expected a {kind} name, got {name!r}")
        else:
            raise fail(f"expected a {kind} name or a table with {reg.key} = ..., got {value!r}")
        if name not in reg:
            beside = _problems_beside_unknown(kind, options)
            if beside:  # the unknown name, and what can be judged of the rest of the table without it
                raise_problems(f"unknown {kind}", [((), reg.unknown_message(name)), *beside])
            raise fail(reg.unknown_message(name))
        spec = reg.lookup(name).model_validate(options)
        spec._name = name
        return spec

    # SerializeAsAny: dump the concrete spec's fields, not those of the declared base class
    return Annotated[SerializeAsAny[Spec], BeforeValidator(_dispatch), ComponentOf(kind)]


def _problems_beside_unknown(kind: str, options: dict[str, Any]) -> list[tuple[tuple, str]]:
    """The problems of a table whose component name is unknown that hold whichever component was meant: a key no
    component of ``kind`` takes, and a bad value of a key every one of them declares alike (``validation`` of a
    dataset)."""
    from pydantic import ConfigDict, TypeAdapter, ValidationError

    reg = registry(kind)
    classes = {reg.lookup(n) for n in reg.names(aliases=False)}
    problems: list[tuple[tuple, str]] = []
    for key, value in options.items():
        fields = [c.model_fields.get(key) for c in classes]
        if not any(fields):
            problems.append(((key,), f"unknown key {key!r}: no {kind} takes it"))
            continue
        if not all(fields) or len({(f.annotation, repr(f.metadata)) for f in fields if f is not None}) != 1:
            continue  # declared differently by different components: depends on which one was meant
        field = next(f for f in fields if f is not None)
        checker = TypeAdapter(Annotated[(field.annotation, *field.metadata)], config=ConfigDict(strict=True))
        try:
            checker.validate_python(value)
        except ValidationError as err:
            problems += [((key, *e["loc"]), e["msg"]) for e in err.errors()]
    return problems


def raise_problems(title: str, problems: list[tuple[tuple, str]]) -> None:
    """Raise one pydantic ``ValidationError`` holding several located problems (``[(loc, message), ...]``);
    pydantic prefixes each location with the field the validator ran on."""
    from pydantic import ValidationError
    from pydantic_core import InitErrorDetails

    if problems:
        raise ValidationError.from_exception_data(
            title, [InitErrorDetails(type=fail(msg), loc=loc, input=None) for loc, msg in problems]
        )
