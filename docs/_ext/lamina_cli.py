"""``.. lamina-cli::``: the command-line reference, generated at build time from the ``lamina`` typer app.

sphinx-click would be the usual tool, but typer (0.2x) builds on its own vendored copy of click, which sphinx-click
does not accept as a click command; this directive walks the same objects (``typer.main.get_command(app)``) and
prints, per command, what ``lamina ... --help`` prints: the usage line, the help text and each parameter's
declaration and help.
"""

from __future__ import annotations

import inspect

import typer
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles
from typer import _click

from lamina.cli import app

click_app = typer.main.get_command(app)
_UNDERLINES = "=-~^\"'`"


def _commands(command, ctx):
    names = command.list_commands(ctx) if hasattr(command, "list_commands") else []
    return [(n, command.get_command(ctx, n)) for n in names]


def _indent(text: str, by: str = "   ") -> list[str]:
    return [by + line if line.strip() else "" for line in text.splitlines()]


def _rst(command, name: str, parent, depth: int) -> list[str]:
    ctx = _click.Context(command, info_name=name, parent=parent)  # type: ignore[attr-defined]
    title = ctx.command_path
    lines = [f".. _cli-{title.replace(' ', '-')}:", "", f"``{title}``", _UNDERLINES[depth] * (len(title) + 4), ""]
    if command.help:
        lines += [*inspect.cleandoc(command.help).splitlines(), ""]
    usage = " ".join([title, *command.collect_usage_pieces(ctx)])
    lines += [".. code-block:: text", "", f"   {usage}", ""]
    records = [p.get_help_record(ctx) for p in command.get_params(ctx)]
    records = [r for r in records if r is not None]
    if records:
        lines += [".. list-table::", "   :widths: 35 65", ""]
        for opts, text in records:
            lines += [f"   * - ``{opts}``", f"     - {text.replace('*', chr(92) + '*') or ' '}"]
        lines.append("")
    for sub_name, sub in _commands(command, ctx):
        if sub is not None and not getattr(sub, "hidden", False):
            lines += _rst(sub, sub_name, ctx, depth + 1)
    return lines


class CliDirective(SphinxDirective):
    """``.. lamina-cli::``: a section per command and subcommand, nested as the commands are."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        container = nodes.section()
        container.document = self.state.document
        lines = _rst(click_app, "lamina", None, 1)
        nested_parse_with_titles(self.state, StringList(lines, source="<lamina-cli>"), container)
        return container.children


def setup(app_):
    app_.add_directive("lamina-cli", CliDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
