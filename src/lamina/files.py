"""Writing files safely: never through a symbolic link, and never leaving a torn file.

Every file lamina appends to or rewrites in a run folder (``metrics.jsonl``, ``summary.json``, ``config.toml``,
checkpoints, plots, ``report.html``) goes through these functions. A symbolic link planted where lamina writes (say
``metrics.jsonl -> ~/.bashrc``) would otherwise make lamina append to or truncate the link's target; here it is
refused with :class:`~lamina.errors.UnsafeFileError` and the target is never opened. Folders above the file may be
links (a ``runs/`` folder on another disk is a common and deliberate setup); only the file itself is checked.

Rewrites are atomic: the new content goes to a temporary file in the same folder, is flushed and fsynced, and is
renamed over the old one, so a crash at any point leaves either the old file or the new one.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TextIO

from lamina.errors import UnsafeFileError

__all__ = ["refuse_symlink", "open_for_append", "append_text", "atomic_write", "write_text", "fsync_dir"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # absent on Windows, where refuse_symlink's check is all there is
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def refuse_symlink(path: str | Path) -> Path:
    """``path`` if it is not a symbolic link (it may not exist); else :class:`UnsafeFileError`."""
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return path
    if stat.S_ISLNK(mode):
        raise UnsafeFileError(
            f"{path}: is a symbolic link (to {os.readlink(path)!r}); lamina does not write through "
            "links, which would change the link's target. Replace it with a plain file or remove it"
        )
    return path


def open_for_append(path: str | Path, *, encoding: str = "utf-8") -> TextIO:
    """Open ``path`` for appending text (created if missing), refusing a symbolic link at the moment of opening
    (``O_NOFOLLOW``, so no link can be swapped in between a check and the open)."""
    path = refuse_symlink(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o644)
    except OSError:
        if os.path.islink(path):  # ELOOP: a link appeared after the check
            refuse_symlink(path)
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeFileError(f"{path}: is not a regular file; lamina appends only to plain files")
    return os.fdopen(fd, "a", encoding=encoding)


def append_text(path: str | Path, text: str, *, encoding: str = "utf-8") -> None:
    """Append ``text`` to ``path`` (created if missing) and flush it; a symbolic link is refused."""
    with open_for_append(path, encoding=encoding) as fh:
        fh.write(text)


def fsync_dir(folder: str | Path) -> None:
    """Flush a folder's entries to disk (after a rename), where the filesystem allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some filesystems (and Windows) cannot open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | Path, content: bytes | str | Callable[[IO[bytes]], Any], *, mode: int = 0o644) -> Path:
    """Replace ``path`` atomically with ``content``: bytes, text (UTF-8) or a callback ``write(fileobj)`` that fills a
    binary file. The content goes to a temporary file in the same folder, which is flushed, fsynced and renamed over
    ``path``; a crash at any point leaves either the old file or the new one. A symbolic link at ``path`` is refused
    (:class:`UnsafeFileError`) rather than silently replaced. The file gets permissions ``mode`` (the temporary file's
    own 0600 would otherwise stick to reports and plots meant to be shared)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    refuse_symlink(path)
    if isinstance(content, str):
        content = content.encode("utf-8")
    write = content if callable(content) else (lambda fh, data=content: fh.write(data))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        refuse_symlink(path)  # a link made while writing: os.replace would drop it silently
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
    return path


def write_text(path: str | Path, text: str, *, mode: int = 0o644) -> Path:
    """:func:`atomic_write` of UTF-8 text."""
    return atomic_write(path, text, mode=mode)
