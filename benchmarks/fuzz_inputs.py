"""Fuzzed inputs for every file and name lamina reads: each case must be accepted or end in one of lamina's own
errors (a :class:`~lamina.errors.LaminaError` with a message), never another exception, never a file written outside
the output folder.

Categories (``--fuzz N`` cases each, seeded): experiment configs (mutated tables and mutated TOML text; accepted ones
are built on the meta device), run names, IDX files, CSV files, checkpoints, safetensors exports and ``metrics.jsonl``
files. Byte formats start from a valid file and are mutated (bytes flipped, inserted, deleted, truncated, a block
repeated) or replaced by random bytes.

    python -m benchmarks.fuzz_inputs [--fuzz 300] [--category csv]
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import os
import random
import shutil
import tempfile
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Tally", "CATEGORIES", "fuzz", "mutate_bytes"]


@dataclass
class Tally:
    """The outcome of one category: cases tried, accepted, refused with lamina's error, and anything else."""

    category: str
    tried: int = 0
    accepted: int = 0
    lamina_errors: int = 0
    other: int = 0
    examples: list[str] = field(default_factory=list)  # the first few other outcomes, with their input

    def record(self, case: Any, call: Callable[[], Any]) -> None:
        """Run one case; anything but success or a :class:`LaminaError` is counted as ``other``."""
        from lamina.errors import LaminaError

        self.tried += 1
        try:
            problem = call()
        except LaminaError as err:
            if not str(err).strip():
                self._other(case, f"{type(err).__name__} with an empty message")
            else:
                self.lamina_errors += 1
            return
        except Exception as err:  # noqa: BLE001 - the point: nothing else may escape
            where = traceback.extract_tb(err.__traceback__)[-1]
            self._other(case, f"{type(err).__name__}: {str(err)[:120]} (at {Path(where.filename).name}:{where.lineno})")
            return
        if isinstance(problem, str) and problem:  # a silent failure the call reports (a file outside the folder)
            self._other(case, problem)
        else:
            self.accepted += 1

    def _other(self, case: Any, what: str) -> None:
        self.other += 1
        if len(self.examples) < 5:
            self.examples.append(f"{what} <- {repr(case)[:160]}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "tried": self.tried,
            "accepted": self.accepted,
            "lamina_errors": self.lamina_errors,
            "other": self.other,
            "examples": self.examples,
        }


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """One to four random edits of ``data`` (or, one time in eight, random bytes of a random length)."""
    if rng.random() < 0.125 or not data:
        return rng.randbytes(rng.randrange(0, 256))
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind, at = rng.randrange(6), rng.randrange(max(len(out), 1))
        if kind == 0 and out:  # flip a byte
            out[at] = rng.randrange(256)
        elif kind == 1:  # insert bytes
            out[at:at] = rng.randbytes(rng.randint(1, 8))
        elif kind == 2:  # delete a run
            del out[at : at + rng.randint(1, 16)]
        elif kind == 3:  # truncate
            del out[at:]
        elif kind == 4 and out:  # repeat a block
            out[at:at] = out[at : at + rng.randint(1, 64)]
        else:  # overwrite with a big-endian integer: sizes and counts
            out[at : at + 4] = rng.choice([0, 1, 2**31 - 1, 2**32 - 1, 2**16, rng.randrange(2**32)]).to_bytes(4, "big")
    return bytes(out)


# -- configs ----------------------------------------------------------------------------------------------------

_SCALARS = [
    None,
    True,
    False,
    0,
    -1,
    1,
    10**12,
    0.5,
    -1e300,
    float("nan"),
    float("inf"),
    "",
    "dense",
    "relu",
    "sgd",
    "adam",
    "digits",
    "mnist",
    "x" * 40,
    "$^$",
    "../..",
    [],
    {},
]


