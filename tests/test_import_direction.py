"""lamina's imports run one way (issue 25): foundation -> components -> training loop -> models -> experiment ->
applications -> command line. Every lamina import of every module, at module level or inside a function, is read
with ``ast`` and checked against the layer order below; function-local imports are kept for the modules that load a
heavy optional dependency (matplotlib, onnx, tensorboard), so that ``import lamina`` stays light, and in the command
line for the modules that load torch, numpy, pydantic or scikit-learn too, so that ``lamina --help`` and ``lamina
names`` answer without them (issue 24).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import lamina

ROOT = Path(lamina.__file__).parent

# lowest first; a module belongs to the layer of its longest listed prefix ("lamina" itself: the package root only)
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "foundation",
        (
            "lamina._version",
            "lamina._moved",
            "lamina.errors",
            "lamina.registry",
            "lamina.config",
            "lamina.config.problems",
            "lamina.config.fields",
            "lamina.config.spec",
            "lamina.config.component",
            "lamina.config.run_name",
            "lamina.files",
            "lamina.disk",
            "lamina.jsonio",
        ),
    ),
    ("components", ("lamina.data", "lamina.nn", "lamina.losses", "lamina.metrics", "lamina.optim", "lamina.report")),
    # the trainer and what it runs: callbacks, checkpoints, RNG streams (seeded), the run lock
    ("loop", ("lamina.train",)),
    # the greedy driver and the pretraining protocol: below the models, which subclass GreedyLayer and call the driver
    ("pretraining", ("lamina.pretrain",)),
    (
        "models",
        (
            "lamina.generative",
            "lamina.memory",
            "lamina.timeseries",
            "lamina.diagnostics",
        ),
    ),
    (
        "experiment",
        (
            "lamina.config.schema",
            "lamina.config.loader",
            "lamina.train.experiment",
            "lamina.train.run_outputs",
            "lamina.train.runs",
        ),
    ),
    ("apps", ("lamina.sklearn", "lamina.export", "lamina.zoo", "lamina")),
    ("cli", ("lamina.cli", "lamina.__main__")),
]

# imports against the order, each with its reason: (importer, the module its import statement names)
UPWARD_EXCEPTIONS = {
    ("lamina.data", "lamina.timeseries"): "the lamina.data.SeriesDatasetSpec alias (module __getattr__, on use only) "
    "for code written before the series datasets moved to lamina.timeseries",
    ("lamina.data", "lamina.timeseries.datasets"): "the same alias",
}
# function-local imports of light modules, each with its reason: (importer, imported)
LOCAL_EXCEPTIONS = {
    ("lamina.registry", "lamina.config.fields"): "resolve() validates through config.fields.component, which reads "
    "the registry; the registry itself imports nothing of lamina's but "
    "its errors",
    ("lamina.registry", "lamina.config.problems"): "the same: resolve() turns pydantic errors into located problems",
    ("lamina.data", "lamina.timeseries.datasets"): "the lamina.data.SeriesDatasetSpec alias, resolved on use",
    ("lamina.config.spec", "lamina.config.component"): "Spec.option_names reads the target's signature through "
    "config.component, whose spec_base builds on Spec",
}
HEAVY = ("matplotlib", "onnx", "onnxruntime", "onnxscript", "tensorboard", "torch.utils.tensorboard")
# what a command of the command line imports only when it runs (the startup of `lamina --help` must not pay for it)
CLI_HEAVY = (*HEAVY, "torch", "numpy", "pydantic", "pydantic_core", "sklearn", "scipy")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def layer_of(module: str) -> int:
    best, found = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or (prefix != "lamina" and module.startswith(prefix + "."))
            if matches and len(prefix) > best:
                best, found = len(prefix), index
    assert found is not None, f"{module} is in no layer: add it to LAYERS"
    return found


def _resolve(module: str) -> str:
    while module not in MODULES:
        module = module.rpartition(".")[0]
    return module


@cache
def imports_of(module: str) -> tuple[tuple[str, int, bool], ...]:
    """``(imported module, line, function-local)`` for every import of ``module`` (outside ``TYPE_CHECKING``)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inner = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, local) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                found.append((base, child.lineno, local))
                found.extend(
                    (f"{base}.{alias.name}", child.lineno, local)
                    for alias in child.names
                    if f"{base}.{alias.name}" in MODULES
                )
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return tuple(found)


