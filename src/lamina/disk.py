"""A full disk, a quota or a file-size limit met while writing a run's files, as one line that names the file and
the free space left (instead of a traceback from whichever write came next).

    with disk_errors(run_dir / "report.html"):
        path.write_text(page)
"""

from __future__ import annotations

import contextlib
import errno
import shutil
from collections.abc import Iterator
from pathlib import Path

from lamina.errors import LaminaError

__all__ = ["DiskFullError", "disk_errors", "is_disk_full", "free_space", "format_bytes"]

# ENOSPC: no space left; EFBIG: over the file-size limit (ulimit -f, RLIMIT_FSIZE); EDQUOT: over a disk quota
_DISK_FULL = {errno.ENOSPC, errno.EFBIG} | ({errno.EDQUOT} if hasattr(errno, "EDQUOT") else set())


class DiskFullError(LaminaError, OSError):
    """A write refused for lack of space (or over a file-size limit or quota); names the file and the free space.

    Attributes:
        path: the file being written.
        free: bytes free on its filesystem when the write failed (``None`` if that could not be read).
    """

    def __init__(self, message: str, *, path: Path, free: int | None, errno_: int | None = None) -> None:
        super().__init__(message)
        self.path, self.free = path, free
        self.errno = errno_


def is_disk_full(err: BaseException) -> bool:
    """Whether ``err`` is the operating system refusing a write for lack of space, quota or file size."""
    return isinstance(err, DiskFullError) or (isinstance(err, OSError) and err.errno in _DISK_FULL)


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units: ``512 bytes``, ``3.4 GiB``."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"  # pragma: no cover


def free_space(path: str | Path) -> int | None:
    """Bytes free on the filesystem holding ``path`` (its nearest existing folder), or ``None`` if unknown."""
    folder = Path(path).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _as_error(err: OSError, path: Path) -> DiskFullError:
    free = free_space(path)
    why = {errno.EFBIG: "the file is over the file-size limit (ulimit -f)"}.get(err.errno or 0)
    if why is None and err.errno == getattr(errno, "EDQUOT", None):
        why = "the disk quota is exhausted"
    why = why or "no space left on the device"
    left = f"{format_bytes(free)} free" if free is not None else "free space unknown"
    return DiskFullError(
        f"{path}: could not write it: {why} ({left}); free some space and resume the run",
        path=path,
        free=free,
        errno_=err.errno,
    )


@contextlib.contextmanager
def disk_errors(path: str | Path) -> Iterator[None]:
    """Turn a write that fails for lack of space, quota or file size into a :class:`DiskFullError` naming ``path``;
    any other error passes through unchanged."""
    try:
        yield
    except DiskFullError:
        raise
    except OSError as err:
        if err.errno not in _DISK_FULL:
            raise
        raise _as_error(err, Path(path)) from None
