"""Where dataset files come from: a canonical URL and sha256 for each, looked up in ``$LAMINA_DATA``, then in
the cache (``$LAMINA_CACHE``, default ``~/.cache/lamina``), then downloaded. Every file is checked against its
sha256 before use; a mismatch names the file and both hashes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from lamina.errors import ChecksumError, DataError

__all__ = ["RemoteFile", "fetch", "locate", "sha256_of", "data_home", "cache_home", "verify"]


@dataclass(frozen=True)
class RemoteFile:
    """A dataset file: ``folder/filename`` under a data directory, its sha256 and the URLs that serve it.

    ``alternatives`` lists the sha256 of known re-saved copies holding the same content (the Olivetti faces'
    ``.mat`` exists in two byte-different versions); a local copy matching one of them is accepted too.
    """

    folder: str
    filename: str
    sha256: str
    urls: tuple[str, ...]
    size: int | None = None
    alternatives: tuple[str, ...] = ()

    @property
    def relpath(self) -> str:
        """``folder/filename``, the path under ``$LAMINA_DATA`` or the cache."""
        return f"{self.folder}/{self.filename}"


def data_home() -> Path | None:
    """The folder named by ``$LAMINA_DATA`` (offline copies of the canonical files), if set."""
    value = os.environ.get("LAMINA_DATA")
    return Path(value).expanduser() if value else None


def cache_home() -> Path:
    """Where downloads go: ``$LAMINA_CACHE``, else ``~/.cache/lamina``."""
    return Path(os.environ.get("LAMINA_CACHE") or Path.home() / ".cache" / "lamina").expanduser()


_verified: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """The file's sha256 (memoized per path, size and modification time)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _verified:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _verified[key] = digest.hexdigest()
    return _verified[key]


def verify(file: RemoteFile, path: Path) -> Path:
    """Return ``path`` if its sha256 is the registered one (or one of its ``alternatives``), else raise
    :class:`ChecksumError`."""
    actual = sha256_of(path)
    if actual != file.sha256 and actual not in file.alternatives:
        raise ChecksumError(str(path), file.sha256, actual)
    return path


def locate(file: RemoteFile) -> Path | None:
    """The first existing copy of ``file`` in ``$LAMINA_DATA`` or the cache (unverified), or ``None``."""
    for root in (data_home(), cache_home()):
        if root is not None and (root / file.relpath).is_file():
            return root / file.relpath
    return None


def fetch(file: RemoteFile, *, download: bool = True) -> Path:
    """The verified local path of ``file``, downloading it into the cache if no copy exists.

    Raises:
        ChecksumError: a copy exists but its sha256 differs.
        DataError: no copy and the download failed (or ``download=False``); the message says where to put it.
    """
    path = locate(file)
    if path is not None:
        return verify(file, path)
    where = f"$LAMINA_DATA/{file.relpath}" + ("" if data_home() else " (LAMINA_DATA is not set)")
    if not download:
        raise DataError(f"{file.relpath}: not found in {where} or the cache {cache_home() / file.relpath}")
    target = cache_home() / file.relpath
    errors = []
    for url in file.urls:
        try:
            return _download(url, file, target)
        except (urllib.error.URLError, OSError, TimeoutError) as err:
            errors.append(f"{url}: {getattr(err, 'reason', err)}")
    raise DataError(
        f"{file.relpath}: not found in {where} or the cache, and the download failed:\n  "
        + "\n  ".join(errors)
        + f"\nDownload it by hand to {target}, or set LAMINA_DATA to a folder holding {file.relpath}."
    )


def _download(url: str, file: RemoteFile, target: Path) -> Path:
    """Download to a temporary file beside ``target``, verify it, then rename into place (atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{file.filename}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out)
        verify(file, Path(tmp))
        os.replace(tmp, target)
        return target
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
