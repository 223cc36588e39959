"""Checkpoints: written atomically (temporary file, fsync, rename, fsync of the folder) so a reader never sees a
torn file, and read with ``torch.load(weights_only=True)`` so a checkpoint can never run code.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from lamina import files
from lamina._version import __version__
from lamina.disk import disk_errors
from lamina.errors import CheckpointError

__all__ = ["save_checkpoint", "load_checkpoint", "atomic_write", "remove_stale_temporaries", "FORMAT"]

FORMAT = 1  # bumped when the layout of a checkpoint changes incompatibly


def atomic_write(path: str | Path, write: Any) -> Path:
    """Write a file atomically: ``write(fileobj)`` fills a temporary file in the same folder, which is flushed,
    fsynced and renamed over ``path``. A crash at any point leaves either the old file or the new one; a symbolic
    link at ``path`` is refused (:func:`lamina.files.atomic_write`). Readable by the owner only, as before."""
    return files.atomic_write(path, write, mode=0o600)


def save_checkpoint(state: dict[str, Any], path: str | Path, **meta: Any) -> Path:
    """Atomically save a trainer's ``state_dict()`` (plus ``meta``: the lamina version, the run's config, ...)."""
    payload = {
        "format": FORMAT,
        "lamina_version": __version__,
        "torch_version": str(torch.__version__),
        **meta,
        "state": state,
    }
    with disk_errors(path):
        return atomic_write(path, lambda fh: torch.save(payload, fh))


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def load_checkpoint(path: str | Path, *, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`, refusing anything that is not plain tensors and
    containers (``weights_only=True``: a pickled payload is rejected, never run).

    Raises:
        CheckpointError: the file is missing, torn, not a lamina checkpoint, or from an incompatible version.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    corrupted = (
        f"{path}: corrupted or not a checkpoint ({{}}); delete it and resume from another checkpoint, or train again"
    )
    try:  # torch.save writes a zip archive; a torn, text or foreign file is none (or a broken one)
        is_zip = zipfile.is_zipfile(path)
    except zipfile.BadZipFile as err:  # is_zipfile itself raises on some damaged end records
        raise CheckpointError(corrupted.format(_first_line(err))) from None
    if not is_zip:
        raise CheckpointError(corrupted.format("not a torch zip archive: truncated, or some other kind of file"))
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"{path}: refused: the file holds Python objects other than tensors and plain containers, which "
            f"could run code when loaded ({_first_line(err)}). Only load checkpoints lamina wrote."
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile) as err:
        raise CheckpointError(corrupted.format(_first_line(err))) from None
    if not isinstance(payload, dict) or "state" not in payload or "format" not in payload:
        raise CheckpointError(f"{path}: not a lamina checkpoint (no 'format' and 'state' entries)")
    if payload["format"] != FORMAT:
        raise CheckpointError(
            f"{path}: written by lamina {payload.get('lamina_version', '?')} in checkpoint format "
            f"{payload['format']}; this lamina reads format {FORMAT}. Use that lamina version to resume it."
        )
    return payload


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporary files a killed :func:`atomic_write` left in ``folder`` (never read by anyone)."""
    folder = Path(folder)
    stale = sorted(folder.glob(".*.tmp")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
