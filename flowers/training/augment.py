"""The original experiment's offline augmentation (model 3.2): each training image plus 4 altered
copies, made once in NumPy before training so every seed and pipeline sees the same images."""

from __future__ import annotations

import dataclasses

import numpy as np

from flowers import schema
from flowers.errors import DataError
from flowers.registry import AUGMENT_FACTOR
from flowers.training.data import Splits


def augment(splits: Splits, seed: int) -> Splits:
    """The original offline augmentation: each training image plus 4 altered copies.

    New ``x_train`` is ``[originals, left-right flips, up-down flips, brightness x U(0.8, 1.2),
    contrast x U(0.8, 1.2)]`` in blocks of N (labels tiled); one factor per image, drawn from
    ``seed``.  Validation and test are untouched.
    """
    if schema.AUGMENTED in splits.fingerprint:
        raise DataError("these splits are already augmented; augment the splits that load() returned")
    x, rng = splits.x_train, np.random.default_rng(seed)
    brightness, contrast = rng.uniform(0.8, 1.2, (2, len(x)))
    x_train = np.empty((AUGMENT_FACTOR * len(x), *x.shape[1:]), np.uint8)
    blocks = x_train.reshape(AUGMENT_FACTOR, *x.shape)  # a view: filling blocks fills x_train
    blocks[0] = x
    blocks[1] = x[:, :, ::-1]
    blocks[2] = x[:, ::-1]
    adjust_brightness(x, brightness, out=blocks[3])
    adjust_contrast(x, contrast, out=blocks[4])
    fingerprint = {
        **splits.fingerprint,
        schema.SPLITS: {**splits.fingerprint[schema.SPLITS], schema.TRAIN_AUGMENTED: len(x_train)},
        schema.AUGMENTED: {
            schema.FACTOR: AUGMENT_FACTOR,
            schema.SEED: seed,
            schema.OPS: ["flip_left_right", "flip_up_down", "brightness_0.2", "contrast_0.2"],
        },
    }
    return dataclasses.replace(
        splits, x_train=x_train, y_train=np.tile(splits.y_train, AUGMENT_FACTOR), fingerprint=fingerprint
    )


def adjust_brightness(images: np.ndarray, factors: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Each uint8 image times its factor, clipped."""
    return in_chunks(lambda x, f: x * f, images, factors, out)


def adjust_contrast(images: np.ndarray, factors: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Like ``tf.image.adjust_contrast``: each pixel's distance from its image's channel means, scaled."""

    def contrast(x, f):
        mean = x.mean(axis=(1, 2), keepdims=True, dtype=np.float32)
        return x * f + mean * (1 - f)

    return in_chunks(contrast, images, factors, out)


def in_chunks(
    function, images: np.ndarray, factors: np.ndarray, out: np.ndarray | None = None, chunk: int = 256
) -> np.ndarray:
    """uint8 ``function(images, factors)``, a chunk at a time to bound float memory, into ``out``."""
    out = np.empty_like(images) if out is None else out
    factors = factors.astype(np.float32).reshape(-1, 1, 1, 1)
    for start in range(0, len(images), chunk):
        part = slice(start, start + chunk)
        out[part] = to_uint8(function(images[part], factors[part]))
    return out


def to_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)
