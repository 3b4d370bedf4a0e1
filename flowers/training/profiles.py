"""A case's settings (:class:`TrainConfig`) and the benchmark profiles: named sets of them that
explicit options override (:func:`make_config`).

Imports no TensorFlow: ``pytest benchmarks --help`` describes the profiles and each setting's
default from the profiles themselves (:func:`describe`, :func:`shown_default`), so that the help
cannot drift from them, and the options are parsed when pytest starts, before anything trains.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from flowers import schema
from flowers.errors import OptionError
from flowers.registry import get_variant
from flowers.training import xla

DISTRIBUTE_CHOICES = ("none", "mirrored")  # one device, or tf.distribute.MirroredStrategy (flowers.training.distribute)
# --weights besides a folder of weight files: Keras' ImageNet download, random initialisation, and
# random initialisation calibrated on training images (flowers.training.models.calibrate; the smoke profile's)
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
    jit_compile: bool | str = False  # or "auto": XLA where it wins (flowers.training.xla)
    mixed_precision: bool = False
    distribute: str = "none"  # one of DISTRIBUTE_CHOICES

    def for_variant(self, name: str) -> dict:
        """The config as recorded in a result: this config resolved for variant ``name``."""
        variant = get_variant(name)
        record = asdict(self)
        if record[schema.DISTRIBUTE] == "none":  # recorded (with the replica count) only when set
            del record[schema.DISTRIBUTE]
        record[schema.LEARNING_RATE] = self.learning_rate or variant.learning_rate
        record[schema.JIT_COMPILE], reason = xla.resolve(self.jit_compile)
        if reason:  # chosen by the "auto" rule on this machine: say why
            record[schema.JIT_COMPILE_AUTO] = reason
        return {schema.VARIANT: name, **record, schema.AUGMENT: variant.augment}


DEFAULT_PROFILE = "paper"  # what a plain `pytest benchmarks` runs: the original experiment
PROFILES: dict[str, dict[str, Any]] = {
    # The original experiment: tf_flowers at 160 px, ImageNet weights, Adam at 1e-4, batch 32.
    "paper": {"data": "tf_flowers", "image_size": 160, "weights": "imagenet", "epochs": 10, "batch_size": 32},
    # A quick check that runs anywhere, offline: the built-in synthetic set at 32 px (the backbones'
    # minimum) and random backbones calibrated on the training images, so that frozen ones carry
    # signal; 8 epochs because ResNet50V2's fine-tune, from random weights, needs them to learn on
    # every seed.  docs/running.md has its measured accuracies and time.
    "smoke": {
        "data": "synthetic",
        "image_size": 32,
        "weights": "random-calibrated",
        "epochs": 8,
        "batch_size": 32,
        "jit_compile": False,
    },
    # The original experiment made small enough for a nightly on a hosted 4-CPU runner: tf_flowers on
    # its own split, ImageNet weights, the original models, learning rates and batch, at 64 px, the
    # smallest size where frozen ImageNet features still carry the classes.  docs/running.md: the lite
    # profile, the accuracy-time curve it was chosen from, and its time on such a runner.
    "lite": {
        "data": "tf_flowers",
        "image_size": 64,
        "weights": "imagenet",
        "epochs": 10,
        "batch_size": 32,
        "jit_compile": False,
    },
}
# A profile's settings for one variant, over the profile's own (explicit options override both).
VARIANT_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "smoke": {
        # XLA by the "auto" rule (flowers.training.xla) for ResNet50V2 only: its 22 M trainable
        # parameters are where compiling pays.  The other variants train for seconds, and XLA costs
        # them more than it saves, mostly in computing their frozen backbones' feature cache
        # (docs/speed.md).
        "resnet50v2_finetune": {"jit_compile": xla.AUTO},
        # Each epoch holds 5x the images, so fewer epochs give as many optimizer steps.  With 2, a seed
        # now and then lands far below the rest, and such a tail makes the gate's comparisons of
        # unchanged code fail too often; 3 do not (docs/running.md, docs/check.md).
        "resnet50v2_finetune_aug": {"epochs": 3, "jit_compile": xla.AUTO},
    },
    "lite": {
        # ResNet50V2's 22 M trainable parameters are most of the profile's time, the augmented variant's
        # five copies of every training image most of all: 2 epochs of the fine-tune, 1 of the augmented
        # one.  XLA stays off: on a CPU without AVX-512 it makes these steps slower (docs/running.md).
        "resnet50v2_finetune": {"epochs": 2},
        "resnet50v2_finetune_aug": {"epochs": 1},
    },
}
# How describe() shows a setting; any other as "name value".
SHOWN_AS = {
    "data": "{}",
    "image_size": "{} px",
    "weights": "{} weights",
    "epochs": "{} epochs",
    "batch_size": "batch {}",
    "jit_compile": "XLA {}",
}


def describe(profile: str) -> str:
    """``name (setting, ...; variant: setting, ...)``, e.g. ``smoke (synthetic, 32 px, ...)``."""
    parts = [_shown(PROFILES[profile])]
    parts += [f"{variant}: {_shown(own)}" for variant, own in VARIANT_SETTINGS.get(profile, {}).items()]
    return f"{profile} ({'; '.join(parts)})"


def _shown(settings: dict) -> str:
    return ", ".join(_setting(key, value) for key, value in settings.items())


def _setting(key: str, value: object) -> str:
    shown = SHOWN_AS.get(key, f"{key} {{}}").format(_value(value))
    one = isinstance(value, int) and not isinstance(value, bool) and value == 1
    return shown[:-1] if one and shown.endswith("s") else shown  # "1 epoch"


def _value(value: object) -> object:
    return {True: "on", False: "off"}[value] if isinstance(value, bool) else value


def shown_default(setting: str) -> str:
    """A setting's default in words, for the help: each profile's value (then its variants' own), or
    TrainConfig's where no profile sets it."""
    settings = [*PROFILES.values(), *(own for variants in VARIANT_SETTINGS.values() for own in variants.values())]
    if not any(setting in s for s in settings):
        return str(_value(getattr(TrainConfig(), setting)))
    return "the profile's: " + ", ".join(_profile_value(profile, setting) for profile in PROFILES)


def _profile_value(profile: str, setting: str) -> str:
    """``smoke 8 (resnet50v2_finetune_aug 3)``: the profile's value of ``setting``, then its variants' own."""
    own = [f"{v} {_value(s[setting])}" for v, s in VARIANT_SETTINGS.get(profile, {}).items() if setting in s]
    shown = f"{profile} {_value(getattr(make_config(profile), setting))}"
    return f"{shown} ({', '.join(own)})" if own else shown


def parse_profile(name: str) -> str:
    """``name`` if it is a profile; OptionError naming the profiles otherwise."""
    if name not in PROFILES:
        raise OptionError(f"--profile {name}: unknown profile; choose from {', '.join(PROFILES)}")
    return name


def make_config(profile: str, variant: str | None = None, **overrides: Any) -> TrainConfig:
    """The profile's config (for ``variant``, when given) with every override that is not None applied.

    The overrides are taken as they are: the command line's are checked when they are parsed
    (:mod:`flowers.training.pytest_plugin.options`), a script's are its own."""
    own = VARIANT_SETTINGS.get(profile, {}).get(variant, {}) if variant else {}
    given = {name: value for name, value in overrides.items() if value is not None}
    return TrainConfig(**{**PROFILES[parse_profile(profile)], **own, **given})
