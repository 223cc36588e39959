"""``lamina.draw`` and ``lamina draw``: the layout's geometry, the files written, the errors, the run report."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import lamina
from lamina.cli import app
from lamina.errors import LaminaError
from lamina.nn import build_model
from lamina.nn.layer_graph import layer_graph
from lamina.report.drawing import draw, layout, to_dot
from tests.conftest import ROOT

RESIDUAL = [
    {"type": "conv2d", "filters": 2, "kernel_size": 3, "padding": 1, "activation": "relu"},
    {"type": "residual", "layers": [{"type": "conv2d", "filters": 2, "kernel_size": 3, "padding": 1}] * 3},
    {"type": "inception", "branches": [[{"type": "conv2d", "filters": 1, "kernel_size": 1}]] * 3},
    {"type": "flatten"},
    {"type": "dense", "units": 3},
]


@pytest.fixture(scope="module")
def model():
    return build_model(RESIDUAL, input_shape=(1, 5, 5))


def test_layout_rows_follow_the_edges_and_nothing_overlaps(model):
    g = layer_graph(model)
    plan = layout(g)
    for src, dst in g.edges:
        (_, r0), (_, r1) = plan.at[src], plan.at[dst]
        assert r1 > r0
        assert [r for _, r in plan.bends[(src, dst)]] == list(range(r0 + 1, r1))  # one waypoint per row between
    occupied: dict[int, list[float]] = {}
    for x, r in [*plan.at.values(), *(p for bends in plan.bends.values() for p in bends)]:
        occupied.setdefault(r, []).append(x)
    for xs in occupied.values():
        xs.sort()
        assert all(b - a >= 1 - 1e-9 for a, b in zip(xs, xs[1:]))
    # the identity shortcut of the residual block goes round its three-layer branch, not through it
    skip = next(edge for edge, bends in plan.bends.items() if len(bends) >= 2)
    branch_x = {plan.at[n.id][0] for n in g.nodes if ".branch." in n.id}
    assert all(abs(x - bx) >= 1 - 1e-9 for x, _ in plan.bends[skip] for bx in branch_x)


def test_png_and_svg_files(model, tmp_path):
    png = draw(model, tmp_path / "m.png", engine="matplotlib", title="cost $5$")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = draw(model, tmp_path / "m.svg", engine="matplotlib")
    assert "<svg" in svg.read_text()[:2000]
    assert lamina.draw is draw


def test_dot_text_names_every_node_and_edge(model):
    g = layer_graph(model)
    text = to_dot(g, "net")
    assert text.count(" -> ") == len(g.edges) and text.count("[label=") == len(g.nodes)


def test_errors_name_the_problem(model, tmp_path, monkeypatch):
    with pytest.raises(LaminaError, match=r"\.png or \.svg, got '\.pdf'"):
        draw(model, tmp_path / "m.pdf")
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(LaminaError, match="needs Graphviz's `dot`"):
        draw(model, tmp_path / "m.png", engine="graphviz")


def test_the_command_draws_a_config(tmp_path):
    out = tmp_path / "digits.svg"
    result = CliRunner().invoke(app, ["draw", str(ROOT / "examples" / "digits_mlp.toml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "nodes" in result.output and out.is_file()
    missing = CliRunner().invoke(app, ["draw", str(tmp_path / "nope.toml")])
    assert missing.exit_code != 0 and "nope.toml" in missing.output


def test_a_run_report_shows_the_drawing(tmp_path):
    run = lamina.train(
        ROOT / "examples" / "digits_mlp.toml", out=tmp_path, overrides=["train.epochs=1"], progress="none"
    )
    assert (run.dir / "plots" / "model.png").is_file()
    page = (run.dir / "report.html").read_text()
    model_section = page[page.index("<h2>Model</h2>") :]
    assert "title='model.png'" in model_section
    result = CliRunner().invoke(app, ["draw", str(run.dir), "-o", str(tmp_path / "run.png")])
    assert result.exit_code == 0, result.output
