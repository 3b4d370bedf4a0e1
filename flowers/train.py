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
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from flowers import architecture, distribute, features, interrupts, measure, tensorboard_log, xla
from flowers.augment import augment
from flowers.data import Splits
from flowers.models import CALIBRATED, calibration_sample, create_model, get_variant, weights_identity
from flowers.progress import Progress, as_progress
from flowers.results import STEADY_THROUGHPUT, without_seed


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
    jit_compile: bool | str = False  # or "auto": XLA where it wins (flowers.xla)
    mixed_precision: bool = False
    distribute: str = "none"  # or "mirrored" (flowers.distribute)

    def for_variant(self, name: str) -> dict:
        """The config as recorded in a result: this config resolved for variant ``name``."""
        variant = get_variant(name)
        record = asdict(self)
        if record["distribute"] == "none":  # recorded (with the replica count) only when set
            del record["distribute"]
        record["learning_rate"] = self.learning_rate or variant.learning_rate
        record["jit_compile"], reason = xla.resolve(self.jit_compile)
        if reason:  # chosen by the "auto" rule on this machine: say why
            record["jit_compile_auto"] = reason
        return {"variant": name, **record, "augment": variant.augment}


def config_hash(config: dict) -> str:
    """Identifies a configuration across seeds: the hash leaves out ``seed``."""
    return hashlib.sha256(json.dumps(without_seed(config), sort_keys=True).encode()).hexdigest()[:16]


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order in which training images are seen in ``epoch``: a function of (seed, epoch) alone."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def index_batches(n: int, batch_size: int, seed: int, epochs: int) -> tf.data.Dataset:
    """Batches of training-image indices for all ``epochs`` in a row (fit with ``steps_per_epoch``).

    Every pipeline that must see the same batches (images or cached features, the suite or the
    plain speed baseline) maps its data over these indices.
    """
    orders = np.stack([epoch_order(n, seed, epoch) for epoch in range(epochs)])
    return tf.data.Dataset.from_tensor_slices(orders).flat_map(
        lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))


def training_batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, epochs: int) -> tf.data.Dataset:
    """(x, y) batches in :func:`index_batches` order, read from arrays (in memory or memory-mapped)."""
    def take(index):
        return x[index], y[index]

    def read(index):
        xb, yb = tf.numpy_function(take, [index], (tf.as_dtype(x.dtype), tf.as_dtype(y.dtype)))
        return tf.ensure_shape(xb, (None, *x.shape[1:])), tf.ensure_shape(yb, (None,))

    return index_batches(len(x), batch_size, seed, epochs).map(read).prefetch(2)


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
            metrics = "  ".join(f"{k} {v:.4f}" for k, v in logs.items() if k in
                                ("loss", "accuracy", "val_loss", "val_accuracy"))
            self.write(f"{self.name}  epoch {epoch + 1}/{self.epochs}  {metrics}  {self.seconds[-1]:.1f}s")


class StopOnSignal(keras.callbacks.Callback):
    """Ends ``fit`` at the next batch once a Ctrl-C or SIGTERM came (see :mod:`flowers.interrupts`)."""

    def on_train_batch_end(self, batch, logs=None):
        if interrupts.stop_requested():
            self.model.stop_training = True


