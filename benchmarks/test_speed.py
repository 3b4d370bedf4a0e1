"""Side by side with the plain pipeline a notebook would write (``pytest benchmarks -k speed``).

(a) plain: image files decoded and resized through tf.data every epoch, the whole model in
``model.fit``; (b) the suite: images decoded once, frozen layers computed once (feature cache).
Same images (PNG files at the benchmark size, so both decode identical pixels), same order of
batches, seeds and epochs.  The case fails if the per-epoch training losses differ by more than
1e-3 relative: a faster wrong answer is not a speedup.
"""

import math
import time
from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

from flowers import data, train
from flowers.models import create_model
from flowers.synthetic import write_folder

pytestmark = pytest.mark.speed

# 5 classes x 128 synthetic images: 510 to train on (102 per class), 13 + 13 per class to validate and test.
IMAGES_PER_CLASS, IMAGE_SIZE, EPOCHS = 128, 96, 10


@pytest.fixture(scope="module")
def folder(tmp_path_factory, run_config):
    return write_folder(tmp_path_factory.mktemp("speed"), layout="splits", n_per_class=IMAGES_PER_CLASS,
                        image_size=run_config.image_size, fmt="png")


@pytest.fixture(scope="module")
def run_config(request):
    option = request.config.getoption
    return train.TrainConfig(
        data="speed", weights=option("flowers_weights") or "none",
        image_size=option("flowers_image_size") or IMAGE_SIZE, epochs=option("flowers_epochs") or EPOCHS,
        batch_size=option("flowers_batch_size") or 32, seed=option("flowers_seed") or 0,
    )


def plain_pipeline(variant: str, folder, config: train.TrainConfig) -> dict:
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
            lambda batch: tf.data.Dataset.from_tensor_slices(batch)
            .map(lambda i: decode(tf.gather(paths, i), tf.gather(labels, i)), num_parallel_calls=tf.data.AUTOTUNE)
            .batch(config.batch_size)
        ).prefetch(tf.data.AUTOTUNE)

    n = len(files("train")[0])
    model = create_model(variant, len(names), config.image_size, config.weights)
    train.compile_model(model, config, config.for_variant(variant)["learning_rate"])
    start = time.perf_counter()
    # The suite's order of training images, epoch by epoch; Keras reads on across epochs.
    fit = model.fit(dataset("train", train.index_batches(n, config.batch_size, config.seed, config.epochs)),
                    validation_data=dataset("validation"), epochs=config.epochs, shuffle=False,
                    steps_per_epoch=math.ceil(n / config.batch_size), verbose=0)
    test_loss, test_accuracy = model.evaluate(dataset("test"), verbose=0)
    return {"history": fit.history, "test_loss": test_loss, "test_accuracy": test_accuracy,
            "seconds": time.perf_counter() - start}


def suite_pipeline(variant: str, folder, config: train.TrainConfig) -> dict:
    start = time.perf_counter()
    splits = data.load(str(folder), config.image_size)
    load_seconds = time.perf_counter() - start
    result = train.run(variant, splits, config)
    return {**result, "seconds": load_seconds + result["train_seconds"] + result["eval_seconds"]}


@pytest.mark.parametrize("variant", ["vgg16_transfer", "resnet50v2_finetune"])
def test_speed(benchmark, variant, folder, run_config, progress):
    benchmark.group = "speed"
    wall, results = {}, {}

    def both():
        for name, pipeline in (("plain", plain_pipeline), ("suite", suite_pipeline)):
            start = time.perf_counter()
            results[name] = pipeline(variant, folder, replace(run_config, feature_cache=name == "suite"))
            wall[name] = time.perf_counter() - start
            progress(f"{variant}  {name} pipeline  {results[name]['seconds']:.1f}s ({wall[name]:.1f}s wall)  "
                     f"final loss {results[name]['history']['loss'][-1]:.6f}")

    benchmark.pedantic(both, rounds=1, iterations=1)
    plain, suite = results["plain"], results["suite"]
    # Like for like: reading the data, training and evaluating; building the (same) model and the
    # suite's FLOP bookkeeping are left out on both sides (the wall times, with them, are recorded too).
    speedup = plain["seconds"] / suite["seconds"]
    benchmark.extra_info.update(
        variant=variant, config=run_config.for_variant(variant), images_train=suite["dataset"]["splits"]["train"],
        plain_seconds=plain["seconds"], suite_seconds=suite["seconds"], speedup_vs_plain=speedup,
        plain_wall_seconds=wall["plain"], suite_wall_seconds=wall["suite"],
        plain_loss=plain["history"]["loss"], suite_loss=suite["history"]["loss"],
        plain_test_loss=plain["test_loss"], suite_test_loss=suite["test_loss"],
        feature_cache=suite["feature_cache"],
    )
    progress(f"{variant}  speedup_vs_plain {speedup:.2f}x")
    np.testing.assert_allclose(suite["history"]["loss"], plain["history"]["loss"], rtol=1e-3)
    np.testing.assert_allclose(suite["test_loss"], plain["test_loss"], rtol=1e-3)
