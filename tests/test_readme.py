"""The README opens with the two commands a new user runs, and CI runs exactly the second one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands():
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_readme_opens_with_quickstart_and_test_commands():
    quickstart, tests = _commands()[:2]
    assert quickstart.endswith("lamina train examples/digits_mlp.toml") and '"torch==2.13.0"' in quickstart
    assert tests.endswith("&& bash .ci/lint && pytest") and '-e ".[test,lint]"' in tests


def test_ci_runs_the_readme_test_command_and_fails_on_no_tests():
    ci = (ROOT / ".ci" / "run").read_text()
    assert _commands()[1] in ci.splitlines()
    assert '"$rc" -eq 5' in ci and "LAMINA_DATA" in ci


def test_quickstart_example_exists():
    assert (ROOT / "examples" / "digits_mlp.toml").is_file()