def _mutate_table(raw: dict, rng: random.Random) -> dict:
    raw = copy.deepcopy(raw)
    for _ in range(rng.randint(1, 4)):
        paths: list[tuple] = []

        def walk(node: Any, prefix: tuple) -> None:
            if prefix:
                paths.append(prefix)
            items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
            for k, v in items:
                walk(v, prefix + (k,))

        walk(raw, ())
        if not paths:
            break
        path = rng.choice(paths)
        parent = raw
        for key in path[:-1]:
            parent = parent[key]
        action = rng.choice(["set", "set", "delete", "add", "rename"])
        if action == "set":
            parent[path[-1]] = copy.deepcopy(rng.choice(_SCALARS))
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[rng.choice(["units", "p", "lr", "type", "zz", "activation", "inputs"])] = copy.deepcopy(
                rng.choice(_SCALARS)
            )
        elif action == "rename" and isinstance(parent, dict):
            parent[str(path[-1]) + rng.choice(["s", "_", "x"])] = parent.pop(path[-1])
    return raw


def fuzz_configs(n: int, rng: random.Random, work: Path) -> Tally:
    """Mutated experiment tables (half) and mutated TOML text (half); accepted ones are built on the meta device
    and their memory estimated."""
    from lamina.config.loader import load_experiment, parse_experiment, to_toml
    from lamina.nn.memory_estimate import estimate_memory
    from tests.config.test_config_errors import VALID

    tally = Tally("configs")
    text = to_toml(parse_experiment(copy.deepcopy(VALID))).encode("utf-8")
    path = work / "fuzzed.toml"

    def check(exp: Any) -> None:
        if exp.model.layers is not None:  # VALID's dataset is MNIST: one 1x28x28 input
            estimate_memory(exp.model, (1, 28, 28), batch_size=exp.train.batch_size)

    for i in range(n):
        if i % 2 == 0:
            raw = _mutate_table(VALID, rng)
            tally.record(raw, lambda raw=raw: check(parse_experiment(copy.deepcopy(raw))))
        else:
            data = mutate_bytes(text, rng)
            path.write_bytes(data)
            tally.record(data, lambda: check(load_experiment(path)))
    return tally


# -- run names --------------------------------------------------------------------------------------------------

_NAME_PARTS = [
    "run",
    "mnist_mlp",
    "$x^$",
    "$$",
    "\\frac{",
    "..",
    ".",
    "/",
    "\\",
    "~",
    " ",
    "\x00",
    "\n",
    "\t",
    "é",
    "日本",
    "😀",
    "-",
    "_",
    "a" * 120,
    "CON",
    "*",
    "?",
    ":",
    "'",
    '"',
    "%s",
    "{}",
    "<b>",
    "\u202e",
]


def fuzz_run_names(n: int, rng: random.Random, work: Path) -> Tally:
    """Run names (``name = ...``): refused with a ConfigError or made into exactly one new folder inside the output
    folder; accepted names must also be shown literally by matplotlib (:func:`lamina.report.literal`)."""
    from matplotlib.text import Text

    from lamina.config.loader import parse_experiment
    from lamina.report import literal
    from lamina.train.runs import new_run_dir
    from tests.config.test_config_errors import VALID

    tally = Tally("run_names")
    out = work / "runs"

    def attempt(name: str) -> str:
        exp = parse_experiment({**copy.deepcopy(VALID), "name": name})
        out.mkdir(exist_ok=True)
        target = out / f"{exp.name or 'run'}-20261204-000000"  # where new_run_dir would put it
        if "\x00" in str(target) or os.path.realpath(target.parent) != os.path.realpath(out):
            return f"the name would put the run folder at {target}, not directly inside {out}"  # never created
        try:
            made = new_run_dir(out, exp.name or "run")
            if made.resolve().parent != out.resolve():
                return f"run folder {made} is not directly inside {out}"
            shown, is_math = Text(text=literal(exp.name or ""))._preprocess_math(literal(exp.name or ""))
            if (shown, is_math) != (exp.name or "", False):
                return f"matplotlib would show {shown!r}"
            return ""
        finally:
            shutil.rmtree(out, ignore_errors=True)

    for _ in range(n):
        name = "".join(rng.choice(_NAME_PARTS) for _ in range(rng.randint(0, 5)))
        tally.record(name, lambda name=name: attempt(name))
    return tally


