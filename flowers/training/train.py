"""Train and evaluate one variant on prepared data: plain Keras ``compile``/``fit``/``evaluate``.

``run()`` returns the case's result as the benchmark records it (``extra_info``, keyed by
:mod:`flowers.schema`'s names).  Its steps pass typed values: the case's settings resolved once
(:class:`~flowers.training.case.Case`), a :class:`Context` of what they share, and the
:class:`Outcome` of fitting and evaluating.  With the feature cache on, a variant with frozen layers
computes them once (:mod:`flowers.training.features`) and fits only its trainable suffix; the
batches, their order and the seeds are the same either way.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from flowers import cost, interrupts, schema
from flowers.errors import TrainingFailed
from flowers.schema import invalid_score
from flowers.training import architecture, distribute, features, identity, measure, reuse, tensorboard_log, work
from flowers.training.augment import augment
from flowers.training.callbacks import BatchBar, EpochLog, StopOnSignal
from flowers.training.case import Case
from flowers.training.data import Splits
from flowers.training.models import create_model, weights_identity
from flowers.training.profiles import TrainConfig
from flowers.training.progress import Progress, as_progress
from flowers.training.session import SessionCache

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]  # what a model reads of (train, validation, test)


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
        lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size)
    )


def training_batches(
    x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, epochs: int, count: features.Count | None = None
) -> tf.data.Dataset:
    """(x, y) batches in :func:`index_batches` order, read from arrays (in memory or memory-mapped);
    ``count`` is told the size of each batch as it is read."""
    return read_batches(x, y, index_batches(len(x), batch_size, seed, epochs), count)


def ordered_batches(
    x: np.ndarray, y: np.ndarray, batch_size: int, count: features.Count | None = None
) -> tf.data.Dataset:
    """(x, y) batches in order (as ``evaluate(x, y, batch_size)`` takes them), counted like
    :func:`training_batches`; read anew each time it is iterated (each epoch's validation)."""
    return read_batches(x, y, tf.data.Dataset.range(len(x)).batch(batch_size), count)


def read_batches(
    x: np.ndarray, y: np.ndarray, indices: tf.data.Dataset, count: features.Count | None
) -> tf.data.Dataset:
    """(x[index], y[index]) for each batch of ``indices``, telling ``count`` (when given) each batch's size."""

    def take(index):
        if count is not None:
            count(len(index))
        return x[index], y[index]

    def read(index):
        xb, yb = tf.numpy_function(take, [index], (tf.as_dtype(x.dtype), tf.as_dtype(y.dtype)))
        return tf.ensure_shape(xb, (None, *x.shape[1:])), tf.ensure_shape(yb, (None,))

    return indices.map(read).prefetch(2)


@dataclass(frozen=True)
class Context:
    """What the steps of one run share besides its model and data."""

    case: Case
    progress: Progress
    clock: Stopwatch
    cache: SessionCache  # the session's compiled models and FLOP counts
    memory_limit: int  # bytes of frozen layers' features kept in memory; a larger cache streams from disk
    tensorboard: Path | None  # a folder for Keras' TensorBoard logs of this run


@dataclass(frozen=True)
class Outcome:
    """What fitting and evaluating a case gave."""

    history: dict[str, list[float]]  # per epoch, schema.HISTORY_KEYS
    epoch_seconds: list[float]  # each epoch, validation included
    epoch_step_seconds: list[float]  # each epoch's training steps alone
    train_seconds: float  # the feature cache's build and fit
    eval_seconds: float
    test_loss: float
    test_accuracy: float
    feature_cache: dict[str, Any]  # its record (features.DISABLED when the model read images)
    peak_memory_bytes: int
    compiled_reused: bool  # trained an earlier case's compiled model (flowers.training.reuse)
    work: dict[str, int]  # counted while it ran (flowers.training.work.record)
    flops: tuple[int, int]  # forward FLOPs per image of (frozen prefix, trainable suffix)

    def scores(self) -> dict[str, float]:
        """The test scores by their names in a result."""
        return {schema.TEST_ACCURACY: self.test_accuracy, schema.TEST_LOSS: self.test_loss}


def _check_size(splits: Splits, config: TrainConfig) -> None:
    """The images must have the size the config says (the models are built for it)."""
    if splits.x_train.shape[1:3] != (config.image_size, config.image_size):
        raise ValueError(
            f"images are {splits.x_train.shape[1]} px but the config says {config.image_size}; load them at that size"
        )


def _check_finite(history: dict[str, list[float]]) -> None:
    """TerminateOnNaN stops at the first non-finite batch loss; say where."""
    losses = history[schema.LOSS]
    for epoch, loss in enumerate(losses, start=1):
        if not math.isfinite(loss):
            raise TrainingFailed(f"loss became {loss} in epoch {epoch}; lower the learning rate", epoch)
    if not losses:
        raise TrainingFailed("loss became non-finite in epoch 1; lower the learning rate", 1)


def _check_scores(test_loss: float, test_accuracy: float) -> None:
    """What evaluate returned must be valid scores, as a reader checks a case recorded ok
    (:func:`flowers.results.invalid_score`): a finite training loss does not make a finite test loss."""
    why = invalid_score({schema.TEST_LOSS: test_loss, schema.TEST_ACCURACY: test_accuracy})
    if why:
        raise TrainingFailed(f"evaluation on the test split: {why}; check the test images, or lower the learning rate")


def run(
    name: str,
    splits: Splits,
    config: TrainConfig,
    progress: Progress | Callable[[str], None] | None = None,
    cache_memory_limit: int | None = None,
    tensorboard: str | Path | None = None,
    cache: SessionCache | None = None,
) -> dict[str, Any]:
    """Train variant ``name`` on ``splits`` and evaluate it on the test split; its result as recorded.

    ``progress`` gets a line per epoch and, on a terminal, live bars (:mod:`flowers.training.progress`);
    feature caches above ``cache_memory_limit`` bytes (default a quarter of RAM) are streamed from
    disk; ``tensorboard``: a folder for Keras' TensorBoard logs of this run (and its config as HParams);
    ``cache``: the session's compiled models and FLOP counts, reused by every call given the same one
    (default: a new one, this call's alone).  A Ctrl-C or SIGTERM during ``fit`` ends it at the next
    batch (:mod:`flowers.interrupts`) and raises ``KeyboardInterrupt`` from here.
    """
    case = Case.of(name, config)
    _check_size(splits, config)
    memory_limit = cache_memory_limit or features.default_memory_limit()
    logs = Path(tensorboard) if tensorboard else None
    context = Context(case, as_progress(progress), Stopwatch(), cache or SessionCache(), memory_limit, logs)
    keras.utils.set_random_seed(config.seed)
    keras.config.set_dtype_policy("mixed_float16" if config.mixed_precision else "float32")
    if case.variant.augment:
        splits = augment(splits, config.seed)
    strategy = distribute.strategy(config.distribute)
    calibrated = work.Counter()
    with strategy.scope():  # variables mirrored on every replica (the default strategy: one device)
        model = create_model(
            name,
            splits.num_classes,
            config.image_size,
            config.weights,
            calibration=splits.x_train,
            progress=context.progress,
            count=calibrated.add(work.CALIBRATION),
        )
        context.clock.lap(schema.SETUP)
        outcome = _train_and_evaluate(model, splits, context)
    recorded = {**case.recorded, **distribute.record(config.distribute, strategy)}
    if logs:
        tensorboard_log.write_hparams(logs, recorded, outcome.scores())
    result = {
        **_record(model, splits, context, outcome, calibrated.images[work.CALIBRATION]),
        schema.CONFIG: recorded,
        schema.CONFIG_HASH: schema.config_hash(recorded),
        schema.EXECUTION: work.execution(case, strategy),
    }
    context.clock.lap(schema.BOOKKEEPING)
    return {**result, schema.BREAKDOWN: context.clock.laps}


def _train_and_evaluate(model: keras.Model, splits: Splits, context: Context) -> Outcome:
    """Fit (only the trainable suffix, on cached features, when the variant has frozen layers) and
    evaluate; laps ``feature_cache``, ``first_epoch``, ``later_epochs`` and ``evaluation`` on the clock."""
    case, clock = context.case, context.clock
    start, counter = time.perf_counter(), work.Counter()
    with contextlib.ExitStack() as stack:
        memory = stack.enter_context(measure.PeakMemory())
        trainee, data, cache_record = _inputs(model, splits, context, stack, counter)
        fitted, reused = reuse.compiled(trainee, case, context.cache)
        clock.lap(schema.FEATURE_CACHE_BUILD)
        log = EpochLog(case.variant.name, case.config.epochs, context.progress)
        history = _fit(fitted, data, splits, context, log, counter)
        train_seconds = time.perf_counter() - start
        clock.lap(schema.FIRST_EPOCH, until=log.ends[0] if log.ends else None)
        clock.lap(schema.LATER_EPOCHS)
        eval_start = time.perf_counter()
        test = ordered_batches(data[2], splits.y_test, case.config.batch_size, counter.add(schema.TEST))
        test_loss, test_accuracy = (float(score) for score in fitted.evaluate(test, verbose=0))
        eval_seconds = time.perf_counter() - eval_start
        flops = work.forward_flops(model, case.variant, context.cache)
        done = work.record(counter, fitted, model, flops)
        if reused:  # the case's own model (prefix + trainable part) ends up the trained one, as unshared
            reuse.copy_variables(fitted, trainee)
        clock.lap(schema.EVALUATION)
    _check_scores(test_loss, test_accuracy)
    return Outcome(
        history,
        log.seconds,
        log.step_seconds,
        train_seconds,
        eval_seconds,
        test_loss,
        test_accuracy,
        cache_record,
        memory.bytes,
        reused,
        done,
        flops,
    )


def _inputs(
    model: keras.Model, splits: Splits, context: Context, stack: contextlib.ExitStack, counter: work.Counter
) -> tuple[keras.Model, Arrays, dict[str, Any]]:
    """What trains, what it reads and the feature cache's record: the whole model on the images, or,
    when the variant has frozen layers and the feature cache is on, its trainable suffix on their
    outputs (computed now, removed when ``stack`` closes)."""
    case, images = context.case, (splits.x_train, splits.x_val, splits.x_test)
    cut = case.variant.frozen_until
    if not (case.config.feature_cache and cut):
        return model, images, dict(features.DISABLED)
    prefix, trainee = features.split(model, cut)
    cached = stack.enter_context(
        features.build(
            prefix,
            cut,
            *images,
            batch_size=case.config.batch_size,
            memory_limit=context.memory_limit,
            bar=context.progress.bar(sum(map(len, images)), f"{case.variant.name} feature cache", unit="image"),
            jit_compile=case.jit_compile,
            count=counter.add(work.CACHE),
        )
    )
    return trainee, (cached.train, cached.val, cached.test), cached.info()


def _fit(
    fitted: keras.Model, data: Arrays, splits: Splits, context: Context, log: EpochLog, counter: work.Counter
) -> dict[str, list[float]]:
    """``fit`` in :func:`index_batches` order, the images read counted in ``counter``; the per-epoch
    history, checked finite."""
    config = context.case.config
    steps = math.ceil(len(data[0]) / config.batch_size)
    # The bar is closed (erased) before the epoch's line is written: Keras calls callbacks in order.
    callbacks = [
        keras.callbacks.TerminateOnNaN(),
        StopOnSignal(),
        BatchBar(context.progress, log.name, config.epochs, steps),
        log,
    ]
    if context.tensorboard:
        callbacks.append(tensorboard_log.callback(context.tensorboard))
    train = training_batches(
        data[0], splits.y_train, config.batch_size, config.seed, config.epochs, counter.add(schema.TRAIN)
    )
    with interrupts.training():
        fit = fitted.fit(
            train,
            steps_per_epoch=steps,
            shuffle=False,  # the order is index_batches'; Keras must not reorder
            validation_data=ordered_batches(data[1], splits.y_val, config.batch_size, counter.add(schema.VALIDATION)),
            epochs=config.epochs,
            callbacks=callbacks,
            verbose=0,
        )
    history = {key: [float(v) for v in fit.history.get(key, [])] for key in schema.HISTORY_KEYS}
    _check_finite(history)
    return history


def _record(
    model: keras.Model, splits: Splits, context: Context, outcome: Outcome, calibration_images: int
) -> dict[str, Any]:
    """The case's results as recorded (``extra_info``), its config and execution aside."""
    variant, config = context.case.variant, context.case.config
    epochs_run, n_train, seconds = len(outcome.history[schema.LOSS]), len(splits.y_train), outcome.train_seconds
    model_record = architecture.record(model, variant, config.image_size, splits.num_classes)
    return {
        schema.VARIANT: variant.name,
        schema.STATUS: schema.OK,
        schema.ERROR: None,
        schema.SEED: config.seed,
        schema.TEST_LOSS: outcome.test_loss,
        schema.TEST_ACCURACY: outcome.test_accuracy,
        schema.HISTORY: outcome.history,
        schema.EPOCHS: epochs_run,
        schema.TRAIN_SECONDS: seconds,
        schema.EPOCH_SECONDS: outcome.epoch_seconds,
        schema.EPOCH_STEP_SECONDS: outcome.epoch_step_seconds,
        schema.EVAL_SECONDS: outcome.eval_seconds,
        schema.TRAIN_THROUGHPUT: n_train * epochs_run / seconds,
        schema.STEADY_THROUGHPUT: steady_throughput(n_train, outcome.epoch_step_seconds),
        schema.PARAMS_TOTAL: model_record[schema.ARCHITECTURE][schema.PARAMS_TOTAL],
        schema.PARAMS_TRAINABLE: model_record[schema.ARCHITECTURE][schema.PARAMS_TRAINABLE],
        schema.DESCRIPTION: variant.description,
        **model_record,
        schema.WEIGHTS_IDENTITY: weights_identity(variant.name, config.weights, calibration_images),
        schema.DATASET: splits.fingerprint,
        schema.FEATURE_CACHE: outcome.feature_cache,
        **_efficiency(splits, outcome, epochs_run),
        schema.COMPILED_REUSED: outcome.compiled_reused,
        schema.IDENTITY: identity.record(model, variant),
        schema.WORK: outcome.work,
    }


def _efficiency(splits: Splits, outcome: Outcome, epochs_run: int) -> dict[str, Any]:
    """FLOPs per training image, GFLOP/s achieved and the device's peak, and the peak memory."""
    prefix, suffix = outcome.flops
    n_cached = (
        len(splits.y_train) + len(splits.y_val) + len(splits.y_test) if outcome.feature_cache[schema.ENABLED] else 0
    )
    flops_per_image = cost.step_flops(prefix, suffix, cached=bool(n_cached))
    total = flops_per_image * len(splits.y_train) * epochs_run + cost.cache_flops(prefix, n_cached)
    return {
        schema.FLOPS_PER_IMAGE: flops_per_image,
        schema.ACHIEVED_GFLOPS: total / outcome.train_seconds / 1e9,
        schema.PEAK_GFLOPS: measure.peak_gflops(),
        schema.PEAK_MEMORY_BYTES: outcome.peak_memory_bytes,
    }


def steady_throughput(n_train: int, step_seconds: list[float]) -> float | None:
    """Training images per second in the training steps of epochs 2 and later (None: one epoch).

    Epoch 1 also traces the graph; validation is left out (it processes other images).
    """
    later = sum(step_seconds[1:])
    return n_train * len(step_seconds[1:]) / later if later > 0 else None


class Stopwatch:
    """Consecutive named intervals (``laps``, seconds) from its creation: they add up to the whole."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str, until: float | None = None) -> None:
        """Ends the interval ``name`` now (or at ``until``, a ``time.perf_counter`` value)."""
        end = time.perf_counter() if until is None else until
        self.laps[name] = self.laps.get(name, 0.0) + end - self._last
        self._last = end
