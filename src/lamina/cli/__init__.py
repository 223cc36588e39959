"""The ``lamina`` command line (typer + rich). Each command group lives in its own module of this package and
registers itself on :data:`app`; every module here is imported, so a new feature adds a file, not an edit."""

import importlib
import pkgutil

from lamina.cli.app import app

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "app":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``lamina`` script and ``python -m lamina``."""
    app()
