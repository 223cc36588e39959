"""Turn pydantic's validation errors into :class:`~lamina.errors.Problem` s in plain words with dotted paths."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from lamina.config.spec import UnknownKey
from lamina.errors import Problem

__all__ = ["problems_from", "format_path", "message_of"]

# pydantic error type -> what was expected, in the words of a config file
_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "none_required": "nothing",
}


def format_path(loc: tuple[Any, ...], prefix: str = "") -> str:
    """``("model", "layers", 1, "p")`` -> ``model.layers[1].p``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif str(part).startswith("function-"):  # validator frames pydantic inserts into the location
            continue
        else:
            path += f".{part}" if path else str(part)
    return path


def message_of(err: dict[str, Any]) -> str:
    """One pydantic error in plain words."""
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden" and isinstance(value, UnknownKey):
        return value.message()
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required, but missing"
    if kind == "lamina":
        return err["ctx"]["message"]
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {value!r}"
    ctx = err.get("ctx", {})
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        bound = next(iter(ctx.values()))
        return f"expected a number {bounds[kind]} {bound}, got {value!r}"
    if kind in {"too_short", "too_long"}:
        return f"expected a list of {ctx.get('min_length', '')}..{ctx.get('max_length', '')} items, got {value!r}"
    return f"{err['msg']}, got {value!r}"


def problems_from(err: ValidationError, *, prefix: str = "") -> list[Problem]:
    """Every error in ``err`` as a :class:`Problem`, paths prefixed with ``prefix``."""
    seen: set[tuple[str, str]] = set()
    problems = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        if e["type"] == "extra_forbidden" and isinstance(e.get("input"), UnknownKey):
            loc = loc[:-1] + (e["input"].key,)
        p = Problem(format_path(loc, prefix), message_of(e))
        if (p.path, p.message) not in seen:
            seen.add((p.path, p.message))
            problems.append(p)
    return problems
