"""Exact feature caching: run a model's frozen prefix once per image, train the rest on its outputs.

Frozen layers run in inference mode, so their outputs for an image never change during training:
computing them once (for the training images, augmented copies included, and for validation and
test) and fitting only the trainable suffix gives the same losses as ``model.fit`` on the whole
model, for a fraction of the work.  The suffix shares its layers with the whole model, so after
training the whole model (prefix + suffix) is the trained model.

Features are kept in memory up to a limit and otherwise written to a memory-mapped ``.npy`` file in
a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import psutil
import tensorflow as tf

from flowers import schema
from flowers.training.progress import Bar

Count = Callable[[int], None]  # told the number of images of each batch (flowers.training.work.Counter.add)
DISTRIBUTED_CHUNK_BATCHES = 64  # batches per predict() call under a strategy: memory-bounded, few calls


def default_memory_limit() -> int:
    """A quarter of the machine's RAM."""
    return psutil.virtual_memory().total // 4


def split(model: keras.Model, cut_layer: str) -> tuple[keras.Model, keras.Model]:
    """(prefix, suffix) of ``model`` at the output of ``cut_layer``; they share the model's layers."""
    cut = model.get_layer(cut_layer).output
    prefix = keras.Model(model.inputs, cut, name=f"{model.name}_frozen")
    suffix = keras.Model(cut, model.outputs, name=f"{model.name}_trainable")
    return prefix, suffix


@dataclass
class Cache:
    """Prefix outputs of each split, and what building them cost."""

    layer: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    seconds: float
    storage: str  # "memory" or "disk"
    _tmp: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    @property
    def bytes(self) -> int:
        return int(self.train.nbytes + self.val.nbytes + self.test.nbytes)

    def info(self) -> dict[str, Any]:
        return {
            schema.ENABLED: True,
            schema.LAYER: self.layer,
            schema.BYTES: self.bytes,
            schema.SECONDS: round(self.seconds, 3),
            schema.STORAGE: self.storage,
        }

    def close(self) -> None:
        self.train = self.val = self.test = np.empty(0, np.float32)  # drop memmaps before removing their files
        if self._tmp is not None:
            self._tmp.cleanup()


DISABLED = {schema.ENABLED: False, schema.LAYER: None, schema.BYTES: 0, schema.SECONDS: 0.0, schema.STORAGE: None}


def _predict_into(
    prefix: keras.Model, x: np.ndarray, out: np.ndarray, batch_size: int, bar: Bar | None, count: Count | None
) -> np.ndarray:
    # Under a tf.distribute strategy (--distribute mirrored) predict_on_batch gives every replica the
    # whole batch and returns their outputs stacked; predict() splits each batch across the replicas.
    chunk = batch_size * (DISTRIBUTED_CHUNK_BATCHES if tf.distribute.has_strategy() else 1)
    for start in range(0, len(x), chunk):
        if chunk == batch_size:
            out[start : start + chunk] = prefix.predict_on_batch(x[start : start + chunk])
        else:
            out[start : start + chunk] = prefix.predict(x[start : start + chunk], batch_size=batch_size, verbose=0)
        done = len(out[start : start + chunk])
        if bar is not None:
            bar.update(done)
        if count is not None:
            count(done)
    return out


@contextmanager
def build(
    prefix: keras.Model,
    cut_layer: str,
    x_train: np.ndarray,
    x_val: np.ndarray,
    x_test: np.ndarray,
    *,
    batch_size: int,
    memory_limit: int,
    bar: Bar | None = None,
    jit_compile: bool = False,
    count: Count | None = None,
) -> Iterator[Cache]:
    """Compute the prefix's outputs for every split; yields a :class:`Cache`, removed on exit.

    ``bar``: a tqdm-like progress bar (``update(n)``, ``close()``) advanced per image, closed when built;
    ``count``: told the number of images of each batch the prefix ran on (:class:`flowers.training.work.Counter`).
    ``jit_compile``: compute them with XLA, as the whole model's frozen layers are computed when it
    trains with XLA (TensorFlow's own kernels round differently, and ResNet50V2's losses drift away
    from the uncached run's epoch by epoch).
    """
    if jit_compile:
        prefix.compile(jit_compile=True)  # no loss or optimizer: predict only
    start = time.perf_counter()
    shape = tuple(prefix.output.shape[1:])
    per_image = int(np.prod(shape)) * 4  # float32
    total = per_image * (len(x_train) + len(x_val) + len(x_test))
    tmp = tempfile.TemporaryDirectory(prefix="flowers-features-") if total > memory_limit else None
    outputs = []
    for split_name, x in (("train", x_train), ("val", x_val), ("test", x_test)):
        if tmp is None:
            out = np.empty((len(x), *shape), np.float32)
        else:
            out = np.lib.format.open_memmap(f"{tmp.name}/{split_name}.npy", "w+", np.float32, (len(x), *shape))
        outputs.append(_predict_into(prefix, x, out, batch_size, bar, count))
    if bar is not None:
        bar.close()
    train, val, test = outputs
    storage = "memory" if tmp is None else "disk"
    cache = Cache(cut_layer, train, val, test, time.perf_counter() - start, storage, _tmp=tmp)
    try:
        yield cache
    finally:
        cache.close()
