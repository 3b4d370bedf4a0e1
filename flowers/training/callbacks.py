"""The Keras callbacks of a case's ``fit``: per-epoch timing and progress lines (:class:`EpochLog`),
a live bar of the batches (:class:`BatchBar`) and a prompt stop on Ctrl-C or SIGTERM
(:class:`StopOnSignal`, see :mod:`flowers.interrupts`)."""

from __future__ import annotations

import time
from collections.abc import Callable

import keras

from flowers import interrupts, schema
from flowers.training.progress import Bar, Progress


class EpochLog(keras.callbacks.Callback):
    """Times each epoch and reports a one-line progress message per epoch to ``write``.

    ``seconds``: each epoch, validation included; ``step_seconds``: its training steps alone (up to
    the validation pass, which Keras' fit announces with ``on_test_begin``); ``ends``: when each
    epoch ended (``time.perf_counter``).
    """

    def __init__(self, name: str, epochs: int, write: Callable[[str], None] | None):
        super().__init__()
        self.name, self.epochs, self.write = name, epochs, write
        self.seconds: list[float] = []
        self.step_seconds: list[float] = []
        self.ends: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()
        self.steps_end = None

    def on_test_begin(self, logs=None):
        self.steps_end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())
        self.seconds.append(self.ends[-1] - self.epoch_start)
        self.step_seconds.append((self.steps_end or self.ends[-1]) - self.epoch_start)
        if self.write:
            logs = logs or {}
            metrics = "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if k in schema.HISTORY_KEYS)
            self.write(f"{self.name}  epoch {epoch + 1}/{self.epochs}  {metrics}  {self.seconds[-1]:.1f}s")


class StopOnSignal(keras.callbacks.Callback):
    """Ends ``fit`` at the next batch once a Ctrl-C or SIGTERM came (see :mod:`flowers.interrupts`)."""

    def on_train_batch_end(self, batch, logs=None):
        if interrupts.stop_requested():
            self.model.stop_training = True


class BatchBar(keras.callbacks.Callback):
    """A live bar of the batches within each epoch (see :mod:`flowers.training.progress`)."""

    def __init__(self, progress: Progress, name: str, epochs: int, steps: int):
        super().__init__()
        self.progress, self.name, self.epochs, self.steps = progress, name, epochs, steps
        self.bar: Bar | None = None  # the running epoch's

    def on_epoch_begin(self, epoch, logs=None):
        self.bar = self.progress.bar(self.steps, f"{self.name} epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update()

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.close()
