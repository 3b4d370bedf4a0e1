"""The variant registry: names, descriptions, backbones and the original experiment's numbers, as plain data.

Like timm's registry this module imports nothing heavy (no Keras, no TensorFlow), so ``flowers
report`` and ``flowers check`` read the same registry as the benchmark cases.  A variant is a small
declarative :class:`Variant`; its backbone a :class:`Backbone` named by key; building either lives
in :mod:`flowers.training.models`.  Code is referenced as ``"module:attr"`` strings (a head may also be a
callable), imported only when a model is built (:func:`load`).

A variant also carries the forward FLOPs of its model counted at two image sizes (:class:`Flops`), so
that :mod:`flowers.shards` can balance shards by expected cost without building a model
(:func:`flowers.cost.forward_flops` reads any size off them; a variant without them is counted on its
built model by the training side).

Adding a built-in variant touches one place: a ``register(Variant(...))`` call below.  User code adds
its own the same way (``from flowers import Variant, register``), see docs/variants.md.  The registry's
state is private: :func:`register`, :func:`get_variant`, :func:`list_variants` and :func:`get_backbone`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Backbone:
    """A ``keras.applications`` backbone as plain data (built by :func:`flowers.training.models.create_model`)."""

    name: str
    constructor: str  # "module:attr", called with include_top=False, weights, input_tensor, input_shape
    preprocess: str  # "module:attr": the backbone's own preprocess_input (raw RGB 0-255 in)
    # Weight file names looked up in a --weights DIR folder: ours first, then Keras' own download name
    # (so that a copy of ~/.keras/models works too; the ImageNet record names the latter).
    files: tuple[str, str]
    output: str  # the backbone's last layer, whose output the head takes (where the head starts)
    min_size: int = 32  # smallest input Keras accepts, in pixels


@dataclass(frozen=True)
class Note:
    """Why a variant's figures may be far from the original's, shown under the report's table when
    our test accuracy is more than ``above`` over the original's."""

    reason: str  # a few words beside the row
    text: str  # the note under the table
    above: float = 0.10


@dataclass(frozen=True)
class Original:
    """One model of the original experiment: its number there, its test results and any note on them."""

    model: str
    test_loss: float
    test_accuracy: float
    note: Note | None = None


@dataclass(frozen=True)
class Flops:
    """Forward FLOPs per image (5 classes) of a variant's frozen prefix and trainable suffix, as
    :func:`flowers.training.measure.forward_flops` counts them at two image sizes; the test suite
    recounts them (tests/test_shards.py), so they cannot go stale."""

    sizes: tuple[int, int]  # the image sizes counted at, in pixels
    prefix: tuple[int, int]  # the frozen prefix's count at each size (0, 0 when nothing is frozen)
    suffix: tuple[int, int]  # the trainable suffix's count at each size

    def __post_init__(self) -> None:
        if not 0 < self.sizes[0] < self.sizes[1]:
            raise ValueError(f"Flops sizes {self.sizes}: two image sizes, the smaller first")


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    head: Callable | str  # (features, num_classes) -> probabilities, or "module:function"
    backbone: str | None = None  # a registered Backbone's name (get_backbone)
    frozen_until: str | None = None  # name of the last frozen layer; None: nothing frozen
    learning_rate: float = 1e-4
    augment: bool = False
    original: Original | None = None  # the model in the original experiment, when there was one
    flops: Flops | None = None  # the model's counted forward FLOPs; None: counted when shards are balanced

    @property
    def min_image_size(self) -> int:
        """Smallest image size this variant takes: its backbone's, else 8 (three 2x poolings)."""
        return get_backbone(self.backbone).min_size if self.backbone else 8

    def build_head(self) -> Callable:
        """The head as a callable (a ``"module:function"`` reference is imported here)."""
        return self.head if callable(self.head) else load(self.head)


def load(reference: str) -> Any:
    """The object a ``"module:attr"`` reference names (the module is imported now)."""
    module, _, attr = reference.partition(":")
    return getattr(importlib.import_module(module), attr)


_BACKBONES: dict[str, Backbone] = {
    backbone.name: backbone
    for backbone in (
        Backbone(
            "vgg16",
            "keras.applications:VGG16",
            "keras.applications.vgg16:preprocess_input",  # caffe: RGB->BGR, minus ImageNet means
            ("vgg16_imagenet_notop.weights.h5", "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"),
            "block5_pool",
        ),
        Backbone(
            "resnet50v2",
            "keras.applications:ResNet50V2",
            "keras.applications.resnet_v2:preprocess_input",  # [-1, 1]
            ("resnet50v2_imagenet_notop.weights.h5", "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5"),
            "post_relu",
        ),
        Backbone(
            "mobilenet_v2",
            "keras.applications:MobileNetV2",  # alpha 1.0, Keras' default
            "keras.applications.mobilenet_v2:preprocess_input",  # [-1, 1]
            (
                "mobilenet_v2_1.0_imagenet_notop.weights.h5",
                "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
            ),
            "out_relu",
        ),
    )
}
_VARIANTS: dict[str, Variant] = {}  # name -> variant, in registration order (built-ins first)

