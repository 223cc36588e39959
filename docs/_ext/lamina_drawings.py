"""``.. lamina-drawings::``: a drawing of every example's model (``examples/*.toml``), made at build time with
``lamina.draw`` (SVG, into ``user_guide/_drawings/``, which git ignores).

Each model is built on the meta device for its data's input shape; an example whose data is not on this machine
(no ``LAMINA_DATA``) gets a line saying so instead of a picture.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from lamina.errors import DataError
from lamina.generative.adversarial.config import gan_skeleton, is_gan_file
from lamina.nn.layer_graph import layer_graph
from lamina.report.drawing import draw
from lamina.train.runs import model_skeleton

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class DrawingsDirective(SphinxDirective):
    """A section per example: its title, the command that draws it, and the SVG."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        here = Path(self.env.doc2path(self.env.docname)).parent
        folder = here / "_drawings"
        folder.mkdir(exist_ok=True)
        lines: list[str] = []
        for config in sorted(EXAMPLES.glob("*.toml")):
            self.env.note_dependency(str(config))
            lines += [config.stem, "-" * len(config.stem), ""]
            if is_gan_file(config):  # a GAN file (issue 27): its two networks, each a layer stack
                lines += self._gan(config, folder)
                continue
            try:
                model, name = model_skeleton(config)
            except DataError as err:
                lines += [f"*Not drawn here: {str(err).splitlines()[0]}*", ""]
                continue
            graph = layer_graph(model)
            draw(graph, folder / f"{config.stem}.svg", engine="matplotlib", title=name)
            lines += [
                f"``lamina draw examples/{config.name}``: {len(graph.nodes)} nodes, {len(graph.edges)} edges, "
                f"{graph.parameters:,} parameters.",
                "",
                f".. image:: _drawings/{config.stem}.svg",
                f"   :alt: the layer graph of examples/{config.name}",
                "",
            ]
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="<lamina-drawings>"), container)
        return container.children

    @staticmethod
    def _gan(config: Path, folder: Path) -> list[str]:
        """The generator's and the discriminator's drawings of a GAN file."""
        try:
            gan, name = gan_skeleton(config)
        except DataError as err:
            return [f"*Not drawn here: {str(err).splitlines()[0]}*", ""]
        lines = ["A GAN file, run by ``train_gan`` (``docs/user_guide/gan.md``): its two networks.", ""]
        for part in ("generator", "discriminator"):
            graph = layer_graph(getattr(gan, part))
            draw(graph, folder / f"{config.stem}_{part}.svg", engine="matplotlib", title=f"{name}: {part}")
            lines += [
                f"The {part}: {len(graph.nodes)} nodes, {len(graph.edges)} edges, {graph.parameters:,} parameters.",
                "",
                f".. image:: _drawings/{config.stem}_{part}.svg",
                f"   :alt: the layer graph of the {part} of examples/{config.name}",
                "",
            ]
        return lines


def setup(app_):
    app_.add_directive("lamina-drawings", DrawingsDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
