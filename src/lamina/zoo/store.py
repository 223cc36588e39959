"""The local zoo folder: built weights files and ``index.json``, the record of each file's sha256 and figure.

The folder is ``$LAMINA_ZOO``, else ``<cache>/zoo`` (``$LAMINA_CACHE`` or ``~/.cache/lamina``). Every write is
atomic, so a build killed while saving leaves the previous record and file whole.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lamina import files, jsonio
from lamina.data.sources import cache_home
from lamina.disk import disk_errors
from lamina.errors import LaminaError

__all__ = ["zoo_home", "read_index", "record", "recorded"]


def zoo_home() -> Path:
    """The folder holding the zoo's weights files and their index."""
    value = os.environ.get("LAMINA_ZOO")
    return Path(value).expanduser() if value else cache_home() / "zoo"


def read_index(home: Path | None = None) -> dict[str, dict[str, Any]]:
    """``filename -> record`` of every file built here (empty when nothing is)."""
    path = (home or zoo_home()) / "index.json"
    if not path.is_file():
        return {}
    try:
        index = jsonio.loads(path.read_text())
    except ValueError as err:
        raise LaminaError(f"{path}: not a zoo index ({err}); delete it and build the models again") from None
    if not isinstance(index, dict):
        raise LaminaError(f"{path}: not a zoo index (expected a JSON object of records)")
    return index


def recorded(filename: str, home: Path | None = None) -> dict[str, Any] | None:
    """The record of ``filename``, if it was built here."""
    return read_index(home).get(filename)


def record(filename: str, entry: dict[str, Any], home: Path | None = None) -> Path:
    """Add or replace the record of ``filename`` in the index (atomically)."""
    home = home or zoo_home()
    index = read_index(home)
    index[filename] = entry
    path = home / "index.json"
    with disk_errors(path):
        home.mkdir(parents=True, exist_ok=True)
        return files.write_text(path, jsonio.dumps(index, indent=2, sort_keys=True) + "\n")
