"""Model variants: one registry of small declarative specs and one ``create_model()``.

Every model takes raw RGB images (0-255) and does its own backbone's ``preprocess_input`` as its
first step, so a variant's data pipeline never needs to know which backbone it feeds.  A variant
that starts with frozen layers names the last frozen layer (``frozen_until``); everything up to it
runs in inference mode and is what :mod:`flowers.features` computes once and caches.

Adding a variant touches one place: a ``register(Variant(...))`` call below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import keras
from keras import layers

# Backbones from keras.applications: constructor, preprocessing module, minimum input size, and the
# weight file names looked up in a ``--weights DIR`` folder (our name first, then Keras' own
# download name, so a copy of ~/.keras/models works too).
BACKBONES = {
    "vgg16": dict(
        app=keras.applications.VGG16,
        preprocess=keras.applications.vgg16.preprocess_input,  # caffe: RGB->BGR, minus ImageNet means
        min_size=32,
        files=("vgg16_imagenet_notop.weights.h5", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ),
    "resnet50v2": dict(
        app=keras.applications.ResNet50V2,
        preprocess=keras.applications.resnet_v2.preprocess_input,  # [-1, 1]
        min_size=32,
        files=("resnet50v2_imagenet_notop.weights.h5", "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ),
    "mobilenet_v2": dict(
        app=lambda **kw: keras.applications.MobileNetV2(alpha=1.0, **kw),
        preprocess=keras.applications.mobilenet_v2.preprocess_input,  # [-1, 1]
        min_size=32,
        files=(
            "mobilenet_v2_1.0_imagenet_notop.weights.h5",
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
        ),
    ),
}


class WeightsError(ValueError):
    """Pretrained weights that cannot be had; one line naming the fix."""


def scale_to_unit_range(x):
    """The original's preprocessing for its small CNN: [0, 255] -> [-1, 1]."""
    return x / 127.5 - 1.0


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    head: Callable  # (features tensor, num_classes) -> logits tensor; the trainable layers on top
    backbone: str | None = None  # key of BACKBONES
    frozen_until: str | None = None  # name of the last frozen layer; None: nothing frozen
    learning_rate: float = 1e-4
    augment: bool = False
    original: str | None = None  # model number in the original experiment
    tags: tuple[str, ...] = field(default=())

    @property
    def min_image_size(self) -> int:
        return BACKBONES[self.backbone]["min_size"] if self.backbone else 8

    def preprocess(self, x):
        return BACKBONES[self.backbone]["preprocess"](x) if self.backbone else scale_to_unit_range(x)


VARIANTS: dict[str, Variant] = {}


def register(variant: Variant) -> Variant:
    if variant.name in VARIANTS:
        raise ValueError(f"variant {variant.name!r} registered twice")
    VARIANTS[variant.name] = variant
    return variant


def get_variant(name: str) -> Variant:
    try:
        return VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown variant {name!r}; choose from {', '.join(VARIANTS)}") from None


def classifier(num_classes: int):
    # float32 even under mixed precision, so the softmax and the loss stay numerically stable
    return layers.Dense(num_classes, activation="softmax", name="predictions", dtype="float32")


def _small_cnn_head(x, num_classes):
    for filters in (16, 32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(512, activation="relu")(x)
    return classifier(num_classes)(x)


def _vgg16_head(x, num_classes):
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(1000, activation="relu")(x)
    return classifier(num_classes)(x)


def _resnet_head(x, num_classes):
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dense(32, activation="relu")(x)
    return classifier(num_classes)(x)


def _mobilenet_head(x, num_classes):
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    return classifier(num_classes)(x)


register(Variant(
    name="basic_cnn",
    description="small CNN: Conv16-Pool-Conv32-Pool-Conv64-Pool-Flatten-Dense512-Dense",
    head=_small_cnn_head,
    original="1",
))
register(Variant(
    name="vgg16_transfer",
    description="VGG16 (frozen) + GAP + Dense1000 + Dense",
    backbone="vgg16",
    frozen_until="block5_pool",  # the whole backbone
    head=_vgg16_head,
    original="2",
))
register(Variant(
    name="resnet50v2_finetune",
    description="ResNet50V2, layers[:86] frozen (to conv3_block4_out) + GAP + Dense32 + BN + Dense32 + Dense",
    backbone="resnet50v2",
    frozen_until="conv3_block4_out",
    head=_resnet_head,
    original="3.1",
))
register(Variant(
    name="resnet50v2_finetune_aug",
    description="resnet50v2_finetune + offline augmentation (x5: flips, brightness, contrast)",
    backbone="resnet50v2",
    frozen_until="conv3_block4_out",
    head=_resnet_head,
    augment=True,
    original="3.2",
))
register(Variant(
    name="mobilenet_v2_transfer",
    description="MobileNetV2 1.0 (frozen) + GAP + Dropout0.2 + Dense",
    backbone="mobilenet_v2",
    frozen_until="out_relu",  # the whole backbone
    head=_mobilenet_head,
    learning_rate=1e-3,  # only a linear classifier trains: 1e-4 needs many more epochs to converge
))


def resolve_weights(backbone: str, weights: str) -> str | None:
    """``imagenet`` (Keras' download and cache), ``none`` (random init) or a folder of weight files."""
    if weights == "imagenet":
        return "imagenet"
    if weights in ("none", None):
        return None
    folder = Path(weights)
    if not folder.is_dir():
        raise WeightsError(f"--weights {weights}: not imagenet, none or an existing folder of weight files")
    names = BACKBONES[backbone]["files"]
    for name in names:
        if (folder / name).is_file():
            return str(folder / name)
    raise WeightsError(f"--weights {weights}: no {backbone} weights there; expected a file named {' or '.join(names)}")


def _backbone(variant: Variant, x, image_size: int, weights: str):
    spec = BACKBONES[variant.backbone]
    source = resolve_weights(variant.backbone, weights)
    try:
        return spec["app"](include_top=False, weights=source, input_tensor=x, input_shape=(image_size, image_size, 3))
    except Exception as exc:  # noqa: BLE001 - one line for the user, whatever Keras raised
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        if source == "imagenet":
            raise WeightsError(
                f"ImageNet weights for {variant.backbone} could not be downloaded ({reason}); "
                f"offline, use --weights DIR with {spec['files'][0]}"
            ) from None
        raise WeightsError(f"{source}: not {variant.backbone} weights ({reason}); use the file for this backbone") from None


def create_model(name: str, num_classes: int, image_size: int, weights: str = "none") -> keras.Model:
    """Build variant ``name`` as one flat functional model: raw RGB in, class probabilities out.

    Layers up to ``frozen_until`` are frozen (non-trainable, so BatchNorm runs in inference mode).
    """
    variant = get_variant(name)
    if image_size < variant.min_image_size:
        raise ValueError(f"--image-size {image_size}: {name} needs at least {variant.min_image_size} px")
    if num_classes < 2:
        raise ValueError(f"{name}: needs at least 2 classes, the data has {num_classes}")
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = variant.preprocess(inputs)
    if variant.backbone:
        base = _backbone(variant, x, image_size, weights)
        for layer in base.layers:
            layer.trainable = False
            if layer.name == variant.frozen_until:
                break
        x = base.output
    outputs = variant.head(x, num_classes)
    return keras.Model(inputs, outputs, name=name)