# -- files ------------------------------------------------------------------------------------------------------


def fuzz_idx(n: int, rng: random.Random, work: Path) -> Tally:
    """IDX files: mutated valid files (plain and gzipped), read by :func:`lamina.data.idx.read_idx`."""
    from lamina.data.idx import read_idx, write_idx

    tally = Tally("idx")
    valid = work / "valid.idx"
    write_idx(np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4), valid)
    base = valid.read_bytes()
    for i in range(n):
        data = mutate_bytes(base, rng)
        path = work / ("fuzzed.idx.gz" if i % 3 == 0 else "fuzzed.idx")
        path.write_bytes(gzip.compress(data) if i % 3 == 0 and rng.random() < 0.5 else data)
        tally.record(data, lambda path=path: read_idx(path))
    return tally


def fuzz_csv(n: int, rng: random.Random, work: Path) -> Tally:
    """CSV files (some in Latin-1 or UTF-16), read as a series (``read_csv_columns``) and as prediction inputs."""
    from lamina.data.inputs import read_inputs
    from lamina.data.series import read_csv_columns

    tally = Tally("csv")
    base = "year,value\n1700,5.0\n1701,11.0\n1702,16.0\n1703,23.0\n"
    path = work / "fuzzed.csv"
    for i in range(n):
        encoded = base.encode(rng.choice(["utf-8", "utf-8", "latin-1", "utf-16"]))
        data = (
            mutate_bytes(encoded, rng)
            if i % 4
            else encoded.replace(b"5.0", rng.choice([b"caf\xe9", b"\xff\xfe", b"nan", b"1e999", b""]))
        )
        path.write_bytes(data)
        if i % 2:
            tally.record(data, lambda: read_csv_columns(path))
        else:
            tally.record(data, lambda: read_inputs(path, (2,)))
    return tally


def fuzz_checkpoints(n: int, rng: random.Random, work: Path) -> Tally:
    """Checkpoints: mutated valid ones (a small model's full trainer state), read by ``load_checkpoint``."""
    import torch

    from lamina.train.checkpoint import load_checkpoint, save_checkpoint

    tally = Tally("checkpoints")
    model = torch.nn.Linear(4, 3)
    valid = save_checkpoint({"model": model.state_dict(), "epoch": 1, "history": [{"loss": 0.5}]}, work / "valid.pt")
    base = valid.read_bytes()
    path = work / "fuzzed.pt"
    for _ in range(n):
        data = mutate_bytes(base, rng)
        path.write_bytes(data)
        tally.record(data[:64], lambda: load_checkpoint(path))
    return tally


def _canonical_safetensors(data: bytes) -> bytes:
    """The same file with its JSON header's keys sorted (safetensors writes them in hash order, which varies from
    run to run), so that the seeded mutations are the same on every run."""
    size = int.from_bytes(data[:8], "little")
    return _safetensors_file(json.loads(data[8 : 8 + size]), data[8 + size :])


def _safetensors_file(header: dict, tensors: bytes) -> bytes:
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + tensors


