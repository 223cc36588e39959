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

from typing import Any

from lamina import jsonio
from lamina.cli.names import INDEX_PATH
from lamina.cli.text import plain, summary
from lamina.config.describe import option_rows as describe_option_rows
from lamina.registry import KINDS, plugins_installed, registry

__all__ = ["REGENERATE", "build_catalog", "render_catalog", "option_rows", "main"]

REGENERATE = "python -m lamina.cli.catalog"


def option_rows(cls: type) -> list[dict[str, str]]:
    """The options of the spec class ``cls``, in field order, as :func:`lamina.config.describe.option_rows` gives
    them (the one source of these facts, shared with the documentation): ``name``, ``type``, ``bounds`` (or
    choices), ``default`` (``required`` where there is none) and ``description``."""
    return [
        {
            "name": o.name,
            "type": o.type,
            "bounds": o.rule,
            "default": "required" if o.required else o.default,
            "description": plain(o.description),
        }
        for o in describe_option_rows(cls, every=True)
    ]


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
    return jsonio.dumps(catalog, indent=1, ensure_ascii=False) + "\n"


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
