"""The sphinx-gallery scripts in docs/gallery: each compiles, opens with the title block sphinx-gallery needs,
imports lamina only through public names, and seeds torch. The docs build runs them (too slow for this suite)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

GALLERY = Path(__file__).resolve().parents[2] / "docs" / "gallery"
SCRIPTS = sorted(GALLERY.glob("plot_*.py"))
# the packages a gallery script may import from: the root and the subpackages that declare a public __all__
PUBLIC = {"lamina", *(f"lamina.{p}" for p in ("data", "diagnostics", "generative", "memory", "nn", "optim"))}
PUBLIC |= {"lamina.sklearn", "lamina.timeseries", "lamina.export", "lamina.report"}


def title_problem(docstring: str | None) -> str | None:
    """Why ``docstring`` is not a sphinx-gallery header (a title, a ``=`` underline as long as it, then text),
    or ``None``."""
    if not docstring:
        return "no module docstring"
    lines = docstring.strip("\n").splitlines()
    if len(lines) < 4:
        return "the docstring needs a title, its underline, a blank line and text"
    title, underline, blank = lines[0].strip(), lines[1].strip(), lines[2].strip()
    if not title or not re.fullmatch(r"=+", underline) or len(underline) != len(title):
        return f"the title {title!r} must be underlined by {len(title)} '=' characters, got {underline!r}"
    if blank or not any(line.strip() for line in lines[3:]):
        return "the underline must be followed by a blank line and the example's text"
    return None


def lamina_imports(tree: ast.Module) -> list[tuple[str, str | None]]:
    """``(module, name)`` for each ``from lamina... import name`` and ``(module, None)`` for ``import lamina...``."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "lamina":
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names if alias.name.split(".")[0] == "lamina"]
    return found


def test_there_are_at_least_ten_examples():
    assert len(SCRIPTS) >= 10, [s.name for s in SCRIPTS]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_compiles_and_has_a_gallery_header(script):
    source = script.read_text()
    tree = ast.parse(source, filename=str(script))  # a SyntaxError fails the test with the line
    compile(tree, str(script), "exec")
    assert title_problem(ast.get_docstring(tree, clean=False)) is None, title_problem(ast.get_docstring(tree))
    assert "# %%" in source, f"{script.name}: no '# %%' cell separators"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_uses_only_public_lamina_names(script):
    tree = ast.parse(script.read_text())
    for module, name in lamina_imports(tree):
        assert module in PUBLIC, f"{script.name} imports the private module {module}; use a public package"
        if name is not None:
            public = importlib.import_module(module).__all__
            assert name in public, f"{script.name}: {name!r} is not in {module}.__all__"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_is_seeded(script):
    assert "torch.manual_seed(" in script.read_text(), f"{script.name} does not seed torch"


@pytest.mark.parametrize(
    ("docstring", "problem"),
    [
        (None, "no module docstring"),
        ("\nTitle\n===\n\nText.\n", "underlined by 5"),
        ("\nTitle\n-----\n\nText.\n", "underlined by 5"),
        ("\nTitle\n=====\nText.\nMore.\n", "blank line"),
        ("\nTitle\n=====\n\n\n", "needs a title"),
    ],
)
def test_title_check_rejects_malformed_headers(docstring, problem):
    assert problem in title_problem(docstring)
    assert title_problem("\nTitle\n=====\n\nWhat it shows.\n") is None


def test_lamina_imports_finds_every_form():
    tree = ast.parse("import lamina\nimport lamina.memory as m\nfrom lamina.generative.rbm import RBM\nimport torch\n")
    assert lamina_imports(tree) == [("lamina", None), ("lamina.memory", None), ("lamina.generative.rbm", "RBM")]
