"""Train and evaluate one variant on prepared data: plain Keras ``compile``/``fit``/``evaluate``.

``run()`` returns a plain dict of results (the benchmark records it as ``extra_info``).  With the
feature cache on, a variant with frozen layers computes them once (:mod:`flowers.features`) and
fits only its trainable suffix; the batches, their order and the seeds are the same either way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass
from typing import Callable

import keras
import numpy as np

from flowers import features
from flowers.data import Splits, augment
from flowers.models import create_model, frozen_output, get_variant


class TrainingFailed(RuntimeError):
    """A case that could not finish; ``str()`` is one line, ``epoch`` where it stopped (1-based)."""

    def __init__(self, message: str, epoch: int | None = None):
        super().__init__(message)
        self.epoch = epoch


@dataclass
class TrainConfig:
    """Every setting that can change a result (``learning_rate`` None: the variant's own)."""

    data: str = "synthetic"
    image_size: int = 64
    weights: str = "none"
    epochs: int = 2
    batch_size: int = 32
    seed: int = 0
    learning_rate: float | None = None
    optimizer: str = "adam"
    feature_cache: bool = True
    jit_compile: bool = False
    mixed_precision: bool = False

    def for_variant(self, name: str) -> dict:
        """The config as recorded in a result: this config resolved for variant ``name``."""
        variant = get_variant(name)
        record = asdict(self)
        record["learning_rate"] = self.learning_rate or variant.learning_rate
        return {"variant": name, **record, "augment": variant.augment}


def config_hash(config: dict) -> str:
    """Identifies a configuration across seeds: the hash leaves out ``seed``."""
    same_across_seeds = {k: v for k, v in config.items() if k != "seed"}
    return hashlib.sha256(json.dumps(same_across_seeds, sort_keys=True).encode()).hexdigest()[:16]


class Batches(keras.utils.PyDataset):
    """Shuffled batches of ``(x, y)``, the order a function of (seed, epoch) alone.

    Used for images and for cached features alike, so both paths see the same batches.
    """

    def __init__(self, x, y, batch_size: int, seed: int):
        super().__init__()
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.epoch = 0
        self._order = self._permutation()

    def _permutation(self):
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        idx = np.sort(self._order[index * self.batch_size:(index + 1) * self.batch_size])
        return self.x[idx], self.y[idx]

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self._permutation()


class EpochLog(keras.callbacks.Callback):
    """Times each epoch and reports a one-line progress message per epoch to ``write``."""

    def __init__(self, name: str, epochs: int, write: Callable[[str], None] | None):
        super().__init__()
        self.name, self.epochs, self.write = name, epochs, write
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)
        if self.write:
            logs = logs or {}
            metrics = "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if k in
                                ("loss", "accuracy", "val_loss", "val_accuracy"))
            self.write(f"{self.name}  epoch {epoch + 1}/{self.epochs}  {metrics}  {self.seconds[-1]:.1f}s")


def _compile(model: keras.Model, config: TrainConfig, learning_rate: float) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=config.jit_compile,
    )


def _check_finite(history: dict) -> None:
    """TerminateOnNaN stops at the first non-finite batch loss; say where."""
    losses = history["loss"]
    for epoch, loss in enumerate(losses, start=1):
        if not math.isfinite(loss):
            raise TrainingFailed(f"loss became {loss} in epoch {epoch}; lower the learning rate", epoch)
    if not losses:
        raise TrainingFailed("loss became non-finite in epoch 1; lower the learning rate", 1)


def run(name: str, splits: Splits, config: TrainConfig, progress: Callable[[str], None] | None = None,
        cache_memory_limit: int | None = None) -> dict:
    """Train variant ``name`` on ``splits`` and evaluate it on the test split.

    ``progress`` gets a line per epoch; feature caches above ``cache_memory_limit`` bytes (default
    a quarter of RAM) are streamed from disk.
    """
    variant = get_variant(name)
    record = config.for_variant(name)
    if splits.x_train.shape[1:3] != (config.image_size, config.image_size):
        raise ValueError(f"images are {splits.x_train.shape[1]} px but the config says {config.image_size}; load them at that size")
    keras.utils.set_random_seed(config.seed)
    keras.config.set_dtype_policy("mixed_float16" if config.mixed_precision else "float32")
    if variant.augment:
        splits = augment(splits, config.seed)

    model = create_model(name, splits.num_classes, config.image_size, config.weights)
    log = EpochLog(name, config.epochs, progress)
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        trainee, x, xv, xt = model, splits.x_train, splits.x_val, splits.x_test
        cache_info = dict(features.DISABLED)
        if config.feature_cache and variant.frozen_until:
            prefix, trainee = features.split(model, variant.frozen_until)
            cache = stack.enter_context(features.build(
                prefix, variant.frozen_until, x, xv, xt, batch_size=config.batch_size,
                memory_limit=cache_memory_limit or features.default_memory_limit()))
            x, xv, xt, cache_info = cache.train, cache.val, cache.test, cache.info()
        _compile(trainee, config, record["learning_rate"])
        fit = trainee.fit(
            Batches(x, splits.y_train, config.batch_size, config.seed),
            validation_data=(xv, splits.y_val),
            validation_batch_size=config.batch_size,
            epochs=config.epochs,
            callbacks=[keras.callbacks.TerminateOnNaN(), log],
            verbose=0,
        )
        train_seconds = time.perf_counter() - start
        history = {k: [float(v) for v in fit.history.get(k, [])] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
        _check_finite(history)
        eval_start = time.perf_counter()
        test_loss, test_accuracy = trainee.evaluate(xt, splits.y_test, batch_size=config.batch_size, verbose=0)
        eval_seconds = time.perf_counter() - eval_start

    epochs_run = len(history["loss"])
    n_train = len(splits.y_train)
    return {
        "variant": name,
        "status": "ok",
        "error": None,
        "seed": config.seed,
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
        "history": history,
        "epochs": epochs_run,
        "train_seconds": train_seconds,
        "epoch_seconds": log.seconds,
        "eval_seconds": eval_seconds,
        "train_images_per_second": n_train * epochs_run / train_seconds,
        "params_total": int(model.count_params()),
        "params_trainable": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        "config": record,
        "config_hash": config_hash(record),
        "dataset": splits.fingerprint,
        "feature_cache": cache_info,
    }
