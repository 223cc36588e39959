"""``lamina runs list`` never cuts a run's name; ``--plain`` prints one tab-separated line per run (issue 24)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lamina.cli import app
from lamina.cli.app import console

runner = CliRunner()
LONG = "digits_mlp_2026-12-04_14-55-01_a_name_longer_than_a_narrow_terminal"


@pytest.fixture
def runs(tmp_path):
    for name, started, accuracy in ((LONG, "2026-12-04T14:55:01", 0.968), ("short", "2026-12-03T09:00:00", 0.5)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.toml").write_text("")
        summary = {
            "status": "completed",
            "epochs": 40,
            "final": {"loss": 0.1, "val_loss": 0.2},
            "test": {"accuracy": accuracy},
            "wall_time_s": 12.3,
            "started": started,
        }
        (tmp_path / name / "summary.json").write_text(json.dumps(summary))
    return tmp_path


def _first_column(output: str) -> str:
    """The text of the table's first column, its body's lines joined (a folded name comes back whole)."""
    return "".join(line.split("│")[1].strip() for line in output.splitlines() if line.startswith("│"))


@pytest.mark.parametrize("width", [160, 90, 60, 40])
def test_a_run_s_name_is_never_cut(runs, width, monkeypatch):
    monkeypatch.setattr(console, "width", width)
    result = runner.invoke(app, ["runs", "list", str(runs)])
    assert result.exit_code == 0, result.output
    names = _first_column(result.output)
    assert names == LONG + "short" and "…" not in names, result.output
    if width >= len(LONG) + 44:  # room enough: the name keeps one line
        assert any(LONG in line for line in result.output.splitlines())


def test_plain_prints_one_tab_separated_line_per_run_newest_first(runs):
    result = runner.invoke(app, ["runs", "list", str(runs), "--plain"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split("\t") for line in lines] == [
        [LONG, "completed", "40", "loss 0.1  val_loss 0.2", "accuracy 0.968", "12"],
        ["short", "completed", "40", "loss 0.1  val_loss 0.2", "accuracy 0.5", "12"],
    ]


def test_plain_prints_nothing_for_a_folder_without_runs(tmp_path):
    result = runner.invoke(app, ["runs", "list", str(tmp_path), "--plain"])
    assert result.exit_code == 0 and result.output == ""
