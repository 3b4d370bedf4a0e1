"""The variant registry: names, descriptions and the original experiment's numbers, as plain data.

Like timm's registry this module imports nothing heavy (no Keras, no TensorFlow), so ``flowers
report`` and ``flowers check`` read the same registry as the benchmark cases.  A variant is a small
declarative :class:`Variant`; building it lives in :mod:`flowers.models`.  A head is a callable
``(features tensor, num_classes) -> probabilities tensor`` or a ``"module:function"`` reference to one,
so built-in heads are imported only when a model is built.

Adding a built-in variant touches one place: a ``register(Variant(...))`` call below.  User code adds
its own the same way (``from flowers import Variant, register``), see the README.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

# Smallest input each keras.applications backbone accepts (pixels); 8 for a model without one.
BACKBONE_MIN_SIZE = {"vgg16": 32, "resnet50v2": 32, "mobilenet_v2": 32}


@dataclass(frozen=True)
class Original:
    """One model of the original experiment: its number there and its test results."""

    model: str
    test_loss: float
    test_accuracy: float


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    head: Callable | str  # (features, num_classes) -> probabilities, or "module:function"
    backbone: str | None = None  # key of flowers.models.BACKBONES
    frozen_until: str | None = None  # name of the last frozen layer; None: nothing frozen
    learning_rate: float = 1e-4
    augment: bool = False
    original: Original | None = None  # the model in the original experiment, when there was one

    @property
    def min_image_size(self) -> int:
        return BACKBONE_MIN_SIZE.get(self.backbone, 32) if self.backbone else 8

    def build_head(self) -> Callable:
        """The head as a callable (a ``"module:function"`` reference is imported here)."""
        if callable(self.head):
            return self.head
        module, _, function = self.head.partition(":")
        return getattr(importlib.import_module(module), function)

    def preprocess(self, x):
        from flowers.models import preprocess  # Keras: only when a model is built

        return preprocess(self, x)


VARIANTS: dict[str, Variant] = {}


def register(variant: Variant, *, override: bool = False) -> Variant:
    """Add ``variant`` to the registry; ``override=True`` replaces one of the same name on purpose."""
    if not isinstance(variant, Variant):
        raise TypeError(f"register() takes a flowers.Variant, not {type(variant).__name__}")
    if variant.name in VARIANTS and not override:
        raise ValueError(f"variant {variant.name!r} registered twice; pass override=True to replace it")
    if variant.backbone is not None and variant.backbone not in BACKBONE_MIN_SIZE:
        raise ValueError(f"variant {variant.name!r}: unknown backbone {variant.backbone!r}; "
                         f"choose from {', '.join(BACKBONE_MIN_SIZE)}")
    VARIANTS[variant.name] = variant
    return variant


def get_variant(name: str) -> Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown variant {name!r}; choose from {', '.join(VARIANTS)}") from None


def list_variants() -> list[str]:
    """Registered names in registration order (built-ins first)."""
    return list(VARIANTS)


def original(name: str) -> Original | None:
    """The original experiment's model and numbers for variant ``name``, if it had one."""
    variant = VARIANTS.get(name)
    return variant.original if variant else None


def description(name: str) -> str | None:
    variant = VARIANTS.get(name)
    return variant.description if variant else None


register(Variant(
    name="basic_cnn",
    description="small CNN: Conv16-Pool-Conv32-Pool-Conv64-Pool-Flatten-Dense512-Dense",
    head="flowers.models:small_cnn_head",
    original=Original("1", test_loss=0.7827, test_accuracy=0.6948),
))
register(Variant(
    name="vgg16_transfer",
    description="VGG16 (frozen) + GAP + Dense1000 + Dense",
    backbone="vgg16",
    frozen_until="block5_pool",  # the whole backbone
    head="flowers.models:vgg16_head",
    original=Original("2", test_loss=0.8474, test_accuracy=0.4091),
))
register(Variant(
    name="resnet50v2_finetune",
    description="ResNet50V2, layers[:86] frozen (to conv3_block4_out) + GAP + Dense32 + BN + Dense32 + Dense",
    backbone="resnet50v2",
    frozen_until="conv3_block4_out",
    head="flowers.models:resnet_head",
    original=Original("3.1", test_loss=0.3708, test_accuracy=0.8801),
))
register(Variant(
    name="resnet50v2_finetune_aug",
    description="resnet50v2_finetune + offline augmentation (x5: flips, brightness, contrast)",
    backbone="resnet50v2",
    frozen_until="conv3_block4_out",
    head="flowers.models:resnet_head",
    augment=True,
    original=Original("3.2", test_loss=0.3177, test_accuracy=0.9101),
))
register(Variant(
    name="mobilenet_v2_transfer",
    description="MobileNetV2 1.0 (frozen) + GAP + Dropout0.2 + Dense",
    backbone="mobilenet_v2",
    frozen_until="out_relu",  # the whole backbone
    head="flowers.models:mobilenet_head",
    learning_rate=1e-3,  # only a linear classifier trains: 1e-4 needs many more epochs to converge
))
