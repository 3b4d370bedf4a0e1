"""Which preprocessing a model applies, found by what it does: :func:`identify`.

A model here takes raw RGB (0-255) and preprocesses inside itself.  :func:`identify` runs a fixed
probe image through that part of the model (from its input to the input of its first layer that is
not preprocessing) and matches the output against each function of :data:`KNOWN`, computed by the
function itself on the same probe.  So what is recorded is what the model does, whether the
registry names another function (an edited registry) or the code that builds the model calls
another one (an edited :func:`flowers.training.models.preprocess`).

Functions that behave alike are one behaviour: Keras' ``resnet_v2`` and ``mobilenet_v2``
``preprocess_input`` and :func:`flowers.training.models.scale_to_unit_range` all map [0, 255] to [-1, 1].
The name recorded among them is the one the variant declares when it is one of them (its
backbone's own), else the first in :data:`KNOWN`; the ``digest`` names the behaviour alone (a hash
of its parameters), so a check compares behaviours, not names.

Nothing recorded depends on the CPU's arithmetic: a known function's record is its own constants
(means, standard deviations, channel order, range of the outputs of black and white pixels), and
the probe's output only decides which one it is, within a tolerance far above float32 rounding.
An unknown function is recorded as ``unknown`` with the range of its output on the probe and a
digest of that output rounded to :data:`DIGITS` decimals.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from flowers import schema
from flowers.registry import load

DIGITS = 2  # decimals of an unknown function's output kept in its digest and range
# A match: the model's output within this of the function's own (float32 rounding is ~1e-5 here).
RTOL, ATOL = 1e-4, 1e-3
# Layers that preprocess (the probe's part of the model runs through them); the first other layer ends it.
PREPROCESSING_LAYERS = (keras.layers.Rescaling, keras.layers.Normalization, keras.layers.Lambda)


@dataclass(frozen=True)
class Known:
    """A preprocessing function and the parameters of its behaviour (what its digest hashes)."""

    name: str  # "module:function", or "none"
    params: dict[str, Any] = field(default_factory=dict)  # mode, channels, mean, std

    def function(self) -> Callable[[np.ndarray], np.ndarray]:
        return (lambda x: x) if self.name == "none" else load(self.name)

    def apply(self, images: np.ndarray) -> np.ndarray:
        """The function on a copy of ``images`` (Keras' own work in place on float arrays)."""
        return np.asarray(self.function()(images.astype(np.float32).copy()), np.float64)


CAFFE = {schema.MODE: "caffe", schema.CHANNELS: "BGR", schema.MEAN: [103.939, 116.779, 123.68]}
TF = {schema.MODE: "tf", schema.CHANNELS: "RGB"}
TORCH = {
    schema.MODE: "torch",
    schema.CHANNELS: "RGB",
    schema.MEAN: [0.485, 0.456, 0.406],
    schema.STD: [0.229, 0.224, 0.225],
}
# Best first: a behaviour that several share is named by the first of them (unless the variant declares another).
KNOWN = (
    Known("keras.applications.vgg16:preprocess_input", CAFFE),
    Known("keras.applications.resnet_v2:preprocess_input", TF),
    Known("keras.applications.mobilenet_v2:preprocess_input", TF),
    Known("flowers.training.models:scale_to_unit_range", TF),
    Known("keras.applications.densenet:preprocess_input", TORCH),
    Known("none", {schema.MODE: "none (raw 0-255)", schema.CHANNELS: "RGB"}),
)


def probe(size: int) -> np.ndarray:
    """A fixed (1, size, size, 3) image: every channel a different permutation of 0..255 over the
    pixels (each value appears once per 256 pixels), so that channel order, scale and offset all show."""
    index = np.arange(size * size, dtype=np.int64)
    channels = [(index * step + start) % 256 for step, start in ((37, 0), (101, 85), (173, 170))]
    return np.stack(channels, axis=-1).reshape(1, size, size, 3).astype(np.float32)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def first_layer(model: keras.Model):
    """The model's first layer that is neither its input nor preprocessing: where preprocessing ends."""
    return next(
        layer for layer in model.layers if not isinstance(layer, (keras.layers.InputLayer, *PREPROCESSING_LAYERS))
    )


def applied(model: keras.Model, images: np.ndarray) -> np.ndarray | None:
    """What the model's preprocessing makes of ``images``; None when its first layer does not take one
    image tensor (nothing to compare)."""
    end = first_layer(model).input
    if not isinstance(end, keras.KerasTensor) or tuple(end.shape[1:]) != tuple(model.inputs[0].shape[1:]):
        return None
    if end is model.inputs[0]:
        return images.astype(np.float64)
    part = keras.Model(model.inputs, end)
    return np.asarray(part([images], training=False), np.float64)


def known_record(known: Known) -> dict[str, Any]:
    """The record of a known function: its name, its parameters, the range of its outputs for black
    and white pixels, and the digest of its behaviour."""
    extremes = known.apply(np.array([[[[0, 0, 0], [255, 255, 255]]]], np.float32))
    low, high = float(np.round(extremes.min(), 3)), float(np.round(extremes.max(), 3))
    return {
        schema.FUNCTION: known.name,
        **known.params,
        schema.RANGE: [low, high],
        schema.DIGEST: _digest(known.params),
    }


def identify(model: keras.Model, declared: str | None = None) -> dict[str, Any]:
    """The ``preprocessing`` record of ``model``: the :data:`KNOWN` function it behaves as (``declared``,
    the variant's own, named first among those that behave alike), else ``unknown``."""
    images = probe(int(model.inputs[0].shape[1]))
    out = applied(model, images)
    if out is None:
        return {schema.FUNCTION: schema.UNKNOWN, schema.RANGE: None, schema.DIGEST: None}
    matches = [k for k in KNOWN if k.apply(images).shape == out.shape and np.allclose(out, k.apply(images), RTOL, ATOL)]
    if matches:
        return known_record(next((k for k in matches if k.name == declared), matches[0]))
    rounded = np.round(out, DIGITS) + 0.0  # + 0.0: -0.0 and 0.0 hash alike
    return {
        schema.FUNCTION: schema.UNKNOWN,
        schema.RANGE: [float(rounded.min()), float(rounded.max())],
        schema.DIGEST: _digest(rounded.ravel().tolist()),
    }
