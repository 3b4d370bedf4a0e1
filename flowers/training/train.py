"""Train and evaluate one variant on prepared data: plain Keras ``compile``/``fit``/``evaluate``.

``run()`` returns a plain dict of results (the benchmark records it as ``extra_info``).  With the
feature cache on, a variant with frozen layers computes them once (:mod:`flowers.training.features`) and
fits only its trainable suffix; the batches, their order and the seeds are the same either way.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from flowers import cost, interrupts, schema
from flowers.errors import TrainingFailed
from flowers.schema import invalid_score
from flowers.training import architecture, distribute, features, identity, measure, tensorboard_log, work, xla
from flowers.training.augment import augment
from flowers.training.callbacks import BatchBar, EpochLog, StopOnSignal
from flowers.training.data import Splits
from flowers.training.models import create_model, get_variant, weights_identity
from flowers.training.profiles import TrainConfig
from flowers.training.progress import Progress, as_progress


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
    x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, epochs: int, count: Callable[[int], None] | None = None
) -> tf.data.Dataset:
    """(x, y) batches in :func:`index_batches` order, read from arrays (in memory or memory-mapped);
    ``count`` is told the size of each batch as it is read."""
    return read_batches(x, y, index_batches(len(x), batch_size, seed, epochs), count)


def ordered_batches(
    x: np.ndarray, y: np.ndarray, batch_size: int, count: Callable[[int], None] | None = None
) -> tf.data.Dataset:
    """(x, y) batches in order (as ``evaluate(x, y, batch_size)`` takes them), counted like
    :func:`training_batches`; read anew each time it is iterated (each epoch's validation)."""
    return read_batches(x, y, tf.data.Dataset.range(len(x)).batch(batch_size), count)


def read_batches(x: np.ndarray, y: np.ndarray, indices: tf.data.Dataset, count) -> tf.data.Dataset:
    """(x[index], y[index]) for each batch of ``indices``, telling ``count`` (when given) each batch's size."""

    def take(index):
        if count is not None:
            count(len(index))
        return x[index], y[index]

    def read(index):
        xb, yb = tf.numpy_function(take, [index], (tf.as_dtype(x.dtype), tf.as_dtype(y.dtype)))
        return tf.ensure_shape(xb, (None, *x.shape[1:])), tf.ensure_shape(yb, (None,))

    return indices.map(read).prefetch(2)


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
    key = (
        str(variant.head),
        architecture.fingerprint(trainee, 0, 0),
        tuple(trainee.inputs[0].shape),
        config.optimizer,
        learning_rate,
        xla.resolve(config.jit_compile)[0],
        keras.config.dtype_policy().name,
    )
    if key not in _COMPILED:
        compile_model(trainee, config, learning_rate)
        trainee.optimizer.build(trainee.trainable_variables)
        _COMPILED[key] = (trainee, [variable.numpy() for variable in trainee.optimizer.variables])
        return trainee, False
    shared, optimizer_state = _COMPILED[key]
    copy_variables(trainee, shared)
    for variable, value in zip(shared.optimizer.variables, optimizer_state, strict=True):
        variable.assign(value)
    return shared, True


def copy_variables(source: keras.Model, target: keras.Model) -> None:
    """Every layer's variables (weights, non-trainable statistics, random seed states) from ``source``
    into ``target``, a model of the same architecture."""
    pairs = [(a.variables, b.variables) for a, b in zip(source.layers, target.layers, strict=False)]
    if len(source.layers) != len(target.layers) or any([v.shape for v in s] != [v.shape for v in t] for s, t in pairs):
        raise ValueError(f"models {source.name} and {target.name} differ in architecture; cannot copy variables")
    for variables, targets in pairs:
        for value, variable in zip(variables, targets, strict=True):
            variable.assign(value)


def clear_compiled() -> None:
    """Forget the compiled models kept for reuse (the next case of each architecture compiles anew)."""
    _COMPILED.clear()


def _check_finite(history: dict) -> None:
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
) -> dict:
    """Train variant ``name`` on ``splits`` and evaluate it on the test split.

    ``progress`` gets a line per epoch and, on a terminal, live bars (:mod:`flowers.training.progress`);
    feature caches above ``cache_memory_limit`` bytes (default a quarter of RAM) are streamed from
    disk; ``tensorboard``: a folder for Keras' TensorBoard logs of this run (and its config as HParams).
    A Ctrl-C or SIGTERM during ``fit`` ends it at the next batch (:mod:`flowers.interrupts`) and
    raises ``KeyboardInterrupt`` from here.
    """
    variant = get_variant(name)
    if splits.x_train.shape[1:3] != (config.image_size, config.image_size):
        raise ValueError(
            f"images are {splits.x_train.shape[1]} px but the config says {config.image_size}; load them at that size"
        )
    clock = Stopwatch()
    keras.utils.set_random_seed(config.seed)
    keras.config.set_dtype_policy("mixed_float16" if config.mixed_precision else "float32")
    if variant.augment:
        splits = augment(splits, config.seed)
    strategy = distribute.strategy(config.distribute)
    record = {**config.for_variant(name), **distribute.record(config.distribute, strategy)}
    calibrated = work.Counter()
    with strategy.scope():  # variables mirrored on every replica (the default strategy: one device)
        model = create_model(
            name,
            splits.num_classes,
            config.image_size,
            config.weights,
            calibration=splits.x_train,
            progress=as_progress(progress),
            count=calibrated.add(work.CALIBRATION),
        )
        clock.lap(schema.SETUP)
        outcome = _train_and_evaluate(
            model,
            variant,
            splits,
            config,
            record[schema.LEARNING_RATE],
            clock,
            as_progress(progress),
            cache_memory_limit,
            tensorboard,
        )
    if tensorboard:
        tensorboard_log.write_hparams(tensorboard, record, {key: outcome[key] for key in schema.SCORES})
    outcome[work.CALIBRATION] = calibrated.images[work.CALIBRATION]
    result = {
        **_record(model, variant, splits, config, outcome),
        schema.CONFIG: record,
        schema.CONFIG_HASH: schema.config_hash(record),
        schema.EXECUTION: work.execution(config, strategy),
    }
    clock.lap(schema.BOOKKEEPING)
    return {**result, schema.BREAKDOWN: clock.laps}


