"""JSON as lamina writes it: standard JSON, never the bare ``NaN`` / ``Infinity`` that Python's ``json`` emits by
default and that strict readers (browsers, ``jq``, most languages) reject.

The one encoding, used by every JSON file lamina writes (``summary.json``, ``metrics.jsonl``, diagnostics, benchmark
results): a float that is not finite is written as the string ``"nan"``, ``"inf"`` or ``"-inf"``. :func:`loads`
turns those three strings back into floats, so a value read back compares as it was written.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["NON_FINITE", "dumps", "encode", "loads"]

NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode(value: Any) -> Any:
    """``value`` with every non-finite float (in any nested dict, list or tuple) replaced by its string."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def _default(value: Any) -> Any:
    """Tensors and numpy values as numbers or lists (encoded like floats), anything else as its ``str``."""
    tolist = getattr(value, "tolist", None)
    return encode(tolist()) if callable(tolist) else str(value)


def dumps(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` with non-finite floats as strings (``allow_nan=False``: nothing else can slip through)."""
    kwargs.setdefault("default", _default)
    return json.dumps(encode(value), allow_nan=False, **kwargs)


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value in NON_FINITE:
        return NON_FINITE[value]
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def loads(text: str) -> Any:
    """``json.loads``, turning ``"nan"``, ``"inf"`` and ``"-inf"`` back into floats (and still reading the bare
    ``NaN`` / ``Infinity`` of files written before this encoding)."""
    return _decode(json.loads(text))
