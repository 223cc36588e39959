"""``lamina hopfield capacity`` through typer's runner: the table, the plot, the JSON, and bad input."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lamina.cli import app

runner = CliRunner()


def test_capacity_prints_the_table_and_writes_the_plot(tmp_path):
    png, data = tmp_path / "capacity.png", tmp_path / "curves.json"
    result = runner.invoke(
        app,
        [
            "hopfield",
            "capacity",
            "--n",
            "60",
            "--trials",
            "2",
            "--load-step",
            "0.1",
            "--probes",
            "10",
            "-k",
            "0.2",
            "--out",
            str(png),
            "--json",
            str(data),
        ],
    )
    assert result.exit_code == 0, result.output
    for text in ("recall rate", "hebbian", "pseudoinverse k=0.2", "0.138", "plot:"):
        assert text in result.output
    assert png.stat().st_size > 10_000
    curves = json.loads(data.read_text())
    assert [c["label"] for c in curves] == ["hebbian", "pseudoinverse", "pseudoinverse k=0.2"]
    assert curves[0]["recall"][0] == 1.0


def test_capacity_bad_input_exits_2_with_the_reason(tmp_path):
    result = runner.invoke(app, ["hopfield", "capacity", "--n", "20", "-k", "1.5", "--out", str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "`desaturation` must be a number k in (0, 1], got 1.5" in result.output
    result = runner.invoke(app, ["hopfield", "capacity", "--load-max", "0.01"])
    assert result.exit_code == 2 and "0 < --load-min <= --load-max" in result.output
