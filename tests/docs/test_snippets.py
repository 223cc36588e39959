"""Every code block of README.md and of the documentation's Markdown pages runs as written (issue 24).

A page's ```python blocks share one namespace and run in order, in a temporary folder holding ``examples/`` (so
``examples/digits_mlp.toml`` and the ``runs/`` a block writes resolve as they do for a reader at the repository
root). Its ```bash blocks run too, line by line: ``lamina ...`` through the command's own click object in this
process (a subprocess per line would spend its time importing torch), ``NAME=$(ls -td GLOB | head -1)`` to name the
newest run folder, ``$NAME`` and globs expanded as a shell would. A bash block that installs, builds or launches
several processes is listed in ``EXEMPT`` with its reason; any other shell line fails the test rather than being
skipped. ```toml blocks that hold a whole experiment (a ``[model]`` table) are validated as experiment files.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import sys
from pathlib import Path

import pytest

from tests.conftest import MNIST_FILES, _has

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md"] + sorted(
    p for p in (ROOT / "docs").rglob("*.md") if not {"_build", "results"} & set(p.parts)
)

# bash blocks not run, each matched by a piece of its text, with the reason
EXEMPT = {
    "python3 -m venv": "creates a virtual environment and installs lamina (CI itself runs these commands)",
    "pip install": "installs packages",
    "torchrun": "launches several processes (tests/train/test_distributed.py covers distributed training)",
    "python -m sphinx": "builds the documentation (.ci/docs runs it)",
    "docs/build.sh": "builds the documentation (.ci/docs runs it)",
    "nvidia-smi": "needs a GPU",
    "pre-commit install": "installs git hooks",
}

_FENCE = re.compile(r"^(`{3,})([\w-]*)[^\n]*\n(.*?)^\1\s*$", re.S | re.M)


def blocks(path: Path) -> list[tuple[str, str, int]]:
    """``(language, code, line)`` of each fenced block of a Markdown file, in order."""
    text = path.read_text()
    return [(m.group(2), m.group(3), text.count("\n", 0, m.start()) + 1) for m in _FENCE.finditer(text)]


def test_the_pages_have_code_to_run():
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    assert "README.md" in names and "docs/getting_started.md" in names
    assert sum(lang == "python" for p in PAGES for lang, _, _ in blocks(p)) >= 20


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A temporary folder with ``examples/``; the names a page registers (the plugin example) are removed after."""
    from lamina.registry import _REGISTRIES, load_plugins

    load_plugins()  # the registry fills on its first lookup: fill it before the snapshot, or the restore empties it
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    saved = {kind: dict(reg._entries) for kind, reg in _REGISTRIES.items()}
    yield tmp_path
    for kind, entries in saved.items():
        _REGISTRIES[kind]._entries = entries


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_blocks_run(page, workdir):
    found = blocks(page)
    text = "\n".join(code for _, code, _ in found)
    if re.search(r"\bmnist\b", text) and not _has(MNIST_FILES):
        pytest.skip("MNIST files not found in $LAMINA_DATA")
    namespace: dict = {"__name__": "__snippets__"}
    variables: dict[str, str] = {}
    for lang, code, line in found:
        where = f"{page.relative_to(ROOT)}:{line}"
        if lang == "python":
            exec(compile(code, where, "exec"), namespace)  # noqa: S102 - the repository's own documentation
        elif lang in ("bash", "sh", "shell"):
            if not any(key in code for key in EXEMPT):
                _run_shell(code, where, variables)
        elif lang == "toml" and re.search(r"^\[model\]", code, re.M):
            _check_experiment(code, where)


def _check_experiment(code: str, where: str) -> None:
    import lamina
    from lamina.config.loader import tomllib

    lamina.parse_experiment(tomllib.loads(code), source=where)


_ASSIGN = re.compile(r"^(\w+)=\$\(ls -td (\S+) \| head -1\)$")


def _run_shell(code: str, where: str, variables: dict[str, str]) -> None:
    from typer.testing import CliRunner

    from lamina.cli import app

    for raw in code.splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        assign = _ASSIGN.match(line)
        if assign:
            name, pattern = assign.groups()
            matches = sorted(glob.glob(pattern), key=os.path.getmtime, reverse=True)
            assert matches, f"{where}: {line!r} matches nothing"
            variables[name] = matches[0]
            continue
        words = [w for w in shlex.split(line)]
        assert words[0] == "lamina", f"{where}: cannot run {line!r}; only `lamina ...` lines (or list it in EXEMPT)"
        args = []
        for word in words[1:]:
            word = re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], word)
            args += sorted(glob.glob(word)) if any(c in word for c in "*?[") else [word]
        result = CliRunner().invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, f"{where}: {line!r} exited {result.exit_code}:\n{result.output}"


if __name__ == "__main__":  # pragma: no cover - `python tests/docs/test_snippets.py PAGE` to try one page
    sys.exit(pytest.main([__file__, "-q", "-k", sys.argv[1] if len(sys.argv) > 1 else ""]))
