"""Packaging: the version is written once, the wheel carries the C kernel source and py.typed, the change log
names the current version (.ci/wheel builds and installs the wheel itself)."""

from __future__ import annotations

import re

import tomllib

from lamina._version import __version__
from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_version_is_written_once():
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "lamina._version.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|rc\d+)?", __version__)


def test_the_package_data_holds_the_kernel_source_and_the_type_marker():
    data = PYPROJECT["tool"]["setuptools"]["package-data"]["lamina"]
    package = ROOT / "src" / "lamina"
    kernels = [p for p in package.rglob("*.c")]
    assert kernels and all(any(p.relative_to(package).match(pattern) for pattern in data) for p in kernels)
    assert (package / "py.typed").is_file() and "py.typed" in data


def test_the_changelog_keeps_a_changelog_and_names_this_version():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text
    assert re.search(rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", text, re.M)
    assert "build" in " ".join(PYPROJECT["project"]["optional-dependencies"]["test"])
