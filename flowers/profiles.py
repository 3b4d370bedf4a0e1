"""Benchmark profiles: named sets of settings; explicit options override them."""

from __future__ import annotations

from dataclasses import fields, replace

from flowers import distribute, xla
from flowers.train import TrainConfig

PROFILES = {
    # The original experiment: tf_flowers at 160 px, ImageNet weights, Adam at 1e-4, batch 32.
    "paper": TrainConfig(data="tf_flowers", image_size=160, weights="imagenet", epochs=10, batch_size=32),
    # About a minute and a half on 2 CPU cores: the built-in synthetic set at 32 px (the backbones'
    # minimum), random backbones calibrated on the training images (so that frozen ones carry signal),
    # 8 epochs of batch 32 (ResNet50V2's fine-tune needs them: 6 left it below 0.6 test accuracy for
    # 1 seed in 10), XLA where it is faster (flowers.xla).  See the README's smoke paragraph.
    "smoke": TrainConfig(data="synthetic", image_size=32, weights="random-calibrated", epochs=8, batch_size=32,
                         jit_compile="auto"),
}

# A profile's settings for one variant, over the profile's own (explicit options override both).
VARIANT_SETTINGS = {
    # The augmented variant trains on 5x the images per epoch: 2 epochs are 126 optimizer steps, more
    # than resnet50v2_finetune's 8 (104), and it learns in them (README, smoke).
    "smoke": {"resnet50v2_finetune_aug": {"epochs": 2}},
}


def make_config(profile: str, variant: str | None = None, **overrides) -> TrainConfig:
    """The profile's config (for ``variant``, when given) with every override that is not None applied."""
    if profile not in PROFILES:
        raise ValueError(f"--profile {profile}: unknown profile; choose from {', '.join(PROFILES)}")
    known = {f.name for f in fields(TrainConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
    own = VARIANT_SETTINGS.get(profile, {}).get(variant, {}) if variant else {}
    config = replace(PROFILES[profile], **{**own, **{k: v for k, v in overrides.items() if v is not None}})
    if config.epochs < 1:
        raise ValueError(f"--epochs {config.epochs}: must be at least 1")
    if config.batch_size < 1:
        raise ValueError(f"--batch-size {config.batch_size}: must be at least 1")
    distribute.check(config.distribute)
    if config.jit_compile not in xla.SETTINGS:
        raise ValueError(f"jit_compile {config.jit_compile!r}: use true, false or {xla.AUTO!r}")
    if config.image_size < 8:
        raise ValueError(f"--image-size {config.image_size}: must be at least 8 (32 for the pretrained backbones)")
    return config
