"""The help reads as a user works (issue 24): commands in a user's order, flags without a value type, each default
on its option's line."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from lamina.cli import app
from lamina.cli.app import COMMAND_ORDER, console

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    monkeypatch.setattr(console, "width", 120)


def _help(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "120", "TERMINAL_WIDTH": "120"})
    assert result.exit_code == 0, result.output
    return result.output


def _row(text: str, option: str) -> str:
    return next(line for line in text.splitlines() if f" {option} " in line)


def test_commands_follow_a_user_s_path():
    listed = re.findall(r"^│ (\w+) ", _help().split("Commands")[1], flags=re.MULTILINE)
    assert listed[: len(COMMAND_ORDER)] == list(COMMAND_ORDER)
    assert {"names", "forecast", "sample", "report", "hopfield"} <= set(listed[len(COMMAND_ORDER) :])


def test_a_flag_shows_no_value_type():
    text = _help("train")
    assert "<bool>" not in text and "<bool>" not in _help()
    assert _row(text, "--quiet").split("│")[1].split() == ["--quiet", "-q", "No", "progress", "output."]


def test_a_default_follows_its_option_s_text_on_the_same_line():
    text = _help("train")
    assert "Folder receiving the run folder. [default: runs]" in _row(text, "--out")
    export = _help("export")
    assert "[default: onnx]" in _row(export, "--format")
    assert "verify]" in export and "<bool>" not in export  # --verify/--no-verify: a switch, its default named


def test_a_command_is_listed_by_one_line_of_its_docstring():
    commands = _help().split("Commands")[1]
    words = " ".join(commands.replace("│", " ").split())
    assert "export Export a trained run: ONNX (dynamic batch, checked and run by onnxruntime), safetensors" in words
