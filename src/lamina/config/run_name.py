"""The rule for run names: ``name`` in an experiment file names the run folder ``<out>/<name>-<time>``.

A name is 1 to 100 ASCII letters, digits, ``.``, ``_`` or ``-``, starting with a letter, a digit or ``_``. That
keeps every run folder a single plain entry inside ``--out`` (no ``/``, no ``..``, no absolute path, no hidden
folder, no NUL byte or newline, no name past the filesystem's 255-byte limit once the time stamp is added), and the
same on every operating system (issue 22).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator

from lamina.config.fields import fail

__all__ = ["RULE", "MAX_LENGTH", "run_name_problem", "run_name", "run_name_from_file"]

MAX_LENGTH = 100  # with "-YYYYmmdd-HHMMSS-NN" well inside the 255 bytes of a file name
_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
RULE = (
    f"1 to {MAX_LENGTH} letters, digits, '.', '_' or '-', starting with a letter, a digit or '_' "
    "(it names the run folder inside --out)"
)


def _shown(value: str) -> str:
    return repr(value) if len(value) <= 60 else f"{value[:40]!r}... ({len(value)} characters)"


def run_name_problem(value: Any) -> str | None:
    """What is wrong with ``value`` as a run name (the message states the rule), or ``None`` if it is a valid one."""
    if not isinstance(value, str):
        return f"expected a run name of {RULE}, got {value!r}"
    if not value or len(value) > MAX_LENGTH or not _PATTERN.fullmatch(value):
        return f"expected a run name of {RULE}, got {_shown(value)}"
    return None


def _check(value: Any) -> Any:
    if value is None:
        return value
    problem = run_name_problem(value)
    if problem:
        raise fail(problem)
    return value


run_name = Annotated[str | None, BeforeValidator(_check)]
"""A field holding an optional run name, validated by :func:`run_name_problem`."""


def run_name_from_file(stem: str) -> str:
    """A valid run name made from an experiment file's name (``"my exp"`` -> ``"my_exp"``): characters outside the
    rule become ``_``, and the name is cut to :data:`MAX_LENGTH`."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", stem)
    if not name or not _PATTERN.match(name[0]):
        name = "_" + name
    return name[:MAX_LENGTH]
