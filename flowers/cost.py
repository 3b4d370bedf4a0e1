"""What a case costs, in FLOPs: the one model of the work used by :mod:`flowers.training.train` (achieved
GFLOP/s), :mod:`flowers.shards` (balancing shards before anything ran) and the speed group (the
ideal speedup of the feature cache).  Pure arithmetic on forward FLOPs per image; nothing here
builds a model.

A variant's model is a frozen ``prefix`` (0 FLOPs when nothing is frozen) and a trainable ``suffix``,
each counted as forward FLOPs per image.  A training step runs the forward pass of every layer it
executes and the backward pass of the trainable ones, counted as twice their forward FLOPs
(gradients for inputs and for weights).  Every epoch trains on the training images and validates
on the validation images; the test images are evaluated once.  With the feature cache the prefix
runs once per image of every split instead of in every pass.

A model's forward FLOPs at any image size come from two counts (:class:`flowers.registry.Flops`):
every layer costs a part per output pixel (convolutions, element-wise ops, pooling) and a fixed
part (the dense layers after global pooling), so a model's count is affine in the number of pixels
as long as each stride divides the feature maps exactly, and two counts fix the line.  The
backbones halve their maps five times, so the line is exact at every multiple of 32 px; at other
sizes each stride rounds the maps (up or down, by backbone) and the line misses the count, by up
to a third (docs/sharding.md gives the figures).  Shards need only the cases' costs relative to
one another, and every profile's size is a multiple of 32.
"""

from __future__ import annotations

from collections.abc import Mapping

from flowers import schema
from flowers.registry import Flops

BACKWARD = 2  # a backward pass costs twice the forward FLOPs of the layers it goes through


def forward_flops(counted: Flops, image_size: int) -> tuple[float, float]:
    """Forward FLOPs per image of the (frozen prefix, trainable suffix) at ``image_size`` px: the
    line through the two counts, in the number of pixels."""
    (a, b), pixels = counted.sizes, image_size * image_size
    share = (pixels - a * a) / (b * b - a * a)
    prefix, suffix = (max(0.0, low + (high - low) * share) for low, high in (counted.prefix, counted.suffix))
    return prefix, suffix


def step_flops(prefix: float, suffix: float, cached: bool) -> float:
    """FLOPs of one training image's step: the forward pass of what runs, the suffix's backward."""
    return (1 + BACKWARD) * suffix + (0 if cached else prefix)


def cache_flops(prefix: float, images: float) -> float:
    """FLOPs of building the feature cache of ``images`` images: the prefix once each."""
    return prefix * images


def case_flops(prefix: float, suffix: float, images: Mapping[str, float], epochs: int, cached: bool) -> float:
    """FLOPs of one case: training and validation every epoch, then the test split once.

    ``images``: the number of images in each split (``train``, ``validation``, ``test``).
    """
    n_train, n_val, n_test = images[schema.TRAIN], images[schema.VALIDATION], images[schema.TEST]
    work = epochs * (n_train * step_flops(0, suffix, cached=True) + n_val * suffix) + n_test * suffix
    if cached:
        return work + cache_flops(prefix, n_train + n_val + n_test)
    return work + (epochs * (n_train + n_val) + n_test) * prefix


def ideal_speedup(prefix: float, suffix: float, images: Mapping[str, float], epochs: int) -> float:
    """How much less work the feature cache leaves: a plain ``model.fit``'s FLOPs over the suite's."""
    return case_flops(prefix, suffix, images, epochs, cached=False) / case_flops(
        prefix, suffix, images, epochs, cached=True
    )
