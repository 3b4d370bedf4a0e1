"""A case's settings (:class:`TrainConfig`) and the benchmark profiles: named sets of them that
explicit options override (:func:`make_config`).

Imports no TensorFlow: ``pytest benchmarks --help`` describes the profiles from their own settings
(:func:`describe`), and the options are checked when pytest starts, before anything trains.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from flowers import schema
from flowers.errors import OptionError
from flowers.registry import get_variant

DISTRIBUTE_CHOICES = ("none", "mirrored")  # one device, or tf.distribute.MirroredStrategy (flowers.distribute)
# --weights besides a folder of weight files: Keras' ImageNet download, random initialisation, and
# random initialisation calibrated on training images (flowers.models.calibrate; the smoke profile's)
CALIBRATED = "random-calibrated"
WEIGHT_MODES = ("imagenet", "none", CALIBRATED)


@dataclass
class TrainConfig:
    """Every setting that can change a result (``learning_rate`` None: the variant's own)."""

    data: str = "synthetic"
    image_size: int = 64
    weights: str = "none"
    epochs: int = 2
    batch_size: int = 32
    seed: int = 0
    learning_rate: float | None = None
    optimizer: str = "adam"
    feature_cache: bool = True
    jit_compile: bool = False
    mixed_precision: bool = False
    distribute: str = "none"  # one of DISTRIBUTE_CHOICES

    def for_variant(self, name: str) -> dict:
        """The config as recorded in a result: this config resolved for variant ``name``."""
        variant = get_variant(name)
        record = asdict(self)
        if record[schema.DISTRIBUTE] == "none":  # recorded (with the replica count) only when set
            del record[schema.DISTRIBUTE]
        record[schema.LEARNING_RATE] = self.learning_rate or variant.learning_rate
        return {schema.VARIANT: name, **record, schema.AUGMENT: variant.augment}


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
SHOWN_AS = {
    "data": "{}",
    "image_size": "{} px",
    "weights": "{} weights",
    "epochs": "{} epochs",
    "batch_size": "batch {}",
}


def describe(profile: str) -> str:
    """``name (setting, ...)``, e.g. ``smoke (synthetic, 32 px, random-calibrated weights, ...)``."""
    settings = PROFILES[profile]
    shown = [SHOWN_AS.get(key, f"{key} {{}}").format(value) for key, value in settings.items()]
    return f"{profile} ({', '.join(shown)})"


def make_config(profile: str, **overrides) -> TrainConfig:
    """The profile's config with every override that is not None applied."""
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
    if config.distribute not in DISTRIBUTE_CHOICES:
        raise OptionError(
            f"--distribute {config.distribute}: unknown strategy; choose from {', '.join(DISTRIBUTE_CHOICES)}"
        )
    if config.image_size < 8:
        raise OptionError(f"--image-size {config.image_size}: must be at least 8 (32 for the pretrained backbones)")
    return config