class BatchBar(keras.callbacks.Callback):
    """A live bar of the batches within each epoch (see :mod:`flowers.progress`)."""

    def __init__(self, progress: Progress, name: str, epochs: int, steps: int):
        super().__init__()
        self.progress, self.name, self.epochs, self.steps = progress, name, epochs, steps
        self.bar = None

    def on_epoch_begin(self, epoch, logs=None):
        self.bar = self.progress.bar(self.steps, f"{self.name} epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update()

    def on_epoch_end(self, epoch, logs=None):
        self.bar.close()


def compile_model(model: keras.Model, config: TrainConfig, learning_rate: float) -> None:
    """The suite's optimizer, loss and metrics (also used by the plain speed baseline)."""
    model.compile(
        optimizer=keras.optimizers.get({"class_name": config.optimizer, "config": {"learning_rate": learning_rate}}),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=xla.resolve(config.jit_compile)[0],
    )


# (variant's head, trainable part's fingerprint, input shape, optimizer, learning rate, XLA, dtype policy)
# -> (a compiled model, its optimizer's variables as built): see compiled().
_COMPILED: dict[tuple, tuple[keras.Model, list[np.ndarray]]] = {}


def compiled(trainee: keras.Model, variant, config: TrainConfig, learning_rate: float) -> tuple[keras.Model, bool]:
    """A compiled model with ``trainee``'s architecture and variables and a fresh optimizer, and
    whether it is one that an earlier case of this session compiled (and traced) already.

    Tracing and optimising the training and evaluation steps is most of the first epoch's overhead
    (ResNet50V2's trainable part: several seconds per case).  A case whose trainable part has the
    same architecture and settings as an earlier one (resnet50v2_finetune_aug after
    resnet50v2_finetune; every seed after the first) takes the earlier compiled model: its variables
    (weights, BatchNorm statistics, dropout seeds) are set to ``trainee``'s and its optimizer's to
    their values as built, so the results are those of a fresh compile to the last digit
    (tests/test_train.py).  Under a distribution strategy (one per run) every case compiles its own.
    """
    if config.distribute != "none":
        compile_model(trainee, config, learning_rate)
        return trainee, False
    key = (str(variant.head), architecture.fingerprint(trainee, 0, 0), tuple(trainee.inputs[0].shape),
           config.optimizer, learning_rate, xla.resolve(config.jit_compile)[0], keras.config.dtype_policy().name)
    if key not in _COMPILED:
        compile_model(trainee, config, learning_rate)
        trainee.optimizer.build(trainee.trainable_variables)
        _COMPILED[key] = (trainee, [variable.numpy() for variable in trainee.optimizer.variables])
        return trainee, False
    shared, optimizer_state = _COMPILED[key]
    copy_variables(trainee, shared)
    for variable, value in zip(shared.optimizer.variables, optimizer_state):
        variable.assign(value)
    return shared, True


def copy_variables(source: keras.Model, target: keras.Model) -> None:
    """Every layer's variables (weights, non-trainable statistics, random seed states) from ``source``
    into ``target``, a model of the same architecture."""
    pairs = [(a.variables, b.variables) for a, b in zip(source.layers, target.layers)]
    if len(source.layers) != len(target.layers) or any(
            [v.shape for v in s] != [v.shape for v in t] for s, t in pairs):
        raise ValueError(f"models {source.name} and {target.name} differ in architecture; cannot copy variables")
    for variables, targets in pairs:
        for value, variable in zip(variables, targets):
            variable.assign(value)


def clear_compiled() -> None:
    """Forget the compiled models kept for reuse (the next case of each architecture compiles anew)."""
    _COMPILED.clear()


def _check_finite(history: dict) -> None:
    """TerminateOnNaN stops at the first non-finite batch loss; say where."""
    losses = history["loss"]
    for epoch, loss in enumerate(losses, start=1):
        if not math.isfinite(loss):
            raise TrainingFailed(f"loss became {loss} in epoch {epoch}; lower the learning rate", epoch)
    if not losses:
        raise TrainingFailed("loss became non-finite in epoch 1; lower the learning rate", 1)


def run(name: str, splits: Splits, config: TrainConfig, progress: Progress | Callable[[str], None] | None = None,
        cache_memory_limit: int | None = None, tensorboard: str | Path | None = None) -> dict:
    """Train variant ``name`` on ``splits`` and evaluate it on the test split.

    ``progress`` gets a line per epoch and, on a terminal, live bars (:mod:`flowers.progress`);
    feature caches above ``cache_memory_limit`` bytes (default a quarter of RAM) are streamed from
    disk; ``tensorboard``: a folder for Keras' TensorBoard logs of this run (and its config as HParams).
    A Ctrl-C or SIGTERM during ``fit`` ends it at the next batch (:mod:`flowers.interrupts`) and
    raises ``KeyboardInterrupt`` from here.
    """
    variant = get_variant(name)
    if splits.x_train.shape[1:3] != (config.image_size, config.image_size):
        raise ValueError(f"images are {splits.x_train.shape[1]} px but the config says {config.image_size}; load them at that size")
    clock = Stopwatch()
    keras.utils.set_random_seed(config.seed)
    keras.config.set_dtype_policy("mixed_float16" if config.mixed_precision else "float32")
    if variant.augment:
        splits = augment(splits, config.seed)
    strategy = distribute.strategy(config.distribute)
    record = {**config.for_variant(name), **distribute.record(config.distribute, strategy)}
    with strategy.scope():  # variables mirrored on every replica (the default strategy: one device)
        model = create_model(name, splits.num_classes, config.image_size, config.weights, calibration=splits.x_train)
        clock.lap("setup")
        outcome = _train_and_evaluate(model, variant, splits, config, record["learning_rate"], clock,
                                      as_progress(progress), cache_memory_limit, tensorboard)
    if tensorboard:
        tensorboard_log.write_hparams(tensorboard, record, {k: outcome[k] for k in ("test_loss", "test_accuracy")})
    result = {**_record(model, variant, splits, config, outcome), "config": record, "config_hash": config_hash(record)}
    clock.lap("bookkeeping")
    return {**result, "breakdown": clock.laps}


def _train_and_evaluate(model: keras.Model, variant, splits: Splits, config: TrainConfig, learning_rate: float,
                        clock: Stopwatch, progress: Progress, cache_memory_limit: int | None,
                        tensorboard: str | Path | None) -> dict:
    """Fit (only the trainable suffix, on cached features, when the variant has frozen layers) and
    evaluate; laps ``feature_cache``, ``first_epoch``, ``later_epochs`` and ``evaluation`` on ``clock``."""
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        memory = stack.enter_context(measure.PeakMemory())
        trainee, data, cache_info = model, (splits.x_train, splits.x_val, splits.x_test), dict(features.DISABLED)
        if config.feature_cache and variant.frozen_until:
            prefix, trainee = features.split(model, variant.frozen_until)
            cache = stack.enter_context(features.build(
                prefix, variant.frozen_until, *data, batch_size=config.batch_size,
                memory_limit=cache_memory_limit or features.default_memory_limit(),
                bar=progress.bar(sum(map(len, data)), f"{variant.name} feature cache", unit="image"),
                jit_compile=xla.resolve(config.jit_compile)[0]))
            data, cache_info = (cache.train, cache.val, cache.test), cache.info()
        fitted, reused = compiled(trainee, variant, config, learning_rate)
        clock.lap("feature_cache")
        log = EpochLog(variant.name, config.epochs, progress)
        history = _fit(fitted, data[0], data[1], splits, config, log, progress, tensorboard)
        train_seconds = time.perf_counter() - start
        clock.lap("first_epoch", until=log.ends[0] if log.ends else None)
        clock.lap("later_epochs")
        eval_start = time.perf_counter()
        test_loss, test_accuracy = fitted.evaluate(data[2], splits.y_test, batch_size=config.batch_size, verbose=0)
        eval_seconds = time.perf_counter() - eval_start
        if reused:  # the case's own model (prefix + trainable part) ends up the trained one, as unshared
            copy_variables(fitted, trainee)
        clock.lap("evaluation")
    return dict(history=history, log=log, train_seconds=train_seconds, eval_seconds=eval_seconds,
                test_loss=float(test_loss), test_accuracy=float(test_accuracy), cache_info=cache_info,
                peak_memory_bytes=memory.bytes, compiled_reused=reused)


def _fit(trainee: keras.Model, x, xv, splits: Splits, config: TrainConfig, log: "EpochLog", progress: Progress,
         tensorboard: str | Path | None) -> dict[str, list[float]]:
    """``fit`` in :func:`index_batches` order; the per-epoch history, checked finite."""
    steps = math.ceil(len(x) / config.batch_size)
    callbacks = [keras.callbacks.TerminateOnNaN(), StopOnSignal(), log, BatchBar(progress, log.name, config.epochs, steps)]
    if tensorboard:
        callbacks.append(tensorboard_log.callback(tensorboard))
    with interrupts.training():
        fit = trainee.fit(
            training_batches(x, splits.y_train, config.batch_size, config.seed, config.epochs),
            steps_per_epoch=steps,
            shuffle=False,  # the order is index_batches'; Keras must not reorder
            validation_data=(xv, splits.y_val),
            validation_batch_size=config.batch_size,
            epochs=config.epochs,
            callbacks=callbacks,
            verbose=0,
        )
    history = {k: [float(v) for v in fit.history.get(k, [])] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
    _check_finite(history)
    return history


def _record(model: keras.Model, variant, splits: Splits, config: TrainConfig, outcome: dict) -> dict:
    """The case's results as recorded (``extra_info``), config aside."""
    history, log, seconds = outcome["history"], outcome["log"], outcome["train_seconds"]
    epochs_run, n_train = len(history["loss"]), len(splits.y_train)
    n_cached = len(splits.y_train) + len(splits.y_val) + len(splits.y_test) if outcome["cache_info"]["enabled"] else 0
    flops_per_image, cache_flops = _flops(model, variant, n_cached)
    calibrated_on = len(calibration_sample(splits.x_train)) if config.weights == CALIBRATED else 0
    model_record = architecture.record(model, variant, config.image_size, splits.num_classes)
    return {
        "variant": variant.name,
        "status": "ok",
        "error": None,
        "seed": config.seed,
        "test_loss": outcome["test_loss"],
        "test_accuracy": outcome["test_accuracy"],
        "history": history,
        "epochs": epochs_run,
        "train_seconds": seconds,
        "epoch_seconds": log.seconds,
        "epoch_step_seconds": log.step_seconds,
        "eval_seconds": outcome["eval_seconds"],
        "train_images_per_second": n_train * epochs_run / seconds,
        STEADY_THROUGHPUT: steady_throughput(n_train, log.step_seconds),
        "params_total": model_record["architecture"]["params_total"],
        "params_trainable": model_record["architecture"]["params_trainable"],
        "description": variant.description,
        **model_record,
        "weights_identity": weights_identity(variant.name, config.weights, calibrated_on),
        "dataset": splits.fingerprint,
        "feature_cache": outcome["cache_info"],
        "flops_per_image": flops_per_image,
        "achieved_gflops": (flops_per_image * n_train * epochs_run + cache_flops) / seconds / 1e9,
        "peak_gflops": measure.peak_gflops(),
        "peak_memory_bytes": outcome["peak_memory_bytes"],
        "compiled_reused": outcome["compiled_reused"],
    }


def steady_throughput(n_train: int, step_seconds: list[float]) -> float | None:
    """Training images per second in the training steps of epochs 2 and later (None: one epoch).

    Epoch 1 also traces the graph; validation is left out (it processes other images).
    """
    later = sum(step_seconds[1:])
    return n_train * len(step_seconds[1:]) / later if later > 0 else None


class Stopwatch:
    """Consecutive named intervals (``laps``, seconds) from its creation: they add up to the whole."""

    def __init__(self):
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str, until: float | None = None) -> None:
        """Ends the interval ``name`` now (or at ``until``, a ``time.perf_counter`` value)."""
        end = time.perf_counter() if until is None else until
        self.laps[name] = self.laps.get(name, 0.0) + end - self._last
        self._last = end


_FORWARD_FLOPS: dict[tuple, tuple[int, int]] = {}  # architecture -> (whole model, trainable suffix)


def _forward_flops(model: keras.Model, variant) -> tuple[int, int]:
    """Forward FLOPs of the whole model and of its trainable suffix; counted once per architecture."""
    key = (variant.backbone, variant.frozen_until, variant.head, tuple(model.inputs[0].shape), tuple(model.outputs[0].shape))
    if key not in _FORWARD_FLOPS:
        whole = measure.forward_flops(model)
        suffix = features.split(model, variant.frozen_until)[1] if variant.frozen_until else None
        _FORWARD_FLOPS[key] = (whole, measure.forward_flops(suffix) if suffix else whole)
    return _FORWARD_FLOPS[key]


def prefix_suffix_flops(name: str, num_classes: int, image_size: int) -> tuple[int, int]:
    """Forward FLOPs per image of variant ``name``'s frozen prefix and of its trainable suffix
    (the whole model's when nothing is frozen: prefix 0), counted once per architecture."""
    variant = get_variant(name)
    whole, trainable = _forward_flops(create_model(name, num_classes, image_size, "none"), variant)
    return whole - trainable, trainable


def ideal_speedup(prefix: float, suffix: float, splits: dict[str, int], epochs: int) -> float:
    """How much less work the feature cache leaves, in FLOPs: plain ``model.fit`` over suite.

    Plain: every epoch runs the whole model forward on the training and validation images and the
    suffix backward (twice its forward FLOPs) on the training images; the test images once.  Suite:
    the prefix once per image of every split, then the same suffix work.
    """
    n_train, n_val, n_test = splits["train"], splits["validation"], splits["test"]
    suffix_work = epochs * (n_train * 3 * suffix + n_val * suffix) + n_test * suffix
    plain = suffix_work + (epochs * (n_train + n_val) + n_test) * prefix
    suite = suffix_work + (n_train + n_val + n_test) * prefix
    return plain / suite


def _flops(model: keras.Model, variant, n_cached: int) -> tuple[int, int]:
    """(training FLOPs per image as executed, one-off FLOPs of building the feature cache).

    Forward FLOPs are counted from the model (:func:`flowers.measure.forward_flops`).  A training
    step runs the forward pass of every layer it executes (with the cache of ``n_cached`` images,
    only the trainable suffix) plus a backward pass of the trainable layers, counted as twice their
    forward FLOPs (gradients for inputs and for weights).
    """
    whole, trainable = _forward_flops(model, variant)
    if n_cached:
        return 3 * trainable, (whole - trainable) * n_cached
    return whole + 2 * trainable, 0
