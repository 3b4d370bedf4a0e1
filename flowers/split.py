"""The one train / validation / test split of every data set: 80/10/10, as in the original experiment.

tf_flowers is cut by TensorFlow Datasets' slicing (:func:`tfds_slices`), folders and the synthetic set
per class (:mod:`flowers.training.data`, :mod:`flowers.training.synthetic`), and the shards' cost estimate counts the
held-out images from the same fractions (:mod:`flowers.cost`).
"""

from __future__ import annotations

import itertools

from flowers import schema

FRACTIONS = {schema.TRAIN: 0.8, schema.VALIDATION: 0.1, schema.TEST: 0.1}
NAMES = tuple(FRACTIONS)  # ("train", "validation", "test"), also the split folders of a data folder


def tfds_slices() -> list[str]:
    """TFDS split strings cutting tf_flowers' single ``train`` split in :data:`FRACTIONS`, in order:
    ``["train[:80%]", "train[80%:90%]", "train[90%:]"]``."""
    cuts = ["", *(f"{b}%" for b in percent_bounds()[1:-1]), ""]  # open at both ends: every image is in one split
    return [f"train[{start}:{end}]" for start, end in itertools.pairwise(cuts)]


def percent_bounds() -> list[int]:
    """Where :data:`FRACTIONS` cut a split, in whole percent: ``[0, 80, 90, 100]``."""
    return [0, *itertools.accumulate(round(fraction * 100) for fraction in FRACTIONS.values())]


def per_training_image() -> dict[str, float]:
    """Images of each split per training image: ``{"train": 1, "validation": 0.125, "test": 0.125}``."""
    return {name: fraction / FRACTIONS[schema.TRAIN] for name, fraction in FRACTIONS.items()}


def carved_validation() -> float:
    """The share of a ``train/`` folder taken for validation when a data folder has no ``validation/``."""
    return FRACTIONS[schema.VALIDATION] / (FRACTIONS[schema.TRAIN] + FRACTIONS[schema.VALIDATION])
