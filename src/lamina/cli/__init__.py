"""The ``lamina`` command line (typer + rich). Each command group lives in its own module and registers itself on
:data:`app`; later features add a module here."""
from lamina.cli import config_cmds, data_cmds, predict, runs_cmds, train  # noqa: F401  (register commands)
from lamina.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``lamina`` script and ``python -m lamina``."""
    app()
