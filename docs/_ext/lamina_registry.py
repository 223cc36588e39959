"""``.. lamina-registry::``: the experiment-file reference, generated at build time from the registry.

Every registered name of every kind, with its options' types, bounds and defaults, read through
:mod:`lamina.config.describe` (the same facts ``lamina names`` prints), so the page cannot drift from what an
experiment file accepts.
"""

from __future__ import annotations

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from lamina.cli.text import summary
from lamina.config.describe import describe_kind, option_rows
from lamina.registry import KINDS, registry

_KIND_TITLES = {
    "layer": "Layers",
    "activation": "Activations",
    "initializer": "Initializers",
    "loss": "Losses",
    "optimizer": "Optimizers",
    "schedule": "Schedules",
    "dataset": "Datasets",
    "callback": "Callbacks",
    "metric": "Metrics",
    "pretrain": "Pretraining methods",
}


def _escape(text: str) -> str:
    """Plain text safe inside reStructuredText: markup characters backslash-escaped."""
    text = text.replace("\\", "\\\\")
    for char in "*|_`[]<>":
        text = text.replace(char, "\\" + char)
    return text


def _literal(text: str) -> str:
    return f"``{text}``" if text else ""


def _rst(kinds: list[str]) -> list[str]:
    lines: list[str] = []
    for kind in kinds:
        title = _KIND_TITLES.get(kind, kind)
        components = describe_kind(kind)
        key = KINDS[kind]
        lines += [title, "-" * len(title), ""]
        lines += [f'{len(components)} names; a table names one with ``{key} = "..."``.', ""]
        if kind == "layer":
            any_layer = registry("layer").lookup(components[0].name)
            shared = [o for o in option_rows(any_layer, every=True) if o.name in ("name", "inputs")]
            lines += [
                "Every layer also takes "
                + " and ".join(_literal(o.name) for o in shared)
                + " (a node's name and the nodes it reads, in ``[[model.nodes]]`` graph models).",
                "",
            ]
        for info in components:
            heading = info.name
            lines += [f".. _{kind}-{info.name}:", "", heading, "~" * len(heading), ""]
            doc = summary(info.spec.__doc__)
            if doc:
                lines += [_escape(doc), ""]
            if info.aliases:
                lines += ["Also named " + ", ".join(_literal(a) for a in info.aliases) + ".", ""]
            if not info.options:
                lines += ["No options.", ""]
                continue
            lines += [
                ".. list-table::",
                "   :header-rows: 1",
                "   :widths: 20 25 25 30",
                "",
                "   * - option",
                "     - type",
                "     - allowed",
                "     - default",
            ]
            for o in info.options:
                lines += [
                    f"   * - {_literal(o.name)}",
                    f"     - {_literal(o.type)}",
                    f"     - {_literal(o.rule)}",
                    f"     - {'*required*' if o.required else _literal(o.default)}",
                ]
            lines.append("")
    return lines


class RegistryDirective(SphinxDirective):
    """``.. lamina-registry:: [kind ...]``: sections for the given kinds (all of them by default)."""

    optional_arguments = len(KINDS)
    has_content = False

    def run(self) -> list[nodes.Node]:
        kinds = list(self.arguments) or list(KINDS)
        for kind in kinds:
            registry(kind)  # an unknown kind fails the build, naming the closest
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(_rst(kinds), source="<lamina-registry>"), container)
        return container.children


def setup(app):
    app.add_directive("lamina-registry", RegistryDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
