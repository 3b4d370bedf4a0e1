"""Side by side with the plain pipeline a notebook would write (``pytest benchmarks -k speed``).

(a) plain: image files decoded and resized through tf.data every epoch, the whole model in
``model.fit``; (b) the suite: images decoded once, frozen layers computed once (feature cache).
Same images (PNG files at the benchmark size, so both decode identical pixels), same order of
batches, seeds and epochs.  The case fails if the per-epoch training losses differ by more than
1e-3 relative: a faster wrong answer is not a speedup.

Each pipeline runs ``--speed-rounds`` times (default 2), interleaved plain, suite, suite, plain...
so that a neighbour's load or a drifting clock hits both sides alike.  A round is the pipeline's
wall time: reading the data, building the model, training, evaluating.  The suite's rounds are the
benchmark's own pytest-benchmark statistics; the plain rounds, run in its setup and teardown, are
timed with the same clock and summarised by pytest-benchmark's ``Stats`` in ``extra_info``.
"""

import math
import statistics
import time
from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf
from pytest_benchmark.stats import Stats

from flowers import cost
from flowers.training import data, measure, train, work
from flowers.training.case import Case
from flowers.training.models import create_model
from flowers.training.profiles import TrainConfig
from flowers.training.pytest_plugin.session import options
from flowers.training.pytest_plugin.signals import measuring
from flowers.training.session import SessionCache
from flowers.training.synthetic import write_folder

pytestmark = pytest.mark.speed

# 5 classes x 64 synthetic images: 260 to train on (52 per class), 30 + 30 to validate and test; 5
# epochs.  The feature cache's ideal gain for ResNet50V2 stays 1.20x (96 images a class and 10
# epochs: 1.24x), and the group trains a third as long as with those (docs/speed.md: their time).
IMAGES_PER_CLASS, IMAGE_SIZE, EPOCHS = 64, 96, 5
NOISY_SPREAD = 0.25  # rounds of one pipeline further apart than this (max / min - 1): the ratio is noise
STATS_KEYS = ("min", "max", "mean", "median", "iqr", "q1", "q3", "rounds")


@pytest.fixture(scope="module")
def folder(tmp_path_factory, run_config):
    return write_folder(
        tmp_path_factory.mktemp("speed"),
        layout="splits",
        n_per_class=IMAGES_PER_CLASS,
        image_size=run_config.image_size,
        fmt="png",
    )


@pytest.fixture(scope="module")
def run_config(request):
    given = options(request.config)
    return TrainConfig(
        data="speed",
        weights=given.weights or "none",
        image_size=given.image_size or IMAGE_SIZE,
        epochs=given.epochs or EPOCHS,
        batch_size=given.batch_size or 32,
        seed=given.seed,
    )


@pytest.fixture(scope="module")
def rounds(request):
    return options(request.config).speed_rounds  # at least 2 (flowers.training.pytest_plugin.options)


def plain_pipeline(variant: str, folder, config: TrainConfig) -> dict:
    """What a notebook does: paths -> tf.data (read, decode, resize) each epoch -> model.fit."""
    keras.utils.set_random_seed(config.seed)
    names = sorted(p.name for p in (folder / "train").iterdir())
    size = (config.image_size, config.image_size)

    def files(split):
        paths = sorted((folder / split).glob("*/*.png"))
        return np.array([str(p) for p in paths]), np.array([names.index(p.parent.name) for p in paths], np.int32)

    def decode(path, label):
        return tf.image.resize(tf.io.decode_png(tf.io.read_file(path), channels=3), size), label

    def dataset(split, indices=None):
        """Files of ``split`` decoded batch by batch, in the order of ``indices`` (default: as listed)."""
        paths, labels = files(split)
        if indices is None:
            indices = tf.data.Dataset.range(len(paths)).batch(config.batch_size)
        return indices.flat_map(
            lambda batch: (
                tf.data.Dataset.from_tensor_slices(batch)
                .map(lambda i: decode(tf.gather(paths, i), tf.gather(labels, i)), num_parallel_calls=tf.data.AUTOTUNE)
                .batch(config.batch_size)
            )
        ).prefetch(tf.data.AUTOTUNE)

    n = len(files("train")[0])
    model = create_model(variant, len(names), config.image_size, config.weights)
    Case.of(variant, config).compile(model)
    # The suite's order of training images, epoch by epoch; Keras reads on across epochs.
    fit = model.fit(
        dataset("train", train.index_batches(n, config.batch_size, config.seed, config.epochs)),
        validation_data=dataset("validation"),
        epochs=config.epochs,
        shuffle=False,
        steps_per_epoch=math.ceil(n / config.batch_size),
        verbose=0,
    )
    test_loss, test_accuracy = model.evaluate(dataset("test"), verbose=0)
    return {"history": fit.history, "test_loss": test_loss, "test_accuracy": test_accuracy}


def suite_pipeline(variant: str, folder, config: TrainConfig, session: SessionCache) -> dict:
    """The suite: files decoded once (flowers.training.data), frozen layers once (feature cache), train.run.

    Each round compiles its own training step, as the plain pipeline does: without forgetting, a
    later round would reuse the first one's (flowers.training.reuse) and skip its tracing."""
    session.forget_models()
    return train.run(variant, data.load(str(folder), config.image_size), config, cache=session)


def timed(pipeline, *args) -> tuple[float, dict]:
    start = time.perf_counter()  # pytest-benchmark's default timer, so both sides share one clock
    result = pipeline(*args)
    return time.perf_counter() - start, result


def spread(seconds: list[float]) -> float:
    """How far apart the rounds of one pipeline are: slowest / fastest - 1."""
    return max(seconds) / min(seconds) - 1


