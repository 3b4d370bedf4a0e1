"""What a case did, counted while it ran (a result's ``work``), how it ran (``execution``), and the
FLOPs per image of a model's parts.

:class:`Counter` counts images as the input pipelines of :mod:`flowers.training.train` read them (training,
validation, test), as the feature cache is built and as a random backbone is calibrated (the
weights' record); the optimizer's own ``iterations`` count its steps.  Whether the frozen layers
ran on an image is read from the model that processed it (does it take images, or cached
features?), not from the config, so a feature cache that the config asks for but the code skips
shows: every pass then goes through the backbone.  FLOPs follow :mod:`flowers.cost` from the
forward FLOPs per image counted on the model's graph (:func:`flowers.training.measure.forward_flops`).

``execution`` holds what depends on the machine (XLA as resolved, oneDNN, the dtype policy, the
device kind and replicas): :mod:`flowers.facts` compares it only between cases of one kind of machine.
"""

from __future__ import annotations

import os
import platform
from collections import Counter as Tally
from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

from flowers import cost, schema
from flowers.registry import Variant
from flowers.training import architecture, features, measure
from flowers.training.case import Case
from flowers.training.models import create_model, get_variant
from flowers.training.session import SessionCache

CACHE = "cache"  # Counter part: images through the frozen prefix while the feature cache was built
CALIBRATION = "calibration"  # Counter part: training images a random backbone was calibrated on (the weights' record)


class Counter:
    """Images read, by part (:data:`schema.TRAIN`, :data:`schema.VALIDATION`, :data:`schema.TEST`,
    :data:`CACHE`); :meth:`add` gives the callback a pipeline calls with each batch's size."""

    def __init__(self) -> None:
        self.images: Tally[str] = Tally()

    def add(self, part: str) -> Callable[[int], None]:
        def count(n: int) -> None:
            self.images[part] += int(n)

        return count


def takes_images(fitted: keras.Model, model: keras.Model) -> bool:
    """Whether ``fitted`` (what was trained and evaluated) takes ``model``'s input, images, and so runs
    every layer of it, the frozen ones too (on cached features it runs only the trainable suffix)."""
    return tuple(fitted.inputs[0].shape[1:]) == tuple(model.inputs[0].shape[1:])


def record(counter: Counter, fitted: keras.Model, model: keras.Model, flops: tuple[int, int]) -> dict[str, int]:
    """The ``work`` record of a case whose ``model`` was trained and evaluated as ``fitted`` (itself,
    or its trainable suffix on cached features), from ``counter`` and the forward ``flops`` per image
    of ``model``'s (frozen prefix, trainable suffix)."""
    prefix, suffix = flops
    whole = takes_images(fitted, model)
    n = counter.images
    train, evaluated, cached = n[schema.TRAIN], n[schema.VALIDATION] + n[schema.TEST], n[CACHE]
    steps = int(fitted.optimizer.iterations.numpy())
    per_image = cost.step_flops(prefix, suffix, cached=not whole)
    total = train * per_image + evaluated * (suffix + (prefix if whole else 0)) + cost.cache_flops(prefix, cached)
    return {
        schema.BACKBONE_IMAGES: cached + ((train + evaluated) if whole and prefix else 0),
        schema.OPTIMIZER_STEPS: steps,
        schema.TRAIN_IMAGES: train,
        schema.VALIDATION_IMAGES: n[schema.VALIDATION],
        schema.TEST_IMAGES: n[schema.TEST],
        schema.STEP_FLOPS: round(per_image * train / steps) if steps else 0,
        schema.TOTAL_FLOPS: round(total),
    }


def onednn() -> str:
    """Whether TensorFlow's oneDNN kernels are on (its default on x86-64; ``TF_ENABLE_ONEDNN_OPTS=0``
    turns them off), and the instruction set they are held to (``ONEDNN_MAX_CPU_ISA``) when set."""
    setting = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    on = setting.strip().lower() not in ("0", "false") if setting else platform.machine().lower() in ("x86_64", "amd64")
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA")
    return ("on" if on else "off") + (f", max ISA {isa}" if on and isa else "")


def execution(case: Case, strategy: tf.distribute.Strategy) -> dict[str, Any]:
    """The ``execution`` record: how the case ran on this machine."""
    return {
        schema.XLA: case.jit_compile,
        schema.ONEDNN: onednn(),
        schema.MIXED_PRECISION: keras.config.dtype_policy().name,
        schema.DEVICE: "gpu" if tf.config.list_logical_devices("GPU") else "cpu",
        schema.REPLICAS: int(strategy.num_replicas_in_sync),
    }


def forward_flops(model: keras.Model, variant: Variant, cache: SessionCache) -> tuple[int, int]:
    """Forward FLOPs per image of the model's frozen prefix (0 when nothing is frozen) and of its
    trainable suffix; counted once per architecture in ``cache``'s session."""
    key = (architecture.fingerprint(model, 0, 0), variant.frozen_until)
    if key not in cache.flops:
        whole = measure.forward_flops(model)
        suffix = (
            measure.forward_flops(features.split(model, variant.frozen_until)[1]) if variant.frozen_until else whole
        )
        cache.flops[key] = (whole - suffix, suffix)
    return cache.flops[key]


def prefix_suffix_flops(
    name: str, num_classes: int, image_size: int, cache: SessionCache | None = None
) -> tuple[int, int]:
    """Forward FLOPs per image of variant ``name``'s frozen prefix and of its trainable suffix
    (the whole model's when nothing is frozen: prefix 0); counted once per architecture in
    ``cache``'s session (None: counted now)."""
    model = create_model(name, num_classes, image_size, "none")
    return forward_flops(model, get_variant(name), cache or SessionCache())
