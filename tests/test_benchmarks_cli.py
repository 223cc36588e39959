"""Every benchmark script answers ``python -m benchmarks.<name> --help``, imports ``benchmarks.common`` one way, and
each command the docs give for it (its docstring, ``benchmarks/RESULTS.md``, ``benchmarks/results/*.md``) names
the script in that form, with options its argument parser defines. The scripts run in this process (``runpy``, as
``-m`` runs them) and stop at ``--help``, so no benchmark does any work here."""

from __future__ import annotations

import argparse
import re
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
SCRIPTS = sorted(p.stem for p in BENCHMARKS.glob("*.py") if p.stem not in ("__init__", "common"))
DOCS = [BENCHMARKS / "RESULTS.md", *sorted((BENCHMARKS / "results").glob("*.md"))]
COMMAND = re.compile(r"python -m\s+benchmarks\.(\w+)([^`\n]*)")


def _documented_commands(name: str) -> list[str]:
    """The argument text after each ``python -m benchmarks.<name>`` in the script's docstring and the result docs."""
    texts = [(BENCHMARKS / f"{name}.py").read_text(), *(doc.read_text() for doc in DOCS)]
    return [args for text in texts for script, args in COMMAND.findall(text) if script == name]


def _help(name: str, monkeypatch, capsys) -> tuple[str, set[str]]:
    """Run ``python -m benchmarks.<name> --help`` in this process: the help text and every option string any of its
    parsers (sub-commands included) defines."""
    options: set[str] = set()
    add_argument = argparse.ArgumentParser.add_argument

    def recording(parser, *names, **kwargs):
        options.update(n for n in names if n.startswith("-"))
        return add_argument(parser, *names, **kwargs)

    for key in ("KERAS_BACKEND",):  # a script may set it on import; give it back afterwards
        monkeypatch.setenv(key, "torch")
    monkeypatch.setattr(argparse.ArgumentParser, "add_argument", recording)
    monkeypatch.setattr(argparse._ActionsContainer, "add_argument", recording)
    monkeypatch.setattr(sys, "argv", [f"{name}.py", "--help"])
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as stop:
        runpy.run_module(f"benchmarks.{name}", run_name="__main__", alter_sys=True)
    assert stop.value.code in (0, None), f"benchmarks.{name} --help exited with {stop.value.code}"
    return capsys.readouterr().out, options


def test_every_script_is_found():
    assert len(SCRIPTS) >= 10 and "sunspots" in SCRIPTS


@pytest.mark.parametrize("name", SCRIPTS)
def test_help_and_documented_commands(name, monkeypatch, capsys):
    text, options = _help(name, monkeypatch, capsys)
    assert text.startswith("usage:"), text[:200]
    commands = _documented_commands(name)
    assert commands, f"benchmarks/{name}.py documents no `python -m benchmarks.{name}` command"
    unknown = {flag for args in commands for flag in re.findall(r"(?<![\w-])--[a-z][\w-]*", args)} - options
    assert not unknown, f"commands documented for benchmarks.{name} use options its parser lacks: {sorted(unknown)}"


@pytest.mark.parametrize("name", SCRIPTS)
def test_one_import_convention(name):
    source = (BENCHMARKS / f"{name}.py").read_text()
    assert "sys.path" not in source and not re.search(r"^\s*(from common |import common\b)", source, re.M)
    assert f"python benchmarks/{name}.py" not in source


def test_docs_name_scripts_that_exist():
    named = {script for doc in DOCS for script, _ in COMMAND.findall(doc.read_text())}
    assert named and named <= set(SCRIPTS), sorted(named - set(SCRIPTS))
    stale = [doc.name for doc in DOCS if re.search(r"python\s+benchmarks/\w+\.py", doc.read_text())]
    assert not stale, f"run benchmarks as `python -m benchmarks.<name>`: {stale}"
