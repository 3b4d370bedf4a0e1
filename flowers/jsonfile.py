"""Read the JSON of a result file without trusting the file: the first step of every reader.

Only a regular file is opened (a FIFO named ``*.json`` would block a reader for ever, a device file
could act on being opened): the path is checked with ``stat`` first and the open file again with
``fstat``, opened non-blocking in between, so a file swapped for another meanwhile is refused too.
Every string (keys too) is made encodable (a lone surrogate, JSON's ``"\\ud800"``, is kept as its
escape text) and a file nested deeper than :data:`MAX_DEPTH` is refused, so that no later step can
fail on either.  Errors are :class:`~flowers.errors.ResultsError` with a one-line message naming the
file and the fix.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from flowers.errors import ResultsError
from flowers.schema import HOW_TO_MAKE
from flowers.text import one_line

MAX_DEPTH = 64  # a result file nests about ten levels; far deeper is no result file (and exhausts the stack)
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # the only way a lone surrogate gets into JSON text
KINDS = {
    stat.S_ISFIFO: "a FIFO (named pipe)",
    stat.S_ISSOCK: "a socket",
    stat.S_ISCHR: "a character device",
    stat.S_ISBLK: "a block device",
}


def _not_regular(path: Path, mode: int) -> ResultsError:
    if stat.S_ISDIR(mode):
        return ResultsError(f"{path}: is a folder without result files; {HOW_TO_MAKE}")
    kind = next((name for test, name in KINDS.items() if test(mode)), "not a regular file")
    return ResultsError(f"{path}: is {kind}, not a result file; give a JSON file from --benchmark-json")


def _missing(path: Path) -> ResultsError:
    if path.is_symlink():
        return ResultsError(
            f"{path}: is a symbolic link to {os.readlink(path)}, which does not exist; "
            "give the result file itself, or fix the link"
        )
    return ResultsError(f"{path}: no such file; {HOW_TO_MAKE}")


def read_regular(path: str | Path) -> bytes:
    """The bytes of ``path`` (links followed) when it is a regular file; ResultsError otherwise,
    without ever blocking on a FIFO or opening a device."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(path, mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _missing(path) from None
    except OSError as exc:
        raise ResultsError(
            f"{path}: cannot be read ({exc.strerror or exc}); give a JSON file from --benchmark-json"
        ) from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fh.fileno()).st_mode
        if not stat.S_ISREG(mode):  # swapped since the check above
            raise _not_regular(path, mode)
        try:
            return fh.read()
        except OSError as exc:
            raise ResultsError(f"{path}: cannot be read ({exc.strerror or exc}); give a JSON file") from None


def _encodable(value: str) -> str:
    """``value``, with any lone surrogate (JSON's ``"\\ud800"``, which no file or terminal can take)
    written as its escape text."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _check_depth(path: Path, data: Any) -> None:
    """Refuse ``data`` nested more than :data:`MAX_DEPTH` levels (walked level by level, not
    recursively), so that no reader after this one can exhaust the stack."""
    level = [data] if isinstance(data, (dict, list)) else []
    for _ in range(MAX_DEPTH):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, (dict, list))
        ]
        if not level:
            return
    raise ResultsError(f"{path}: nests more than {MAX_DEPTH} levels deep (not a result file); {HOW_TO_MAKE}")


def _encode_strings(data: Any) -> Any:
    """``data`` with every string (keys too) made encodable (:func:`_encodable`), walked iteratively."""
    if isinstance(data, str):
        return _encodable(data)
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in [k for k in node if _encodable(k) is not k]:
                node[_encodable(key)] = node.pop(key)
        for key, value in list(node.items() if isinstance(node, dict) else enumerate(node)):
            if isinstance(value, str):
                node[key] = _encodable(value)
            elif isinstance(value, (dict, list)):
                stack.append(value)
    return data


def parse_json(path: str | Path, raw: bytes) -> Any:
    """The JSON in ``raw``, the bytes read from ``path`` (named in errors)."""
    path = Path(path)
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResultsError(f"{path}: cannot be read ({exc}); give a JSON file from --benchmark-json") from None
    if not content.strip():
        raise ResultsError(f"{path}: is empty (an interrupted run?); {HOW_TO_MAKE}")
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{path}: is not valid JSON (line {exc.lineno}: {exc.msg}; truncated?); {HOW_TO_MAKE}"
        ) from None
    except RecursionError:
        raise ResultsError(f"{path}: nests too deeply to be read (not a result file); {HOW_TO_MAKE}") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ResultsError(f"{path}: is not usable JSON ({one_line(exc, 80)}); {HOW_TO_MAKE}") from None
    _check_depth(path, data)
    return _encode_strings(data) if SURROGATE_ESCAPE.search(content) else data


def read_json(path: str | Path) -> Any:
    """The JSON in ``path`` (:func:`read_regular`, :func:`parse_json`); :class:`ResultsError` when
    it cannot be read."""
    return parse_json(path, read_regular(path))
