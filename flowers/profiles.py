"""Benchmark profiles: named sets of settings; explicit options override them.

The profiles are plain settings of :class:`flowers.train.TrainConfig` (the rest keep its
defaults), so that reading them (``pytest benchmarks --help`` describes them with :func:`describe`)
imports no TensorFlow.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

from flowers.errors import OptionError

if TYPE_CHECKING:
    from flowers.train import TrainConfig

PROFILES: dict[str, dict] = {
    # The original experiment: tf_flowers at 160 px, ImageNet weights, Adam at 1e-4, batch 32.
    "paper": {"data": "tf_flowers", "image_size": 160, "weights": "imagenet", "epochs": 10, "batch_size": 32},
    # About two minutes on 2 CPU cores: the built-in synthetic set at 32 px (the backbones' minimum),
    # random backbones calibrated on the training images (so that frozen ones carry signal), 6
    # epochs of batch 32 (the frozen-feature variants' epochs are cheap; ResNet50V2's trainable
    # suffix costs per step, so fewer, larger batches).
    "smoke": {"data": "synthetic", "image_size": 32, "weights": "random-calibrated", "epochs": 6, "batch_size": 32},
}
# How describe() shows a setting; any other as "name value".
SHOWN_AS = {"data": "{}", "image_size": "{} px", "weights": "{} weights", "epochs": "{} epochs", "batch_size": "batch {}"}


def describe(profile: str) -> str:
    """``name (setting, ...)``, e.g. ``smoke (synthetic, 32 px, random-calibrated weights, ...)``."""
    settings = PROFILES[profile]
    shown = [SHOWN_AS.get(key, f"{key} {{}}").format(value) for key, value in settings.items()]
    return f"{profile} ({', '.join(shown)})"


def make_config(profile: str, **overrides) -> TrainConfig:
    """The profile's config with every override that is not None applied."""
    from flowers import distribute
    from flowers.train import TrainConfig

    if profile not in PROFILES:
        raise OptionError(f"--profile {profile}: unknown profile; choose from {', '.join(PROFILES)}")
    known = {f.name for f in fields(TrainConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise OptionError(f"unknown settings: {', '.join(sorted(unknown))}")
    config = TrainConfig(**{**PROFILES[profile], **{k: v for k, v in overrides.items() if v is not None}})
    if config.epochs < 1:
        raise OptionError(f"--epochs {config.epochs}: must be at least 1")
    if config.batch_size < 1:
        raise OptionError(f"--batch-size {config.batch_size}: must be at least 1")
    distribute.check(config.distribute)
    if config.image_size < 8:
        raise OptionError(f"--image-size {config.image_size}: must be at least 8 (32 for the pretrained backbones)")
    return config
