"""Shared by the benchmark scripts: machine facts and the JSON result every benchmark writes.

Every script runs from the repository root as a module, ``python -m benchmarks.<name> [--help]``, and imports
what it shares from here as ``from benchmarks.common import ...`` (no ``sys.path`` edits).

Each script runs lamina and its competitors in the same process and writes ``benchmarks/results/<name>.json``
(figures, ratios, the published figure where there is one, the command, the machine); ``benchmarks/RESULTS.md`` is
the table people read.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """The facts a reader needs to compare figures: CPU count, torch threads and version, device."""
    import torch

    import lamina

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "torch": str(torch.__version__),
        "torch_threads": torch.get_num_threads(),
        "lamina": lamina.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    return info


def command() -> str:
    """The command line that started this process, as ``python -m benchmarks.<name> ...`` for a benchmark."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    program = f"-m {spec.name}" if spec is not None and spec.name else shlex.quote(sys.argv[0])
    return f"python {program} " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def write_result(name: str, payload: dict[str, Any], *, folder: Path = RESULTS) -> Path:
    """Write ``<folder>/<name>.json`` (default ``results/``) with the payload, the command that produced it, the date
    and the machine."""
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": name,
        "command": command(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": machine(),
        **payload,
    }
    path = folder / f"{name}.json"
    from lamina import jsonio

    path.write_text(jsonio.dumps(record, indent=2) + "\n")  # non-finite as "nan"/"inf"
    return path


def throughput(step, *, samples_per_step: int, min_seconds: float = 2.0, warmup: int = 5) -> float:
    """Samples per second of ``step()`` over at least ``min_seconds`` after ``warmup`` calls."""
    for _ in range(warmup):
        step()
    calls, start = 0, time.perf_counter()
    while True:
        step()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return calls * samples_per_step / elapsed


def add_threads_option(parser: argparse.ArgumentParser) -> None:
    """``--threads N``: limit both libraries of a comparison to N threads (:func:`limit_threads`)."""
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit both libraries to this many threads (torch intra-op and the BLAS under NumPy)",
    )


def limit_threads(threads: int | None) -> None:
    """Limit torch's intra-op threads and the BLAS under NumPy to ``threads`` (``None``: leave them)."""
    if threads is None:
        return
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(threads)


def spread(values: list[float]) -> dict[str, float]:
    """Mean, sample standard deviation (0 for one value), min and max of per-seed figures."""
    import numpy as np

    a = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(a.mean()),
        "sd": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
        "min": float(a.min()),
        "max": float(a.max()),
    }
