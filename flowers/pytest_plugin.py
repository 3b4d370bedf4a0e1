"""pytest plugin (entry point ``pytest11: flowers``), loaded before the command line is parsed.

* ``--benchmark-json PATH`` no longer empties PATH when pytest starts.  pytest-benchmark declares
  the option with ``argparse.FileType('wb')``, which opens (truncates) the file while pytest parses
  its arguments, so a run that is interrupted, crashes or fails before saving left an empty file
  where the previous results were.  Here the option's type becomes :class:`AtomicOutput`, which
  writes nothing until pytest-benchmark saves and then replaces PATH atomically (a temp file in the
  same folder, renamed): until then PATH keeps its old bytes.
* SIGTERM during a session raises ``KeyboardInterrupt``, so a terminated run ends like Ctrl-C:
  pytest-benchmark saves the cases that finished and ``benchmarks/conftest.py`` records the run as
  ``"complete": false``.  The previous handler is restored when pytest finishes.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from flowers import atomic

OPTION = "--benchmark-json"


class AtomicOutput:
    """A write-only "file" for pytest-benchmark's ``with fh: fh.write(bytes)``: the bytes are kept
    and written to ``name`` atomically when the ``with`` block ends without an exception."""

    def __init__(self, name: str):
        self.name = name
        self._chunks: list[bytes] = []
        if name != "-":  # checked now, as FileType would: a bad path is a usage error at startup
            folder = Path(name).absolute().parent
            if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
                raise argparse.ArgumentTypeError(f"can't write {name!r}: {folder} is not a writable folder")

    def __repr__(self) -> str:
        return f"AtomicOutput({self.name!r})"

    def __str__(self) -> str:  # pytest-benchmark prints "Wrote benchmark data in: {file}"
        return self.name

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def __enter__(self) -> AtomicOutput:
        self._chunks = []
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        data, self._chunks = b"".join(self._chunks), []
        if exc_type is not None:
            return  # never replace the old file with a partial write
        if self.name == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        path = Path(self.name)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
        atomic.write_bytes(path, data)
        os.chmod(path, mode)  # the temp file was created 0600; keep the mode a plain open() gives


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_parser = None  # this session's pytest Parser, kept for pytest_plugin_registered


def _use_atomic_output(parser) -> None:
    """Give ``--benchmark-json`` the type :class:`AtomicOutput` if pytest-benchmark declared it yet."""
    # pytest >= 9 adds each option to its argparse parser at once: patch that parser's action ...
    optparser = getattr(parser, "optparser", None)
    action = optparser._option_string_actions.get(OPTION) if optparser is not None else None
    if action is not None:
        action.type = AtomicOutput
    # ... pytest 8 rebuilds the argparse parser from these records for every parse.
    for group in parser._groups:
        for option in group.options:
            if OPTION in option.names():
                option.type = option._attrs["type"] = AtomicOutput


def pytest_addoption(parser):
    # Plugins register in no fixed order: pytest-benchmark may already be here (patch now) or come
    # later (pytest_plugin_registered patches then, after its pytest_addoption has run).
    global _parser
    _parser = parser
    _use_atomic_output(parser)


def pytest_plugin_registered(plugin, manager):
    if _parser is not None and getattr(plugin, "__name__", "") == "pytest_benchmark.plugin":
        _use_atomic_output(_parser)


def _terminated(signum, frame):
    raise KeyboardInterrupt(f"stopped by signal {signal.Signals(signum).name}")


def pytest_sessionstart(session):
    # Only the main thread may set handlers; a SIGTERM that was ignored (nohup & co.) stays ignored.
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN:
        session.config._flowers_sigterm = signal.signal(signal.SIGTERM, _terminated)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session):
    # Runs before pytest-benchmark saves.  A case stopped by Ctrl-C/SIGTERM is registered with no
    # timings (pytest-benchmark only drops cases that raised an Exception), and writing the JSON
    # would then fail on min() of nothing: leave it out, as it never finished.
    bs = getattr(session.config, "_benchmarksession", None)
    if bs is not None:
        bs.benchmarks[:] = [b for b in bs.benchmarks if b.has_error or b.stats.data]
    return (yield)


def pytest_unconfigure(config):
    # After pytest_sessionfinish, where pytest-benchmark saves: a SIGTERM while saving is still an
    # interrupt, and the atomic write then leaves the old file as it was.
    old = getattr(config, "_flowers_sigterm", None)
    if old is not None:
        signal.signal(signal.SIGTERM, old)
