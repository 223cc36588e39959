"""The ``lamina`` command line (typer + rich). Each command group lives in its own module of this package and
registers itself on :data:`app`; every module here is imported, so a new feature adds a file, not an edit.

The command modules import typer, rich and the light parts of lamina only; torch, numpy, pydantic and the rest are
imported inside the commands that use them, so ``lamina --help`` and ``lamina names`` answer without them.
"""

import importlib
import pkgutil

from lamina.cli.app import app

# modules of this package that are not commands: the app itself, helpers, and the names index's generator
_NOT_COMMANDS = {"app", "text", "catalog"}

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _NOT_COMMANDS:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``lamina`` script and ``python -m lamina``."""
    app()
