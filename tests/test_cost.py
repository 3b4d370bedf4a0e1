"""The one cost model (flowers/cost.py) and the one split (flowers/split.py): pure arithmetic."""

from __future__ import annotations

import pytest

from flowers import cost, split

IMAGES = {"train": 240, "validation": 30, "test": 30}


def test_without_a_frozen_prefix_the_cache_saves_nothing():
    assert cost.ideal_speedup(0, 5e6, IMAGES, epochs=10) == 1.0


def test_a_heavy_frozen_prefix_approaches_the_passes_it_is_spared():
    passes_plain = 10 * (240 + 30) + 30  # every epoch's training and validation images, the test images once
    speedup = cost.ideal_speedup(1e12, 1.0, IMAGES, epochs=10)
    assert speedup == pytest.approx(passes_plain / sum(IMAGES.values()), rel=1e-6)
    assert cost.ideal_speedup(1e9, 1e6, IMAGES, epochs=20) > cost.ideal_speedup(1e9, 1e6, IMAGES, epochs=2)


def test_a_step_trains_the_suffix_and_runs_the_prefix_only_without_the_cache():
    assert cost.step_flops(7, 1, cached=True) == 3  # forward + backward (2x) of the trainable suffix
    assert cost.step_flops(7, 1, cached=False) == 10


def test_the_split_is_80_10_10_in_every_form():
    assert split.tfds_slices() == ["train[:80%]", "train[80%:90%]", "train[90%:]"]
    assert split.per_training_image() == {"train": 1.0, "validation": 0.125, "test": 0.125}
    assert split.carved_validation() == pytest.approx(1 / 9)  # 10 of the 90 train + validation images
