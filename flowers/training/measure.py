"""Efficiency figures: FLOPs counted from a model, the device's measured peak, peak memory.

* :func:`forward_flops` counts the float operations of one image's forward pass with TensorFlow's
  graph profiler (its per-op FLOP statistics: convolutions, matmuls, element-wise ops).
* :func:`peak_gflops` times a dense float32 matmul on the device TensorFlow uses (GPU if any):
  the practical ceiling that achieved GFLOP/s is compared with.
* :class:`PeakMemory` reports a case's peak memory: TensorFlow's own peak on a GPU (reset at the
  start), the sampled peak resident set size of this process on a CPU.
"""

from __future__ import annotations

import functools
import threading
import time

import keras
import psutil
import tensorflow as tf


def forward_flops(model: keras.Model) -> int:
    """Float operations of ``model``'s forward pass (inference mode) on one input."""
    spec = tf.TensorSpec((1, *model.inputs[0].shape[1:]), tf.float32)
    graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return int(tf.compat.v1.profiler.profile(graph, options=options).total_float_ops)


@functools.cache
def peak_gflops(n: int = 2048, repeats: int = 10) -> float:
    """Best GFLOP/s of an ``n`` x ``n`` float32 matmul, measured once per process."""
    a = tf.random.stateless_uniform((n, n), seed=(1, 2))
    b = tf.random.stateless_uniform((n, n), seed=(3, 4))
    matmul = tf.function(lambda: tf.reduce_sum(tf.linalg.matmul(a, b)))
    matmul().numpy()  # trace and warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul().numpy()  # .numpy() waits for the device
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


class PeakMemory:
    """Context manager; ``.bytes`` is the peak memory in use while it was open."""

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.gpu = "GPU:0" if tf.config.list_logical_devices("GPU") else None
        self.bytes = 0

    def __enter__(self):
        if self.gpu:
            tf.config.experimental.reset_memory_stats(self.gpu)
            return self
        self._process = psutil.Process()
        self._stop = threading.Event()
        self.bytes = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(self.interval):
            self.bytes = max(self.bytes, self._process.memory_info().rss)

    def __exit__(self, *exc):
        if self.gpu:
            self.bytes = int(tf.config.experimental.get_memory_info(self.gpu)["peak"])
        else:
            self._stop.set()
            self._thread.join()
            self.bytes = max(self.bytes, self._process.memory_info().rss)
        return False