AUGMENT_FACTOR = 5  # offline augmentation (Variant.augment): each training image and 4 altered copies


def get_backbone(name: str) -> Backbone:
    try:
        return _BACKBONES[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; choose from {', '.join(_BACKBONES)}") from None


def register(variant: Variant, *, override: bool = False) -> Variant:
    """Add ``variant`` to the registry; ``override=True`` replaces one of the same name on purpose."""
    if not isinstance(variant, Variant):
        raise TypeError(f"register() takes a flowers.Variant, not {type(variant).__name__}")
    if variant.name in _VARIANTS and not override:
        raise ValueError(f"variant {variant.name!r} registered twice; pass override=True to replace it")
    if variant.backbone is not None and variant.backbone not in _BACKBONES:
        raise ValueError(
            f"variant {variant.name!r}: unknown backbone {variant.backbone!r}; choose from {', '.join(_BACKBONES)}"
        )
    _VARIANTS[variant.name] = variant
    return variant


def get_variant(name: str) -> Variant:
    try:
        return _VARIANTS[name]
    except KeyError:
        raise ValueError(f"unknown variant {name!r}; choose from {', '.join(_VARIANTS)}") from None


def list_variants() -> list[str]:
    """Registered names in registration order (built-ins first)."""
    return list(_VARIANTS)


def ordered(names: list[str]) -> list[str]:
    """Registered variants in registry order, then the others in first-seen order."""
    return [v for v in _VARIANTS if v in names] + [v for v in dict.fromkeys(names) if v not in _VARIANTS]


def original(name: str) -> Original | None:
    """The original experiment's model and numbers for variant ``name``, if it had one."""
    variant = _VARIANTS.get(name)
    return variant.original if variant else None


def description(name: str) -> str | None:
    variant = _VARIANTS.get(name)
    return variant.description if variant else None


register(
    Variant(
        name="basic_cnn",
        description="small CNN: Conv16-Pool-Conv32-Pool-Conv64-Pool-Flatten-Dense512-Dense",
        head="flowers.training.models:small_cnn_head",
        original=Original("1", test_loss=0.7827, test_accuracy=0.6948),
        flops=Flops((32, 160), prefix=(0, 0), suffix=(6_721_054, 167_890_462)),
    )
)
register(
    Variant(
        name="vgg16_transfer",
        description="VGG16 (frozen) + GAP + Dense1000 + Dense",
        backbone="vgg16",
        frozen_until="block5_pool",  # the whole backbone
        head="flowers.training.models:vgg16_head",
        original=Original(
            "2",
            test_loss=0.8474,
            test_accuracy=0.4091,
            note=Note(
                reason="the preprocessing differs",
                text="The original fed VGG16 images scaled to [-1, 1] instead of VGG16's own caffe-style preprocessing "
                "(BGR, ImageNet channel means subtracted); this suite gives every backbone its own "
                "keras.applications preprocess_input, which is why its VGG16 row is far above 0.41.",
            ),
        ),
        flops=Flops((32, 160), prefix=(626_797_568, 15_669_939_200), suffix=(1_035_542, 1_047_830)),
    )
)
# The two ResNet50V2 variants share one model (augmentation changes the data, not the model).
_RESNET_FINETUNE_FLOPS = Flops((32, 160), prefix=(61_097_088, 1_526_883_456), suffix=(81_796_254, 2_038_967_454))
register(
    Variant(
        name="resnet50v2_finetune",
        description="ResNet50V2, layers[:86] frozen (to conv3_block4_out) + GAP + Dense32 + BN + Dense32 + Dense",
        backbone="resnet50v2",
        frozen_until="conv3_block4_out",
        head="flowers.training.models:resnet_head",
        original=Original("3.1", test_loss=0.3708, test_accuracy=0.8801),
        flops=_RESNET_FINETUNE_FLOPS,
    )
)
register(
    Variant(
        name="resnet50v2_finetune_aug",
        description="resnet50v2_finetune + offline augmentation (x5: flips, brightness, contrast)",
        backbone="resnet50v2",
        frozen_until="conv3_block4_out",
        head="flowers.training.models:resnet_head",
        augment=True,
        original=Original("3.2", test_loss=0.3177, test_accuracy=0.9101),
        flops=_RESNET_FINETUNE_FLOPS,
    )
)
register(
    Variant(
        name="mobilenet_v2_transfer",
        description="MobileNetV2 1.0 (frozen) + GAP + Dropout0.2 + Dense",
        backbone="mobilenet_v2",
        frozen_until="out_relu",  # the whole backbone
        head="flowers.training.models:mobilenet_head",
        learning_rate=1e-3,  # only a linear classifier trains: 1e-4 needs many more epochs to converge
        flops=Flops((32, 160), prefix=(12_609_728, 312_787_136), suffix=(14_110, 44_830)),
    )
)
