"""Ctrl-C and SIGTERM during training: stop at the next batch, then raise ``KeyboardInterrupt``.

Raised straight from a signal handler, ``KeyboardInterrupt`` unwinds through ``model.fit`` while
tf.data's threads are still reading batches through ``tf.numpy_function`` (Python code on
TensorFlow's threads); tearing that down mid-step can crash the process (CI saw a SIGSEGV once while
pytest was ending such a run).  So while :func:`training` is active the first signal is only noted:
Keras ends ``fit`` at the next batch (``flowers.callbacks.StopOnSignal`` asks it to), ``fit`` shuts its
pipeline down as it always does, and :func:`training` raises ``KeyboardInterrupt`` afterwards.  A
second signal, or one outside training (loading data, building the feature cache), raises at once.

:func:`handle` is installed as the SIGINT/SIGTERM handler by :mod:`flowers.pytest_plugin`, in
flowers-bench sessions only; without it :func:`training` changes nothing.
"""

from __future__ import annotations

import contextlib
import signal
from dataclasses import dataclass


@dataclass
class _State:
    training: bool = False
    pending: str | None = None  # the signal noted during training


STATE = _State()


def handle(signum, frame) -> None:
    """Signal handler: note the first signal during training, else raise ``KeyboardInterrupt``."""
    name = signal.Signals(signum).name
    if STATE.training and STATE.pending is None:
        STATE.pending = name
        return
    raise KeyboardInterrupt(f"stopped by signal {name}")


def stop_requested() -> bool:
    return STATE.pending is not None


@contextlib.contextmanager
def training():
    """Around ``model.fit``: a signal inside ends it at the next batch and raises here, after fit."""
    STATE.training, STATE.pending = True, None
    try:
        yield
    finally:
        STATE.training = False
        pending, STATE.pending = STATE.pending, None
    if pending:
        raise KeyboardInterrupt(f"stopped by signal {pending}")