def lamina_imports(module: str) -> list[tuple[str, int, bool, str]]:
    """``(lamina module, line, function-local, the module the import statement names)`` for every import of
    ``module``: the named module and the packages whose ``__init__`` importing it runs (not the root's, which has
    always run, nor ``module``'s own packages)."""
    edges = []
    for name, line, local in imports_of(module):
        if name.split(".")[0] != "lamina":
            continue
        named = _resolve(name)
        parts = named.split(".")
        for i in range(2, len(parts) + 1):
            implied = ".".join(parts[:i])
            if implied != module and not module.startswith(implied + "."):
                edges.append((implied, line, local, named))
    return edges


@cache
def is_heavy(module: str, heavy: tuple[str, ...] = HEAVY) -> bool:
    """Whether importing ``module`` loads one of ``heavy`` (matplotlib, onnx or tensorboard), itself or through
    other lamina modules (importing ``lamina.data.sources`` runs ``lamina.data``'s ``__init__`` first)."""
    parts = module.split(".")
    todo = [".".join(parts[:i]) for i in range(2, len(parts) + 1)]
    seen = set(todo)
    while todo:
        current = todo.pop()
        for name, _, local in imports_of(current):
            if not local and any(name == h or name.startswith(h + ".") for h in heavy):
                return True
        for target, _, local, _ in lamina_imports(current):
            if not local and target not in seen:
                seen.add(target)
                todo.append(target)
    return False


def test_every_import_goes_down_the_layers():
    wrong = []
    for module in MODULES:
        for target, line, _, named in lamina_imports(module):
            if layer_of(target) > layer_of(module) and (module, named) not in UPWARD_EXCEPTIONS:
                wrong.append(
                    f"{MODULES[module].relative_to(ROOT.parent)}:{line}: {module} "
                    f"({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
                )
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_function_local_lamina_imports_only_guard_heavy_dependencies():
    wrong = []
    for module in MODULES:
        heavy = CLI_HEAVY if layer_of(module) == layer_of("lamina.cli") else HEAVY
        for target, line, local, named in lamina_imports(module):
            if local and target == named and not is_heavy(target, heavy) and (module, target) not in LOCAL_EXCEPTIONS:
                wrong.append(
                    f"{MODULES[module].relative_to(ROOT.parent)}:{line}: {module} imports {target} inside a "
                    "function; import it at module level (it loads no heavy dependency)"
                )
    assert not wrong, "\n".join(wrong)


def test_module_level_imports_have_no_cycle():
    graph = {m: {t for t, _, local, _ in lamina_imports(m) if not local} for m in MODULES}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(MODULES):
        if module not in state and (cycle := visit(module)):
            raise AssertionError("import cycle: " + " -> ".join(cycle))


def test_generative_and_sklearn_never_import_the_experiment_runner():
    runner = (
        "lamina.train.experiment",
        "lamina.train.run_outputs",
        "lamina.train.runs",
        "lamina.config.loader",
        "lamina.config.schema",
    )
    for module in MODULES:
        if module.startswith(
            ("lamina.generative", "lamina.pretrain", "lamina.sklearn", "lamina.timeseries", "lamina.memory")
        ):
            assert not [t for t, _, _, _ in lamina_imports(module) if t in runner], module


def test_the_checks_see_what_they_check():
    # the parser finds module-level, function-local and package-implied imports (else the tests above pass vacuously)
    greedy = {(t, local) for t, _, local, _ in lamina_imports("lamina.pretrain.greedy")}
    assert ("lamina.train.trainer", False) in greedy and ("lamina.train", False) in greedy
    assert ("lamina.timeseries", True) in {(t, local) for t, _, local, _ in lamina_imports("lamina.cli.forecast")}
    assert ("lamina.report", True) in {(t, local) for t, _, local, _ in lamina_imports("lamina.train.run_outputs")}
    assert is_heavy("lamina.report") and is_heavy("lamina.diagnostics.plots") and not is_heavy("lamina.train.trainer")
    assert is_heavy("lamina.train.runs", CLI_HEAVY) and not is_heavy("lamina.cli.app", CLI_HEAVY)
    assert layer_of("lamina.train.experiment") > layer_of("lamina.generative.dbn") > layer_of("lamina.train.rng")
    assert len(MODULES) > 150


def test_import_lamina_loads_no_heavy_optional_dependency():
    code = (
        "import sys, lamina; print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('matplotlib', 'onnx', 'onnxruntime', 'onnxscript', 'tensorboard') "
        "or m.startswith('torch.utils.tensorboard'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT.parent)},
    )
    assert out.stdout.strip() == "", out.stdout
