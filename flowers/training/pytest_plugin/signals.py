"""Interrupts and saving for flowers-bench sessions.

pytest-benchmark (>= 5.3) opens ``--benchmark-json PATH`` only when it saves, at the end of the
session; this module makes the end of a session safe for that file:

* SIGTERM during the session raises ``KeyboardInterrupt``, so a terminated run ends like Ctrl-C:
  pytest-benchmark saves the cases that finished and the run is recorded ``"complete": false``.
  During ``model.fit`` either signal first ends training at the next batch and then raises
  (:mod:`flowers.interrupts`: TensorFlow's input threads are shut down before the exception unwinds).
* A case stopped mid-measurement (Ctrl-C, or ``pytest.fail``/``skip`` inside the measured function)
  is marked an error (:func:`measuring`): pytest-benchmark marks only ``Exception`` s, and a case
  without timings cannot be saved.
* Interrupted before any case finished: the session ends before pytest-benchmark saves, so an
  earlier file at PATH keeps its bytes instead of being replaced by an empty run.
* While pytest-benchmark writes PATH, SIGINT and SIGTERM are held back and acted on afterwards,
  so they cannot cut the write short.  Left: a SIGKILL or power loss during that write (a fraction
  of a second; pytest-benchmark writes in place, not through a temp file).
* A session stopped by a bad option (exit 4) ran nothing: pytest-benchmark's warning that it has
  nothing to save is left out beside the one-line error.
* pytest-benchmark makes its storage folder (``--benchmark-storage``, ``.benchmarks/``) when it
  starts, whether or not anything is saved there; one this session made and left empty is removed.
* The process ends promptly after the session.  pytest's unraisable-exception check runs two full
  garbage collections at the end and Python one at exit, each walking the millions of objects
  TensorFlow and Keras create on import (docs/failures.md: the time this saves).  Those objects
  live as long as the process, so once the cases are collected (their modules imported) they are
  moved out of the collector's sight (``gc.freeze``); at exit everything left is, as no cycle needs
  collecting then.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import signal
import threading
import warnings
from pathlib import Path

import pytest

from flowers import interrupts
from flowers.training.pytest_plugin.session import KEY, FlowersSession

HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def measuring(benchmark):
    """Around ``benchmark.pedantic``: a measurement cut short by a ``BaseException`` (an interrupt,
    pytest's fail/skip outcomes) is an error case, left out of the JSON."""
    try:
        yield
    except BaseException:
        benchmark.has_error = True  # public flag that pytest-benchmark's JSON writer skips on
        raise


def pytest_configure(config):  # before pytest-benchmark's (trylast), which makes its storage folder
    folder = storage_folder(config)
    FlowersSession.of(config).new_storage = folder if folder and not folder.exists() else None
    # At exit only (a pytest run inside a longer-lived process keeps collecting); atexit handlers
    # registered earlier (weakref finalizers: temporary folders) still run after this one.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


def pytest_collection_finish(session):
    """TensorFlow, Keras and the cases are imported now: later collections skip their objects."""
    gc.freeze()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _ours_to_replace(signum) -> bool:
    """SIGTERM unless ignored (nohup & co.); SIGINT only while it has Python's own handler."""
    handler = signal.getsignal(signum)
    if signum == signal.SIGINT:
        return handler is signal.default_int_handler
    return handler is not signal.SIG_IGN


def pytest_sessionstart(session: pytest.Session) -> None:
    if _main_thread():
        FlowersSession.of(session.config).old_handlers = {
            s: signal.signal(s, interrupts.handle) for s in HELD_SIGNALS if _ours_to_replace(s)
        }


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        FlowersSession.of(item.config).finished += 1
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """Runs around pytest-benchmark's saving, which happens inside."""
    flowers = FlowersSession.of(session.config)
    flowers.interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    json_path = session.config.getoption("benchmark_json", None)
    if flowers.interrupted and not flowers.finished:
        kept = f"; {json_path} was left as it was" if json_path else ""
        pytest.exit(
            f"interrupted before any case finished: nothing saved{kept}", returncode=pytest.ExitCode.INTERRUPTED
        )
    with held_signals() as held, warnings.catch_warnings():
        if exitstatus == pytest.ExitCode.USAGE_ERROR:  # a bad option stopped it: nothing ran, nothing to save
            warnings.filterwarnings("ignore", message="Not saving anything")  # pytest-benchmark's, beside our error
        result = yield
    if held:
        pytest.exit(f"stopped by {held[0]} after saving", returncode=pytest.ExitCode.INTERRUPTED)
    return result


@contextlib.contextmanager
def held_signals():
    """Hold SIGINT/SIGTERM back while the block runs; yields the list of names that came."""
    held: list[str] = []
    if not _main_thread():
        yield held
        return
    previous = {s: signal.getsignal(s) for s in HELD_SIGNALS}
    for s in HELD_SIGNALS:
        if previous[s] is not signal.SIG_IGN:
            signal.signal(s, lambda signum, frame: held.append(signal.Signals(signum).name))
    try:
        yield held
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def storage_folder(config: pytest.Config) -> Path | None:
    """pytest-benchmark's file storage folder, read from ``--benchmark-storage`` as pytest-benchmark
    reads it (a ``file://`` URI, or a plain path); None for other storage."""
    uri = str(config.getoption("benchmark_storage", None) or "")
    if uri and "://" not in uri:
        uri = f"file://{uri}"
    return Path(uri[len("file://") :]).absolute() if uri.startswith("file://") else None


def pytest_unconfigure(config):
    flowers = config.stash.get(KEY, None)  # none when an option stopped pytest at the start
    if flowers is None:
        return
    if flowers.new_storage:
        with contextlib.suppress(OSError):  # not empty (something was saved), or gone already
            flowers.new_storage.rmdir()
    if _main_thread():
        for s, handler in flowers.old_handlers.items():
            signal.signal(s, handler)
