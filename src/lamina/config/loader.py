"""Read an experiment file: TOML (``tomllib``; a config never executes code), dotted-path overrides, validation
into :class:`~lamina.config.schema.Experiment`, and the resolved file written back out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lamina.config.problems import problems_from
from lamina.config.run_name import run_name_from_file
from lamina.config.schema import Experiment
from lamina.errors import ConfigError, Problem

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

__all__ = ["load_experiment", "parse_experiment", "apply_overrides", "to_toml", "read_toml"]

_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)((?:\[\d+\])*)$")


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; a missing file or a syntax error (with line and column) is a :class:`ConfigError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not an experiment file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read it as text ({err})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None


def _parse_value(text: str) -> Any:
    """A TOML value (``5``, ``0.1``, ``true``, ``[1, 2]``, ``{ type = "sgd" }``), else the text as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in path.split("."):
        m = _PART.match(part)
        if not m:
            raise ValueError(part)
        steps.append(m.group(1))
        steps += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    return steps


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Set ``a.b.c=value`` / ``model.layers[1].p=0.3`` overrides in a raw config table (in place).

    A value is read as TOML (``5``, ``"text"``, ``[1, 2]``, ``{ type = "adam" }``), else taken as a plain string.
    A component given by name (``optimizer = "adam"``) becomes a table when an option under it is set.
    """
    problems = []
    for override in overrides:
        key, sep, value = override.partition("=")
        key = key.strip()
        try:
            steps = _steps(key) if sep and key else None
        except ValueError:
            steps = None
        if not steps:
            problems.append(
                Problem("--set", f"expected KEY=VALUE with a dotted key (train.epochs=5), got {override!r}")
            )
            continue
        node: Any = raw
        for i, step in enumerate(steps[:-1]):
            where = ".".join(map(str, steps[: i + 1]))
            if isinstance(step, int):
                if not isinstance(node, list) or step >= len(node):
                    size = len(node) if isinstance(node, list) else 0
                    problems.append(Problem(key, f"index {step} is out of range: {where} has {size} items"))
                    break
                node = node[step]
                continue
            if not isinstance(node, dict):
                problems.append(Problem(key, f"{where}: cannot set a key inside a {type(node).__name__}"))
                break
            child = node.get(step)
            if isinstance(child, str) and not isinstance(steps[i + 1], int):  # "adam" -> { type = "adam" }
                child = node[step] = {"type": child}
            elif child is None:
                child = node[step] = [] if isinstance(steps[i + 1], int) else {}
            node = child
        else:
            last = steps[-1]
            if isinstance(last, int):
                if not isinstance(node, list) or last >= len(node):
                    problems.append(Problem(key, f"index {last} is out of range"))
                    continue
            elif not isinstance(node, dict):
                problems.append(Problem(key, f"cannot set a key inside a {type(node).__name__}"))
                continue
            node[last] = _parse_value(value.strip())
    if problems:
        raise ConfigError(problems, source="overrides")
    return raw


def parse_experiment(raw: dict[str, Any], *, overrides: Iterable[str] = (), source: str | None = None) -> Experiment:
    """Validate a raw config table (as read from TOML) into an :class:`Experiment`; every problem is reported."""
    raw = apply_overrides(raw, overrides)
    if "gan" in raw and "model" not in raw:  # a GAN file (issue 27): two networks, run by its own trainer
        raise ConfigError(
            "a GAN experiment ([gan] with a generator and a discriminator) is not a `lamina train` run: train it "
            "with lamina.generative.adversarial.config.train_gan(file, run_dir) or `python -m benchmarks.gan_mnist`",
            source=source,
        )
    try:
        exp = Experiment.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(problems_from(err), source=source) from None
    exp._source = source
    return exp


def load_experiment(path: str | Path, overrides: Iterable[str] = ()) -> Experiment:
    """Read, override and validate an experiment file.

    Example:
        >>> exp = lamina.load_experiment("examples/mnist_mlp.toml", overrides=["train.epochs=5"])

    Raises:
        ConfigError: a missing file, malformed TOML (line and column), or every validation problem with its path.
    """
    exp = parse_experiment(read_toml(path), overrides=overrides, source=str(path))
    if exp.name is None:
        exp.name = run_name_from_file(Path(path).stem)
    return exp


def to_toml(exp: Experiment) -> str:
    """The resolved experiment (defaults filled in) as TOML text, loadable again by :func:`load_experiment`."""
    import tomli_w

    data = _collapse_named(exp.model_dump(mode="json", exclude_none=True))
    return tomli_w.dumps(data)


def _collapse_named(node: Any) -> Any:
    """``{"type": "relu"}`` -> ``"relu"``: a component without options is written by name, as people write it
    (and as inline tables, which keeps layer lists one line per layer)."""
    if isinstance(node, dict):
        if list(node) == ["type"]:
            return node["type"]
        return {k: _collapse_named(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_collapse_named(v) for v in node]
    return node