def _train_and_evaluate(
    model: keras.Model,
    variant,
    splits: Splits,
    config: TrainConfig,
    learning_rate: float,
    clock: Stopwatch,
    progress: Progress,
    cache_memory_limit: int | None,
    tensorboard: str | Path | None,
) -> dict:
    """Fit (only the trainable suffix, on cached features, when the variant has frozen layers) and
    evaluate; laps ``feature_cache``, ``first_epoch``, ``later_epochs`` and ``evaluation`` on ``clock``."""
    start, counter = time.perf_counter(), work.Counter()
    with contextlib.ExitStack() as stack:
        memory = stack.enter_context(measure.PeakMemory())
        trainee, data, cache_info = model, (splits.x_train, splits.x_val, splits.x_test), dict(features.DISABLED)
        if config.feature_cache and variant.frozen_until:
            prefix, trainee = features.split(model, variant.frozen_until)
            cache = stack.enter_context(
                features.build(
                    prefix,
                    variant.frozen_until,
                    *data,
                    batch_size=config.batch_size,
                    memory_limit=cache_memory_limit or features.default_memory_limit(),
                    bar=progress.bar(sum(map(len, data)), f"{variant.name} feature cache", unit="image"),
                    jit_compile=xla.resolve(config.jit_compile)[0],
                    count=counter.add(work.CACHE),
                )
            )
            data, cache_info = (cache.train, cache.val, cache.test), cache.info()
        fitted, reused = compiled(trainee, variant, config, learning_rate)
        clock.lap(schema.FEATURE_CACHE_BUILD)
        log = EpochLog(variant.name, config.epochs, progress)
        history = _fit(fitted, data[0], data[1], splits, config, log, progress, tensorboard, counter)
        train_seconds = time.perf_counter() - start
        clock.lap(schema.FIRST_EPOCH, until=log.ends[0] if log.ends else None)
        clock.lap(schema.LATER_EPOCHS)
        eval_start = time.perf_counter()
        test = ordered_batches(data[2], splits.y_test, config.batch_size, counter.add(schema.TEST))
        test_loss, test_accuracy = fitted.evaluate(test, verbose=0)
        eval_seconds = time.perf_counter() - eval_start
        done = work.record(counter, fitted, model, work.forward_flops(model, variant))
        if reused:  # the case's own model (prefix + trainable part) ends up the trained one, as unshared
            copy_variables(fitted, trainee)
        clock.lap(schema.EVALUATION)
    _check_scores(float(test_loss), float(test_accuracy))
    return {
        schema.WORK: done,
        schema.HISTORY: history,
        "log": log,
        schema.TRAIN_SECONDS: train_seconds,
        schema.EVAL_SECONDS: eval_seconds,
        schema.TEST_LOSS: float(test_loss),
        schema.TEST_ACCURACY: float(test_accuracy),
        "cache_info": cache_info,
        schema.PEAK_MEMORY_BYTES: memory.bytes,
        schema.COMPILED_REUSED: reused,
    }


