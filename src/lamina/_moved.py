"""Old module paths, importable for one release after the package was laid out by family (issue 25).

``import lamina.multi_label`` (or ``from lamina.generative import rbm_pretrain``, or ``lamina.generative.greedy``
after ``import lamina``) still works and gives the module at its new path, :data:`MOVED`'s value, with a
``DeprecationWarning`` that names it. No file is left at an old path: a finder on ``sys.meta_path``, asked only after
the ordinary finders found nothing, maps the old name to the new module (the same module object, so ``isinstance``,
monkeypatching and pickles made under the old names all keep working), and a package whose modules moved hands an
old attribute to :func:`moved_attribute` from its ``__getattr__``. Delete this module and those hooks in the release
after next.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

__all__ = ["MOVED", "MovedModuleFinder", "install", "moved_attribute"]

# old dotted name -> new dotted name
MOVED: dict[str, str] = {
    **{
        f"lamina.generative.{old}": f"lamina.generative.rbm.{new}"
        for old, new in (
            ("gaussian_rbm", "gaussian"),
            ("linear_rbm", "linear"),
            ("contrastive_divergence", "contrastive_divergence"),
            ("rbm_functions", "functions"),
            ("partition", "partition"),
            ("ais", "ais"),
            ("fused_kernels", "fused_kernels"),
            ("rbm_callbacks", "callbacks"),
            ("rbm_figures", "plots"),
            ("rbm_pretrain", "pretrain"),
        )
    },
    **{
        f"lamina.generative.{old}": f"lamina.generative.autoencoders.{new}"
        for old, new in (
            ("autoencoder", "autoencoder"),
            ("denoising_autoencoder", "denoising"),
            ("contractive_autoencoder", "contractive"),
            ("sparse_autoencoder", "sparse"),
            ("deep_autoencoder", "deep"),
            ("corruption", "corruption"),
            ("autoencoder_plots", "plots"),
            ("autoencoder_pretrain", "pretrain"),
        )
    },
    "lamina.generative.greedy": "lamina.pretrain.greedy",
    "lamina.train.pretrain": "lamina.pretrain.protocol",
    "lamina.multi_label": "lamina.losses.multi_label",
    "lamina.multi_task": "lamina.losses.multi_task",
    "lamina.train.metrics": "lamina.metrics.standard",
    "lamina.timeseries.metrics": "lamina.metrics.forecasting",
}


def _warn(message: str) -> None:
    """A DeprecationWarning located at the importing code: the first frame outside importlib, this module and the
    packages' ``__getattr__`` hooks (no one ``stacklevel`` fits both ``import old`` and ``from package import old``)."""
    frame = sys._getframe(1)
    while frame.f_back is not None and (
        "importlib" in frame.f_code.co_filename
        or frame.f_code.co_filename == __file__
        or (frame.f_code.co_name == "__getattr__" and str(frame.f_globals.get("__name__", "")).startswith("lamina"))
    ):
        frame = frame.f_back
    warnings.warn_explicit(
        message,
        DeprecationWarning,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=frame.f_globals.get("__name__", "<unknown>"),
        registry=frame.f_globals.setdefault("__warningregistry__", {}),
    )


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old module name of :data:`MOVED` and loads it as the module at its new name, with a warning."""

    def find_spec(self, fullname: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        """A spec served by this finder for an old name of :data:`MOVED`; ``None`` for any other name."""
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        """Warn, then hand back the module at its new name (the same object, not a copy)."""
        new = MOVED[spec.name]
        _warn(f"{spec.name} has moved to {new}; import it from there (the old path goes in the release after next)")
        module = importlib.import_module(new)
        spec.loader_state = module.__spec__  # the import system sets __spec__ to the old name's; put it back
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Give the module back its own ``__spec__`` (the import system set the old name's); nothing runs again."""
        spec = module.__spec__
        if spec is not None and spec.loader is self:
            module.__spec__ = spec.loader_state


def install() -> None:
    """Put the finder at the end of ``sys.meta_path`` (once): it is asked only for names no real module has."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())


def moved_attribute(package: str, name: str) -> ModuleType:
    """The module an old attribute ``package.name`` named (through the finder, so with its warning), for a package's
    ``__getattr__``.

    Raises:
        AttributeError: ``package.name`` is no moved module (the error ``getattr`` expects).
    """
    if f"{package}.{name}" not in MOVED:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return importlib.import_module(f"{package}.{name}")
