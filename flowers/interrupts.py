"""Ctrl-C and SIGTERM during training (stop at the next batch, then raise ``KeyboardInterrupt``) and
while a command writes its files (raise at the next safe point).

Raised straight from a signal handler, ``KeyboardInterrupt`` unwinds through ``model.fit`` while
tf.data's threads are still reading batches through ``tf.numpy_function`` (Python code on
TensorFlow's threads); tearing that down mid-step can crash the process (a SIGSEGV while pytest
ends the run).  So while :func:`training` is active the first signal is only noted:
Keras ends ``fit`` at the next batch (``flowers.training.callbacks.StopOnSignal`` asks it to), ``fit`` shuts its
pipeline down as it always does, and :func:`training` raises ``KeyboardInterrupt`` afterwards.  A
second signal, or one outside training (loading data, building the feature cache), raises at once.

:func:`handle` is installed as the SIGINT/SIGTERM handler by :mod:`flowers.training.pytest_plugin`, in
flowers-bench sessions only; without it :func:`training` changes nothing.

A command such as ``flowers trends`` runs in :func:`deferred`, which installs :func:`handle` itself:
the first signal is noted and raised by the next :func:`checkpoint`, placed between steps (a graph
drawn, the files written), never inside a library's callback, where Python prints "Exception
ignored" and carries on as if nothing happened, nor between two files that belong together.  A
signal after the last checkpoint comes when the work is done, and is not acted on.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from dataclasses import dataclass

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class _State:
    noting: bool = False  # in training() or deferred(): the first signal is noted, not raised
    pending: str | None = None  # the signal noted


STATE = _State()


def handle(signum, frame) -> None:
    """Signal handler: note the first signal while noting (training, :func:`deferred`), else raise
    ``KeyboardInterrupt``."""
    name = signal.Signals(signum).name
    if STATE.noting and STATE.pending is None:
        STATE.pending = name
        return
    raise KeyboardInterrupt(f"stopped by signal {name}")


def stop_requested() -> bool:
    return STATE.pending is not None


@contextlib.contextmanager
def training():
    """Around ``model.fit``: a signal inside ends it at the next batch and raises here, after fit."""
    STATE.noting, STATE.pending = True, None
    try:
        yield
    finally:
        STATE.noting = False
        pending, STATE.pending = STATE.pending, None
    if pending:
        raise KeyboardInterrupt(f"stopped by signal {pending}")


def checkpoint() -> None:
    """In :func:`deferred`: raise the signal noted so far as ``KeyboardInterrupt`` (none: nothing)."""
    if STATE.pending:
        raise KeyboardInterrupt(f"stopped by signal {STATE.pending}")


@contextlib.contextmanager
def deferred():
    """Around a command's work: SIGINT and SIGTERM (unless ignored) are noted by :func:`handle` and
    raised at the next :func:`checkpoint`; a second signal raises at once.  The handlers are
    restored afterwards (only the main thread can install them: elsewhere this changes nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.getsignal(s) for s in SIGNALS}
    for s, handler in old.items():
        if handler is not signal.SIG_IGN:
            signal.signal(s, handle)
    STATE.noting, STATE.pending = True, None
    try:
        yield
    finally:
        STATE.noting, STATE.pending = False, None
        for s, handler in old.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)  # None: set outside Python
