"""The typer application and the error handling every command shares: lamina's own errors are printed in plain
words (exit 2 for bad input, 1 for a failed run), never as a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console

from lamina.errors import LaminaError, TrainingDivergedError

__all__ = [
    "app",
    "config_app",
    "data_app",
    "runs_app",
    "console",
    "err_console",
    "handle_errors",
    "EXIT_BAD_INPUT",
    "EXIT_FAILURE",
]

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

app = typer.Typer(
    name="lamina",
    help="Define, train, pretrain and diagnose neural networks from TOML experiment files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Check and show experiment files.", no_args_is_help=True)
data_app = typer.Typer(help="Registered datasets: list, verify, locate.", no_args_is_help=True)
runs_app = typer.Typer(help="Run folders.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(data_app, name="data")
app.add_typer(runs_app, name="runs")

console = Console()
err_console = Console(stderr=True, highlight=False)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``message`` as an error and return the ``typer.Exit`` to raise."""
    err_console.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    return typer.Exit(code)


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn lamina's errors into a message and an exit code (2: bad input, 1: a run that failed)."""

    @functools.wraps(command)
    def _wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TrainingDivergedError as err:
            raise fail(str(err), EXIT_FAILURE) from None
        except LaminaError as err:
            raise fail(str(err).replace("[", r"\["), EXIT_BAD_INPUT) from None
        except KeyboardInterrupt as err:
            err_console.print("interrupted")
            resume = getattr(err, "resume_command", None)  # set by lamina.train: where the run is and how to go on
            if resume:
                err_console.print(
                    f"run folder: {getattr(err, 'run_dir', '?')}\nresume with: {resume}", markup=False, soft_wrap=True
                )  # one line each, so the command can be copied whole
            sys.exit(130)

    return _wrapper
