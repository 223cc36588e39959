"""Text files lamina reads (CSV tables): UTF-8 or a clear error, never a ``UnicodeDecodeError``."""

from __future__ import annotations

from pathlib import Path

from lamina.errors import DataError

__all__ = ["read_text_file"]


def read_text_file(path: Path, what: str = "CSV") -> str:
    """The text of a UTF-8 file; any other encoding is a :class:`DataError` naming the file, the first bad byte
    and the encoding expected."""
    raw = path.read_bytes()
    raw = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw  # a byte-order mark (spreadsheets write one) is not data
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(
            f"{path}: not UTF-8 text: byte {raw[err.start]:#04x} at line {line} cannot be decoded; "
            f"lamina reads {what} files encoded as UTF-8, so re-save it as UTF-8"
        ) from None
