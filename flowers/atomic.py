"""Write files so that a reader never sees them half-written: temp file in the same folder, then rename.

An ``OSError`` names the path the caller gave (``Is a directory: out.json``), never the temp file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Re-raise an ``OSError`` with ``path`` as its file name (the same subclass: FileExistsError...)."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from None


def _temp_file(path: Path, data: bytes) -> str:
    """A temp file beside ``path`` holding ``data``, fsynced, with the mode ``path`` would get."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, _mode(path))  # mkstemp makes 0600; keep the file's mode, or the umask's default
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (same-folder temp file, fsync, ``os.replace``)."""
    path = Path(path)
    with _naming(path):
        tmp = _temp_file(path, data)
        try:
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def create_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Create ``path`` with ``data``, never replacing a file: FileExistsError when ``path`` exists,
    even when another process creates it at the same moment.  A reader sees the whole file or none
    (same-folder temp file, fsync, then a hard link into place, which fails where ``path`` exists)."""
    path = Path(path)
    with _naming(path):
        tmp = _temp_file(path, data)
        try:
            os.link(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)


def _mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
