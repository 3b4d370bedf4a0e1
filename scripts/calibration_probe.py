"""How much class information a random, calibrated MobileNetV2 carries to its last features.

    python scripts/calibration_probe.py [SEEDS]     # default 4 seeds; about a minute on 2 cores

For each seed, builds ``mobilenet_v2_transfer`` at 32 px on the synthetic set with random weights,
calibrated two ways: BatchNorm statistics alone (version 1 of the ``random-calibrated`` recipe) and
the whole recipe of :func:`flowers.training.models.calibrate` (version 2).  Prints the test accuracy of a
ridge-regression linear probe on the pooled features (chance 0.2).
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from flowers.training import data, models

SIZE = 32


def ridge_probe(train: np.ndarray, y_train: np.ndarray, test: np.ndarray, y_test: np.ndarray) -> float:
    """Test accuracy of a ridge-regression linear probe (one-hot targets) on standardised features."""
    mean, sd = train.mean(0), train.std(0) + 1e-6
    a, b = (train - mean) / sd, (test - mean) / sd
    a, b = np.c_[a, np.ones(len(a))], np.c_[b, np.ones(len(b))]
    w = np.linalg.solve(a.T @ a + np.eye(a.shape[1]), a.T @ np.eye(y_train.max() + 1)[y_train])
    return float(((b @ w).argmax(1) == y_test).mean())


def probe(splits: data.Splits, seed: int, calibrate) -> float:
    """Probe accuracy of a random MobileNetV2 backbone calibrated by ``calibrate(backbone, images)``."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((SIZE, SIZE, 3))
    backbone = keras.applications.MobileNetV2(
        include_top=False,
        weights=None,
        input_shape=(SIZE, SIZE, 3),
        input_tensor=keras.applications.mobilenet_v2.preprocess_input(inputs),
    )
    calibrate(backbone, models.calibration_sample(splits.x_train))
    pooled = keras.Model(backbone.inputs, keras.layers.GlobalAveragePooling2D()(backbone.output))
    return ridge_probe(
        pooled.predict(splits.x_train, verbose=0),
        splits.y_train,
        pooled.predict(splits.x_test, verbose=0),
        splits.y_test,
    )


def main(seeds: int) -> None:
    splits = data.load("synthetic", SIZE)
    for seed in range(seeds):
        v1 = probe(splits, seed, models.recalibrate_batchnorm)
        v2 = probe(splits, seed, models.calibrate)
        print(f"seed {seed}: linear probe test accuracy  BatchNorm statistics only {v1:.3f}   whole recipe {v2:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seeds", nargs="?", type=int, default=4, help="how many seeds to probe (default: 4)")
    main(parser.parse_args().seeds)