def fuzz_safetensors(n: int, rng: random.Random, work: Path) -> Tally:
    """safetensors exports: mutated valid ones (header, metadata with the model config, tensors), read by
    ``lamina.export.load_safetensors``."""
    import torch

    from lamina.export import export, load_safetensors
    from lamina.sklearn import MLPClassifier

    tally = Tally("safetensors")
    x = torch.randn(24, 4, generator=torch.Generator().manual_seed(0)).numpy()
    with warnings.catch_warnings():  # one epoch does not converge, and need not
        warnings.simplefilter("ignore")
        clf = MLPClassifier(
            layers=[{"type": "dense", "units": 5, "activation": "relu"}], max_iter=1, random_state=0
        ).fit(x, np.arange(24) % 3)
    base = _canonical_safetensors(export(clf, "safetensors", work / "valid.safetensors").path.read_bytes())
    path = work / "fuzzed.safetensors"
    for i in range(n):
        data = mutate_bytes(base, rng) if i % 2 else _mutate_metadata(base, rng)
        path.write_bytes(data)
        tally.record(data[:64], lambda: load_safetensors(path))
    return tally


def _mutate_metadata(data: bytes, rng: random.Random) -> bytes:
    """A well-formed safetensors file whose lamina metadata (model config, input shapes, format tag) is damaged:
    one entry deleted or its text mutated."""
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    metadata = header["__metadata__"]
    key = rng.choice(sorted(metadata))
    if rng.random() < 0.2:
        del metadata[key]
    else:
        metadata[key] = mutate_bytes(metadata[key].encode("utf-8"), rng).decode("utf-8", errors="replace")
    return _safetensors_file(header, data[8 + size :])


def fuzz_metrics(n: int, rng: random.Random, work: Path) -> Tally:
    """``metrics.jsonl``: mutated logs (bytes that are not UTF-8, torn lines, lines of the wrong types), read back
    and rolled back as a resumed run does (:class:`~lamina.train.callbacks.MetricsLog`)."""
    from lamina.train.callbacks import MetricsLog, read_metrics

    tally = Tally("metrics")
    lines = [
        {"kind": "step", "epoch": 1, "step": 5, "loss": 1.5, "lr": 0.1},
        {"kind": "epoch", "epoch": 1, "step": 10, "loss": 1.2, "val_loss": 1.3, "lr": 0.1},
        {"kind": "epoch", "epoch": 2, "step": 20, "loss": 0.9, "val_loss": None, "lr": 0.05},
    ]
    base = "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")
    path = work / "metrics.jsonl"

    class Resumed:  # the state a resumed trainer is in
        step, epoch = 10, 1

    def roll_back() -> str:
        read_metrics(path)
        log = MetricsLog(path)
        log.on_train_begin(Resumed())
        log.on_train_end(Resumed())
        kept = read_metrics(path)
        return "" if all(isinstance(line, dict) for line in kept) else "a kept line is not an object"

    for _ in range(n):
        data = mutate_bytes(base, rng)
        path.write_bytes(data)
        tally.record(data[:64], roll_back)
    return tally


CATEGORIES: dict[str, Callable[[int, random.Random, Path], Tally]] = {
    "configs": fuzz_configs,
    "run_names": fuzz_run_names,
    "idx": fuzz_idx,
    "csv": fuzz_csv,
    "checkpoints": fuzz_checkpoints,
    "safetensors": fuzz_safetensors,
    "metrics": fuzz_metrics,
}


def fuzz(n: int, seed: int = 0, categories: list[str] | None = None) -> dict[str, Tally]:
    """``n`` cases of each category (all by default), seeded; a fresh temporary folder for each category."""
    results = {}
    for name in categories or list(CATEGORIES):
        with tempfile.TemporaryDirectory() as tmp:
            results[name] = CATEGORIES[name](n, random.Random(f"{seed}-{name}"), Path(tmp))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fuzz", type=int, default=300, help="cases per category")
    parser.add_argument("--category", action="append", choices=list(CATEGORIES))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for name, tally in fuzz(args.fuzz, args.seed, args.category).items():
        print(
            f"{name:12s} tried {tally.tried:5d}  accepted {tally.accepted:5d}  lamina errors {tally.lamina_errors:5d}"
            f"  other {tally.other:4d}"
        )
        for example in tally.examples:
            print(f"    {example}")


if __name__ == "__main__":
    main()
