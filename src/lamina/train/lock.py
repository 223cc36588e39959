"""One process per run folder: ``<run>/.lock``, held with ``flock`` while a run trains.

A second ``lamina train --resume RUN`` (or a second process training into a folder in use) is refused with
:class:`RunLockedError` naming the holder (pid, host, start time). The operating system releases an ``flock``
when its holder exits for any reason, SIGKILL included, so a lock left by a killed run is never stale: the
file stays, but the next run takes it at once and overwrites the holder's details.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from lamina import jsonio
from lamina.errors import LaminaError

try:  # POSIX; where it is missing (Windows) runs are not locked
    import fcntl
except ImportError:  # pragma: no cover - exercised only on Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["RunLock", "RunLockedError", "LOCK_NAME"]

LOCK_NAME = ".lock"


class RunLockedError(LaminaError, BlockingIOError):
    """A run folder another live process is using; the message names that process."""


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "another process (its details are not readable)"
    return (
        f"process {holder.get('pid', '?')} on {holder.get('host', '?')} (started {holder.get('started', '?')}: "
        f"{holder.get('command', '?')})"
    )


class RunLock:
    """An exclusive, non-blocking lock on a run folder, as a context manager.

    Args:
        run_dir: the run folder; the lock is ``run_dir/.lock``.

    Raises:
        RunLockedError: on entry, when another process holds the lock.

    Example:
        >>> with RunLock("runs/mnist_mlp-20261123-104512"):  # doctest: +SKIP
        ...     train_some_more()
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: int | None = None

    def holder(self) -> dict[str, Any]:
        """The details the current (or last) holder wrote: pid, host, started, command ({} if unreadable)."""
        try:
            value = jsonio.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def acquire(self) -> None:
        """Take the lock or raise :class:`RunLockedError` at once (never waits)."""
        if fcntl is None or self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunLockedError(
                f"{self.path.parent}: in use by {_describe(self.holder())}; wait for it to end or "
                f"stop it (the lock {self.path} frees itself when that process exits)"
            ) from None
        except OSError:  # a filesystem without flock support: run unlocked rather than not at all
            os.close(fd)
            return
        details = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "command": " ".join(_command_line()),
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (jsonio.dumps(details) + "\n").encode("utf-8"), 0)
        except OSError:  # a full disk: the lock holds all the same, only the holder's details are missing
            pass
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (the file stays: removing it would race with a process about to lock it)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _command_line() -> list[str]:
    argv = list(sys.argv) or ["python"]
    argv[0] = Path(argv[0]).name
    return argv[:6] + (["..."] if len(argv) > 6 else [])