def _fit(
    trainee: keras.Model,
    x,
    xv,
    splits: Splits,
    config: TrainConfig,
    log: EpochLog,
    progress: Progress,
    tensorboard: str | Path | None,
    counter: work.Counter,
) -> dict[str, list[float]]:
    """``fit`` in :func:`index_batches` order, the images read counted in ``counter``; the per-epoch
    history, checked finite."""
    steps = math.ceil(len(x) / config.batch_size)
    # The bar is closed (erased) before the epoch's line is written: Keras calls callbacks in order.
    callbacks = [
        keras.callbacks.TerminateOnNaN(),
        StopOnSignal(),
        BatchBar(progress, log.name, config.epochs, steps),
        log,
    ]
    if tensorboard:
        callbacks.append(tensorboard_log.callback(tensorboard))
    with interrupts.training():
        fit = trainee.fit(
            training_batches(
                x, splits.y_train, config.batch_size, config.seed, config.epochs, counter.add(schema.TRAIN)
            ),
            steps_per_epoch=steps,
            shuffle=False,  # the order is index_batches'; Keras must not reorder
            validation_data=ordered_batches(xv, splits.y_val, config.batch_size, counter.add(schema.VALIDATION)),
            epochs=config.epochs,
            callbacks=callbacks,
            verbose=0,
        )
    history = {key: [float(v) for v in fit.history.get(key, [])] for key in schema.HISTORY_KEYS}
    _check_finite(history)
    return history


def _record(model: keras.Model, variant, splits: Splits, config: TrainConfig, outcome: dict) -> dict:
    """The case's results as recorded (``extra_info``), config aside."""
    history, log, seconds = outcome[schema.HISTORY], outcome["log"], outcome[schema.TRAIN_SECONDS]
    epochs_run, n_train = len(history[schema.LOSS]), len(splits.y_train)
    n_cached = (
        len(splits.y_train) + len(splits.y_val) + len(splits.y_test) if outcome["cache_info"][schema.ENABLED] else 0
    )
    prefix, suffix = work.forward_flops(model, variant)
    flops_per_image = cost.step_flops(prefix, suffix, cached=bool(n_cached))
    cache_flops = cost.cache_flops(prefix, n_cached)
    model_record = architecture.record(model, variant, config.image_size, splits.num_classes)
    return {
        schema.VARIANT: variant.name,
        schema.STATUS: schema.OK,
        schema.ERROR: None,
        schema.SEED: config.seed,
        schema.TEST_LOSS: outcome[schema.TEST_LOSS],
        schema.TEST_ACCURACY: outcome[schema.TEST_ACCURACY],
        schema.HISTORY: history,
        schema.EPOCHS: epochs_run,
        schema.TRAIN_SECONDS: seconds,
        schema.EPOCH_SECONDS: log.seconds,
        schema.EPOCH_STEP_SECONDS: log.step_seconds,
        schema.EVAL_SECONDS: outcome[schema.EVAL_SECONDS],
        schema.TRAIN_THROUGHPUT: n_train * epochs_run / seconds,
        schema.STEADY_THROUGHPUT: steady_throughput(n_train, log.step_seconds),
        schema.PARAMS_TOTAL: model_record[schema.ARCHITECTURE][schema.PARAMS_TOTAL],
        schema.PARAMS_TRAINABLE: model_record[schema.ARCHITECTURE][schema.PARAMS_TRAINABLE],
        schema.DESCRIPTION: variant.description,
        **model_record,
        schema.WEIGHTS_IDENTITY: weights_identity(variant.name, config.weights, outcome[work.CALIBRATION]),
        schema.DATASET: splits.fingerprint,
        schema.FEATURE_CACHE: outcome["cache_info"],
        schema.FLOPS_PER_IMAGE: flops_per_image,
        schema.ACHIEVED_GFLOPS: (flops_per_image * n_train * epochs_run + cache_flops) / seconds / 1e9,
        schema.PEAK_GFLOPS: measure.peak_gflops(),
        schema.PEAK_MEMORY_BYTES: outcome[schema.PEAK_MEMORY_BYTES],
        schema.COMPILED_REUSED: outcome[schema.COMPILED_REUSED],
        schema.IDENTITY: identity.record(model, variant),
        schema.WORK: outcome[schema.WORK],
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
