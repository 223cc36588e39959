"""The typer application and the error handling every command shares: lamina's own errors are printed in plain
words (exit 2 for bad input, 1 for a failed run), never as a traceback.

The help reads as a user works: commands in the order of :data:`COMMAND_ORDER` (train, evaluate, predict, ...),
flags shown as flags (``--quiet``, not ``--quiet <bool>``) and each default at the end of its option's text, not on
a line of its own. This module imports typer and rich only, so ``lamina --help`` loads neither torch nor pydantic.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from lamina.cli.text import summary
from lamina.errors import LaminaError, TrainingDivergedError

__all__ = [
    "COMMAND_ORDER",
    "app",
    "config_app",
    "data_app",
    "runs_app",
    "zoo_app",
    "console",
    "err_console",
    "handle_errors",
    "EXIT_BAD_INPUT",
    "EXIT_FAILURE",
]

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

# a user's path through the commands: train, look at the result, use it, manage runs and files; the rest follows in
# the order its modules register
COMMAND_ORDER = ("train", "evaluate", "predict", "runs", "config", "data", "export", "diagnose")


def _default_text(param: Any) -> str | None:
    """What an option's help should say its default is (``None``: nothing to say)."""
    if param.show_default is False:
        return None
    if isinstance(param.show_default, str):
        return param.show_default
    default = param.default
    if default is None or callable(default):
        return None
    if getattr(param, "is_flag", False):  # an on/off switch: "verify" for --verify/--no-verify, nothing for --quiet
        secondary = getattr(param, "secondary_opts", [])
        if not secondary:
            return None
        return (param.opts[0] if default else secondary[0]).lstrip("-")
    if isinstance(default, (list, tuple)):
        return ", ".join(map(str, default)) or None
    return str(default)


def _tune(param: Any) -> None:
    """Show a flag without a value type and its default inside its help text (once per parameter)."""
    if getattr(param, "_lamina_tuned", False):
        return
    param._lamina_tuned = True
    if getattr(param, "is_flag", False):
        param.metavar = ""  # typer would print the flag's type, <bool>, as if it took a value
    default = _default_text(param)
    param.show_default = False
    if default:  # after the text, not on a line of its own (typer's columns put it there)
        param.help = f"{param.help or ''} [dim]\\[default: {escape(default)}][/]".lstrip()


class _TunedHelp:
    """Mixin of lamina's command and group classes: their parameters tuned by :func:`_tune` before any use."""

    def get_params(self, ctx: Any) -> list[Any]:
        """The command's parameters, tuned for help (flags as flags, defaults inline)."""
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            _tune(param)
        return params


class LaminaCommand(_TunedHelp, TyperCommand):
    """A command whose help shows flags as flags and defaults inline; listed in its group by the first sentence of
    its docstring, on one line."""

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        if self.short_help is None and self.help:
            self.short_help = summary(self.help)


class LaminaGroup(_TunedHelp, TyperGroup):
    """A command group listing its commands in :data:`COMMAND_ORDER` first, then the rest as registered."""

    def list_commands(self, ctx: Any) -> list[str]:
        """The commands in a user's order (:data:`COMMAND_ORDER`), then the rest as registered."""
        names = super().list_commands(ctx)
        return [n for n in COMMAND_ORDER if n in names] + [n for n in names if n not in COMMAND_ORDER]


class LaminaTyper(typer.Typer):
    """A ``typer.Typer`` whose groups and commands are :class:`LaminaGroup` and :class:`LaminaCommand`."""

    def __init__(self, **options: Any) -> None:
        super().__init__(cls=LaminaGroup, **options)

    def command(self, *args: Any, cls: Any = LaminaCommand, **options: Any) -> Any:
        """``typer.Typer.command`` making a :class:`LaminaCommand` unless told otherwise."""
        return super().command(*args, cls=cls, **options)


app = LaminaTyper(
    name="lamina",
    help="Define, train, pretrain and diagnose neural networks from TOML experiment files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = LaminaTyper(help="Check and show experiment files.", no_args_is_help=True)
data_app = LaminaTyper(help="Registered datasets: list, verify, locate.", no_args_is_help=True)
runs_app = LaminaTyper(help="Run folders.", no_args_is_help=True)
zoo_app = LaminaTyper(help="The model zoo: classic models, their recipes, checked weights.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(data_app, name="data")
app.add_typer(runs_app, name="runs")
app.add_typer(zoo_app, name="zoo")

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
