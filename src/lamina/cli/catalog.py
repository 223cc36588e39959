"""The names index: every registered component with its aliases, one line of description and its options (type,
bounds or choices, default, description), as ``lamina names`` prints them.

The index is generated from the real registry by :func:`build_catalog` and kept in ``names_index.json`` beside this
file, so that ``lamina names`` (:mod:`lamina.cli.names`) answers without importing torch or pydantic.
``tests/cli/test_names.py`` regenerates it and fails when the file is stale, naming the command that rewrites it::

    python -m lamina.cli.catalog

Where a package declares ``lamina.plugins`` entry points, ``lamina names`` builds the index from the live registry
instead, since the file cannot know a plugin's components.
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from lamina.cli.names import INDEX_PATH
from lamina.cli.text import plain, summary
from lamina.config.fields import Bounds, Choices, ComponentOf
from lamina.config.spec import Spec
from lamina.registry import KINDS, plugins_installed, registry

__all__ = ["REGENERATE", "build_catalog", "render_catalog", "option_rows", "main"]

REGENERATE = "python -m lamina.cli.catalog"

_SECTION = re.compile(r"(Args|Arguments|Options|Attributes|Keyword Args|Keyword Arguments):")


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
    return {name: plain(text) for name, text in found.items()}


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


def _markers(annotation: Any, metadata: list[Any]) -> list[Any]:
    """Every marker on a field: its own metadata and those of ``Annotated`` types inside it (``X | None``)."""
    found = list(metadata)
    for arg in typing.get_args(annotation):
        if typing.get_origin(annotation) is Annotated:
            found += list(typing.get_args(annotation)[1:])
            break
        found += _markers(arg, [])
    return found


def _type_name(annotation: Any) -> str:
    """The type of an option in an experiment file's words: ``integer``, ``number``, ``list[integer]``,
    ``activation`` (a registered component), ``integer | list[integer]``."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        base, *meta = typing.get_args(annotation)
        kind = next((m.kind for m in meta if isinstance(m, ComponentOf)), None)
        return kind or _type_name(base)
    if origin in (Union, types.UnionType):
        return " | ".join(dict.fromkeys(_type_name(a) for a in typing.get_args(annotation) if a is not type(None)))
    if origin is Literal:
        return "string"
    if origin in (list, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return f"list[{_type_name(args[0])}]" if args else "list"
    if origin is dict:
        return "table"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):  # a component, or a table of its own
        return getattr(annotation, "registry_kind", "") or "table"
    return {bool: "bool", int: "integer", float: "number", str: "string", typing.Any: "any"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def _interval(bounds: Bounds) -> str:
    lo = "" if bounds.lo is None else f"{'>' if bounds.gt is not None else '>='} {bounds.lo:g}"
    hi = "" if bounds.hi is None else f"{'<' if bounds.lt is not None else '<='} {bounds.hi:g}"
    if lo and hi:
        left, right = "(" if bounds.gt is not None else "[", ")" if bounds.lt is not None else "]"
        return f"{left}{bounds.lo:g}, {bounds.hi:g}{right}"
    return lo or hi


def _toml(value: Any) -> str:
    """A default as an experiment file would write it (``none``: the option is unset)."""
    if value is None:
        return "none"
    if isinstance(value, Spec):
        return _inline(value.to_config())
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return _inline(value)
    return str(value)


def _inline(table: dict[str, Any]) -> str:
    return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in table.items()) + " }"


def _option(cls: type, name: str, field: Any, descriptions: dict[str, str]) -> dict[str, str]:
    markers = _markers(field.annotation, field.metadata)
    bounds = next((m for m in markers if isinstance(m, Bounds)), None)
    choices = next((m for m in markers if isinstance(m, Choices)), None)
    literal = [a for a in typing.get_args(field.annotation) if typing.get_origin(field.annotation) is Literal]
    limits = ""
    if choices or literal:
        limits = "one of " + ", ".join(json.dumps(c) for c in (choices or literal))
    elif bounds is not None and bounds != Bounds():
        limits = _interval(bounds)
    if field.is_required():
        default = "required"
    elif field.default_factory is not None:
        default = _toml(field.default_factory())
    else:
        default = _toml(None if field.default is PydanticUndefined else field.default)
    kind = next((m.kind for m in markers if isinstance(m, ComponentOf)), None)
    type_name = _type_name(field.annotation)
    if kind is not None and not type_name.startswith(kind):
        type_name = kind
    return {
        "name": name,
        "type": type_name,
        "bounds": limits,
        "default": default,
        "description": plain(field.description or descriptions.get(name, "")),
    }


def _descriptions(cls: type) -> dict[str, str]:
    """Each option's description, from the spec classes' docstrings (the nearest first), then those of the class
    whose constructor declares the options and its bases. lamina's own docstrings only: torch's change from one
    release to the next, and the index must not."""
    found: dict[str, str] = {}
    owners: list[Any] = [k for k in cls.__mro__ if isinstance(k, type) and issubclass(k, Spec)]
    target = getattr(cls, "target_class", None)
    for klass in getattr(target, "__mro__", ()):  # "others: see RBM": the bases' docstrings too
        if klass is not object:
            owners += [klass, vars(klass).get("__init__")]
    for owner in owners:
        if getattr(owner, "__module__", "").startswith("lamina"):
            for name, text in _arg_descriptions(getattr(owner, "__doc__", None)).items():
                found.setdefault(name, text)
    return found


def option_rows(cls: type) -> list[dict[str, str]]:
    """The options of the spec class ``cls``, in field order: ``name``, ``type``, ``bounds`` (or choices),
    ``default`` (``required`` where there is none) and ``description``."""
    descriptions = _descriptions(cls)
    return [_option(cls, name, field, descriptions) for name, field in cls.model_fields.items()]  # type: ignore[attr-defined]


def build_catalog() -> dict[str, Any]:
    """The index from the live registry (importing every component module): ``{kind: {"key": the TOML key,
    "components": {name: {"aliases": [...], "summary": "...", "options": [option_rows...]}}}}``."""
    catalog: dict[str, Any] = {}
    for kind, key in KINDS.items():
        reg = registry(kind)
        components = {}
        for name in reg.names(aliases=False):
            cls = reg.lookup(name)
            components[name] = {
                "aliases": [a for a in reg.names() if a != name and reg.lookup(a) is cls],
                "summary": summary(cls.__doc__),
                "options": option_rows(cls),
            }
        catalog[kind] = {"key": key, "components": components}
    return catalog


def render_catalog(catalog: dict[str, Any]) -> str:
    """The index as the text of ``names_index.json``."""
    return json.dumps(catalog, indent=1, ensure_ascii=False) + "\n"


def main() -> None:
    """``python -m lamina.cli.catalog``: rewrite ``names_index.json`` from the registry."""
    if plugins_installed():
        raise SystemExit(
            "lamina.plugins entry points are installed; the index holds lamina's own components only: "
            "regenerate it in an environment without plugins"
        )
    INDEX_PATH.write_text(render_catalog(build_catalog()), encoding="utf-8")
    print(f"wrote {INDEX_PATH}")


if __name__ == "__main__":
    main()