@pytest.mark.parametrize("variant", ["vgg16_transfer", "resnet50v2_finetune"])
def test_speed(benchmark, variant, folder, run_config, rounds, progress):
    benchmark.group = "speed"
    configs = {name: replace(run_config, feature_cache=name == "suite") for name in ("plain", "suite")}
    sizes = {split: len(list((folder / split).glob("*/*.png"))) for split in ("train", "validation", "test")}
    # Counted before any clock starts (and then cached, so no round pays for it), like the peak.
    session = SessionCache()
    classes = len(list((folder / "train").iterdir()))
    prefix, suffix = work.prefix_suffix_flops(variant, classes, run_config.image_size, session)
    measure.peak_gflops()
    plain, suite = [], []  # (seconds, result) per round, in the order run

    def run_plain():
        plain.append(timed(plain_pipeline, variant, folder, configs["plain"]))
        seconds, result = plain[-1]
        progress(
            f"{variant}  round {len(plain)}  plain  {seconds:.1f}s  final loss {result['history']['loss'][-1]:.6f}"
        )

    def plain_between():
        """pedantic's setup and teardown (outside its clock): a plain round before odd suite rounds
        and after even ones, so the order is plain, suite, suite, plain, plain, suite..."""
        if len(suite) % 2 == 0:
            run_plain()

    def suite_round():
        seconds, result = timed(suite_pipeline, variant, folder, configs["suite"], session)
        suite.append((seconds, result))
        progress(
            f"{variant}  round {len(suite)}  suite  {seconds:.1f}s  final loss {result['history']['loss'][-1]:.6f}"
        )

    with measuring(benchmark):
        benchmark.pedantic(suite_round, setup=plain_between, teardown=plain_between, rounds=rounds, iterations=1)
    info = summary(
        [s for s, _ in plain], [s for s, _ in suite], cost.ideal_speedup(prefix, suffix, sizes, run_config.epochs)
    )
    first_plain, first_suite = plain[0][1], suite[0][1]
    benchmark.extra_info.update(
        variant=variant,
        config=run_config.for_variant(variant),
        images=sizes,
        rounds=rounds,
        order=["plain", "suite", "suite", "plain"] * (rounds // 2) + ["plain", "suite"] * (rounds % 2),
        **info,
        prefix_flops=prefix,
        suffix_flops=suffix,
        plain_loss=first_plain["history"]["loss"],
        suite_loss=first_suite["history"]["loss"],
        plain_test_loss=first_plain["test_loss"],
        suite_test_loss=first_suite["test_loss"],
        feature_cache=first_suite["feature_cache"],
        suite_breakdown=first_suite["breakdown"],
    )
    show(progress, variant, info, prefix, suffix)
    for (_, p), (_, s) in zip(plain, suite):  # every round, not only the first, must agree
        np.testing.assert_allclose(s["history"]["loss"], p["history"]["loss"], rtol=1e-3)
        np.testing.assert_allclose(s["test_loss"], p["test_loss"], rtol=1e-3)


def summary(plain_seconds: list[float], suite_seconds: list[float], ideal: float) -> dict:
    """The speed case's figures: medians, their ratio and the per-round ratios, spreads and the
    noisy flag, the plain rounds' pytest-benchmark statistics, and the share of the ideal reached."""
    speedup = statistics.median(plain_seconds) / statistics.median(suite_seconds)
    per_round = [p / s for p, s in zip(plain_seconds, suite_seconds)]
    spreads = {"plain": spread(plain_seconds), "suite": spread(suite_seconds)}
    plain_stats = Stats()
    for seconds in plain_seconds:
        plain_stats.update(seconds)
    return dict(
        plain_round_seconds=plain_seconds,
        suite_round_seconds=suite_seconds,
        plain_stats={k: getattr(plain_stats, k) for k in STATS_KEYS},
        plain_seconds=statistics.median(plain_seconds),
        suite_seconds=statistics.median(suite_seconds),
        speedup_vs_plain=speedup,
        speedup_range=[min(per_round), max(per_round)],
        round_speedups=per_round,
        spread=spreads,
        noisy=any(value > NOISY_SPREAD for value in spreads.values()),
        noisy_limit=NOISY_SPREAD,
        ideal_speedup=ideal,
        ideal_fraction=speedup / ideal,
    )


def show(progress, variant: str, info: dict, prefix: float, suffix: float) -> None:
    """The speed case's lines in the terminal (and a NOISY warning when its rounds disagree)."""
    rounds = {name: ", ".join(f"{s:.1f}s" for s in info[f"{name}_round_seconds"]) for name in ("plain", "suite")}
    low, high = info["speedup_range"]
    progress(f"{variant}  plain rounds {rounds['plain']}; suite rounds {rounds['suite']}")
    progress(
        f"{variant}  speedup_vs_plain {info['speedup_vs_plain']:.2f}x (ratio of medians; per round "
        f"{low:.2f}x-{high:.2f}x); ideal {info['ideal_speedup']:.2f}x from FLOPs "
        f"(prefix {prefix / 1e9:.3f}, suffix {suffix / 1e9:.3f} GFLOP/image), "
        f"{info['ideal_fraction']:.0%} of it reached"
    )
    noisy = {name: value for name, value in info["spread"].items() if value > NOISY_SPREAD}
    if noisy:
        progress(
            f"{variant}  NOISY: {' and '.join(f'{n} rounds differ by {v:.0%}' for n, v in noisy.items())} "
            f"(> {NOISY_SPREAD:.0%}); do not read the ratio as a result"
        )
