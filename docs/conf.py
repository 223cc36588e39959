"""Sphinx configuration of lamina's documentation: ``python -m sphinx -W -b html docs docs/_build/html``.

The API reference pages (``reference/api/``) and the experiment-file reference are generated at build time, from the
packages' ``__all__`` and from the registry, so they follow the code. ``LAMINA_DOCS_GALLERY=all`` runs every gallery
example; by default only the fast subset in ``FAST_EXAMPLES`` runs (see ``docs/README.md``).
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent / "src"))  # the checkout's lamina, even beside an installed one
os.environ.setdefault("MPLBACKEND", "Agg")

import lamina  # noqa: E402

project = "lamina"
author = "the lamina authors"
copyright = "2026, the lamina authors"
release = version = lamina.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax served from the built site, so the math renders without the internet
    "sphinx_gallery.gen_gallery",
    "lamina_registry",
    "lamina_cli",
    "lamina_summary",
    "lamina_drawings",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "README.md", "auto_examples/*.ipynb", "auto_examples/*.py", "**/*.codeobj.json"]
templates_path = ["_templates"]
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "pydata_sphinx_theme"
html_title = f"lamina {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "github_url": None,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": [], "getting_started": []}
html_static_path: list[str] = []

# ---- API reference: autodoc + autosummary over the public packages' __all__ --------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # the docstrings say the types; annotations of validated options carry their bounds
autodoc_typehints_format = "short"
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False
napoleon_google_docstring = True
napoleon_numpy_docstring = True
napoleon_use_rtype = False
nitpicky = False
suppress_warnings = ["ref.footnote"]  # numpydoc "References" footnotes ([1] ...) that the text does not cite

# the packages whose names a user imports; each object is documented once, under the first package listing it
API_PACKAGES = [
    ("lamina", "The package root: experiments, the trainer, the model builder, the registry, the errors."),
    ("lamina.data", "Datasets, loaders and their files."),
    ("lamina.nn", "Layers, the model builder and its specs."),
    ("lamina.losses", "Losses."),
    ("lamina.metrics", "Metrics."),
    ("lamina.optim", "Optimizers: Hessian-free, extended Kalman filter, evolution strategies; schedules."),
    ("lamina.train", "The trainer, callbacks and what the loop runs."),
    ("lamina.generative", "RBMs, AIS, deep belief nets, autoencoders, greedy pretraining."),
    ("lamina.pretrain", "Greedy layer-wise pretraining."),
    ("lamina.memory", "Hopfield memories, classic and modern."),
    ("lamina.timeseries", "TDNN, Elman and NARX networks, windows, forecasts, weight elimination."),
    ("lamina.diagnostics", "Gradient checks, gradient flow, Jacobian spectra, unit statistics, filters."),
    ("lamina.multi_label", "Multi-label losses."),
    ("lamina.multi_task", "Multi-task heads and losses."),
    ("lamina.sklearn", "scikit-learn estimators trained by lamina."),
    ("lamina.export", "ONNX, safetensors, TorchScript and torch.export; safe loading."),
    ("lamina.registry", "The registry of named components."),
    ("lamina.config.describe", "The facts about registered components (the experiment-file reference's source)."),
]


def _write_api_pages() -> None:
    """One page per package: its ``__all__`` in an autosummary table, each object with a page of its own."""
    out = HERE / "reference" / "api"
    out.mkdir(parents=True, exist_ok=True)
    seen: set[int] = set()
    pages = []
    stubs: set[str] = set()
    for name, blurb in API_PACKAGES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue  # a package another version of lamina does not have
        members = []
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr, None)
            if obj is None or inspect.ismodule(obj) or attr.startswith("_"):
                continue
            if not (inspect.isclass(obj) or inspect.isfunction(obj) or callable(obj)):
                continue  # constants (KINDS, THEORY, FORMATS) are described in their module's text
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            members.append(attr)
        pages.append(name)
        stubs.update(f"{name}.{m}.rst" for m in members)
        title = f"``{name}``"
        text = [title, "=" * len(title), "", blurb, "", f".. currentmodule:: {name}", ""]
        if members:
            text += [".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
            text += [f"   {m}" for m in members]
        _write_if_changed(out / f"{name}.rst", "\n".join(text) + "\n")
    index = [
        "API reference",
        "=============",
        "",
        "Public objects, by the package a user imports them from (``lamina.Trainer``, "
        "``lamina.generative.BernoulliRBM``); each is listed once, under the first package that exports it.",
        "",
        ".. toctree::",
        "   :maxdepth: 1",
        "",
    ] + [f"   {p}" for p in pages]
    _write_if_changed(out / "index.rst", "\n".join(index) + "\n")
    for stale in (out / "generated").glob("*.rst"):  # an object moved or gone since the last build
        if stale.name not in stubs:
            stale.unlink()


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


_write_api_pages()


def _write_results_pages() -> None:
    """``results/<topic>.md`` for each ``benchmarks/results/<topic>.md`` that ``benchmarks/RESULTS.md`` links to,
    including it as it stands (its figures and raw-data links resolved beside it)."""
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    for source in sorted((HERE.parent / "benchmarks" / "results").glob("*.md")):
        lines = source.read_text().splitlines()
        first = lines[0] if lines else ""
        level = len(first) - len(first.lstrip("#"))
        title = first.lstrip("#").strip() or source.stem
        options = [":relative-images:"]
        links = sorted({m for m in re.findall(r"\]\(([\w.-]+\.json)\)", source.read_text())})
        if links:  # raw figures beside the page: link them relative to the included file
            options.append(f":relative-docs: {os.path.commonprefix(links)}")
        if level == 1:  # the page's own title becomes the document's
            options.append(":start-line: 1")
            head = f"# {title}"
        else:  # a page that starts at H2 sits under a title of its own
            head = f"# Results: {title}"
        text = [head, "", f"```{{include}} ../../benchmarks/results/{source.name}", *options, "```", ""]
        _write_if_changed(out / source.name, "\n".join(text))


_write_results_pages()

# ---- the gallery ---------------------------------------------------------------------------------------------------
# CI runs the fast examples (each a few seconds on 2 cores); LAMINA_DOCS_GALLERY=all (docs/build.sh all) runs them all.
# An example not run still has its page, code and text, without its figures.
FAST_EXAMPLES = ["plot_quickstart.py"]
_run_all = os.environ.get("LAMINA_DOCS_GALLERY", "fast") == "all"
sphinx_gallery_conf = {
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_" if _run_all else "(" + "|".join(n.replace(".", r"\.") for n in FAST_EXAMPLES) + ")$",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "capture_repr": (),
    "default_thumb_file": None,
}
