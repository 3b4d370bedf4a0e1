"""Building the registered variants: backbones, heads, weights and one ``create_model()``.

Every model takes raw RGB images (0-255) and does its own backbone's ``preprocess_input`` as its
first step, so a variant's data pipeline never needs to know which backbone it feeds.  A variant
that starts with frozen layers names the last frozen layer (``frozen_until``); everything up to it
runs in inference mode and is what :mod:`flowers.training.features` computes once and caches.

The variants and backbones themselves (names, descriptions, specs) live in :mod:`flowers.registry`,
which imports no Keras.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
from keras import layers

from flowers import schema
from flowers.errors import DataError, DownloadError, OptionError, WeightsError
from flowers.registry import Variant, get_backbone, get_variant, load
from flowers.text import one_line
from flowers.training import downloads
from flowers.training.profiles import CALIBRATED, WEIGHT_MODES
from flowers.training.progress import SILENT, Progress

# Weights (flowers.training.profiles.WEIGHT_MODES): random initialisation calibrated on training images is
# data-dependent initialisation, for the smoke profile.  A randomly initialised backbone keeps
# BatchNorm's initial moving statistics (mean 0, variance 1), which do not match its activations,
# so a frozen MobileNetV2 outputs near-constant features (std ~1e-12 across images); VGG16 has no
# BatchNorm and its activations shrink layer by layer.  Calibrating re-estimates every BatchNorm
# layer's statistics, or, in a backbone without BatchNorm, scales each convolution to unit output
# variance (LSUV, Mishkin & Matas 2016).  Even calibrated, 17 random MobileNetV2 blocks lose the
# classes (a linear probe on its last features reaches 0.1-0.3 on the synthetic set), so
# calibration also starts each residual block as the identity and makes depthwise filters smooth
# (see calibrate); CALIBRATION_VERSION names this recipe in each result's weights record.
CALIBRATION_IMAGES = 256  # training images used to re-estimate the BatchNorm statistics
SCALING_IMAGES = 64  # of those, used to scale the convolutions of a backbone without BatchNorm
CALIBRATION_VERSION = 2  # 1: BatchNorm statistics only; 2: also identity residual blocks, smooth depthwise filters


def scale_to_unit_range(x):
    """The original's preprocessing for its small CNN: [0, 255] -> [-1, 1]."""
    return x / 127.5 - 1.0


def declared_preprocessing(variant: Variant) -> str:
    """The ``"module:function"`` the variant's inputs should get: its backbone's ``preprocess_input``,
    else :func:`scale_to_unit_range`."""
    return get_backbone(variant.backbone).preprocess if variant.backbone else f"{__name__}:scale_to_unit_range"


def preprocess(variant: Variant, x):
    """The variant's own input preprocessing: its backbone's ``preprocess_input``, else [-1, 1]."""
    return load(get_backbone(variant.backbone).preprocess)(x) if variant.backbone else scale_to_unit_range(x)


def classifier(num_classes: int):
    # float32 even under mixed precision, so the softmax and the loss stay numerically stable
    return layers.Dense(num_classes, activation="softmax", name="predictions", dtype="float32")


def small_cnn_head(x, num_classes):
    for filters in (16, 32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(512, activation="relu")(x)
    return classifier(num_classes)(x)


def vgg16_head(x, num_classes):
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(1000, activation="relu")(x)
    return classifier(num_classes)(x)


def resnet_head(x, num_classes):
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dense(32, activation="relu")(x)
    return classifier(num_classes)(x)


def mobilenet_head(x, num_classes):
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    return classifier(num_classes)(x)


def resolve_weights(backbone: str, weights: str) -> str | None:
    """``imagenet`` (Keras' download and cache), ``none`` / ``random-calibrated`` (random init) or a folder of
    weight files."""
    if weights == "imagenet":
        return "imagenet"
    if weights in ("none", CALIBRATED, None):
        return None
    return weights_file(backbone, weights)


def weights_file(backbone: str, weights: str) -> str:
    """The path of ``backbone``'s weights in the folder ``weights``."""
    folder = Path(weights)
    if not folder.is_dir():
        raise WeightsError(f"--weights {weights}: not {', '.join(WEIGHT_MODES)} or an existing folder of weight files")
    names = get_backbone(backbone).files
    for name in names:
        if (folder / name).is_file():
            return str(folder / name)
    raise WeightsError(f"--weights {weights}: no {backbone} weights there; expected a file named {' or '.join(names)}")


_SHA256: dict[tuple, str] = {}  # (path, size, mtime) -> hex digest: each weights file is hashed once


def file_sha256(path: str) -> str:
    stat = Path(path).stat()
    key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA256:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        _SHA256[key] = digest.hexdigest()
    return _SHA256[key]


def weights_identity(name: str, weights: str, calibration_images: int = 0) -> dict:
    """Which weights a model of variant ``name`` started from, as recorded in a result.

    ``{"source": "none"}`` (random, or no backbone), ``{"source": "imagenet", "file": Keras' file
    name}``, ``{"source": "file", "file", "sha256"}`` or ``{"source": "random-calibrated", "images": N,
    "version": CALIBRATION_VERSION}``.
    """
    variant = get_variant(name)
    if not variant.backbone or weights in ("none", None):
        return {schema.WEIGHTS_SOURCE: "none"}
    if weights == CALIBRATED:
        return {
            schema.WEIGHTS_SOURCE: CALIBRATED,
            schema.WEIGHTS_IMAGES: int(calibration_images),
            schema.WEIGHTS_VERSION: CALIBRATION_VERSION,
        }
    if weights == "imagenet":
        return {schema.WEIGHTS_SOURCE: "imagenet", schema.WEIGHTS_FILE: get_backbone(variant.backbone).files[1]}
    path = weights_file(variant.backbone, weights)
    return {
        schema.WEIGHTS_SOURCE: "file",
        schema.WEIGHTS_FILE: Path(path).name,
        schema.WEIGHTS_SHA256: file_sha256(path),
    }


def calibration_sample(images: np.ndarray) -> np.ndarray:
    """Up to CALIBRATION_IMAGES images spread evenly over ``images`` (deterministic)."""
    step = max(1, len(images) // CALIBRATION_IMAGES)
    return images[::step][:CALIBRATION_IMAGES]


def recalibrate_batchnorm(model: keras.Model, images: np.ndarray) -> None:
    """Set every BatchNorm layer's moving mean and variance to the statistics of ``images``.

    One forward pass in training mode with momentum 0: each BatchNorm layer normalises with, and
    stores, the batch statistics of its own input, so later layers see the activations they will see
    in inference mode.  The layers must still be trainable (Keras uses batch statistics only then).
    """
    norms = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    momenta = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0
    try:
        model([images], training=True)
    finally:
        for layer, momentum in zip(norms, momenta):
            layer.momentum = momentum


def scale_convolutions(model: keras.Model, images: np.ndarray) -> None:
    """Scale each Conv2D kernel, in order, so that its output has unit standard deviation on ``images``.

    For a backbone without BatchNorm: ReLU is positively homogeneous and the biases start at zero,
    so dividing a kernel by its output's standard deviation makes that output's exactly 1.
    """
    for conv in [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]:
        std = float(np.std(keras.Model(model.inputs, conv.output).predict_on_batch(images)))
        if std > 0:
            conv.kernel.assign(conv.kernel / std)


def zero_residual_branches(model: keras.Model) -> None:
    """Zero the scale of each BatchNorm that ends a residual branch, so that each residual block
    starts as the identity (Goyal et al. 2017; torchvision's ``zero_init_residual``): a random
    network then mixes its input only in its non-residual blocks.  Of an ``Add``'s inputs, the
    branch is the one computed last (the skip was computed before the branch began)."""
    order = {id(layer.output): (i, layer) for i, layer in enumerate(model.layers)}
    for add in [layer for layer in model.layers if isinstance(layer, layers.Add)]:
        _, last = max(order[id(tensor)] for tensor in add.input)
        if isinstance(last, layers.BatchNormalization) and last.scale:
            last.gamma.assign(np.zeros(last.gamma.shape, "float32"))


def smooth_depthwise(model: keras.Model) -> None:
    """Make every depthwise kernel non-negative.  A depthwise filter sees one channel; a random
    zero-mean one removes most of that channel's local mean, which is where a random network carries
    colour and coarse shape, while a non-negative one averages it (and its stride subsamples less noise)."""
    for layer in model.layers:
        if isinstance(layer, layers.DepthwiseConv2D):
            layer.kernel.assign(keras.ops.abs(layer.kernel))


def calibrate(model: keras.Model, images: np.ndarray, count: Callable[[int], None] | None = None) -> None:
    """Data-dependent initialisation of a random backbone (see CALIBRATED and CALIBRATION_VERSION).

    With BatchNorm: identity residual blocks, smooth depthwise filters, then BatchNorm statistics
    re-estimated on ``images`` (on the synthetic set a linear probe on MobileNetV2's last features
    goes from 0.1-0.3 to 0.8-1.0 test accuracy).  Without: each convolution scaled (LSUV).
    ``count`` is told the number of images it calibrated on, once done (the weights' record).
    """
    if any(isinstance(layer, layers.BatchNormalization) for layer in model.layers):
        zero_residual_branches(model)
        smooth_depthwise(model)
        recalibrate_batchnorm(model, images)
    else:
        scale_convolutions(model, images[:SCALING_IMAGES])
    if count is not None:
        count(len(images))


def _backbone(backbone: str, x, image_size: int, weights: str, progress: Progress):
    spec = get_backbone(backbone)
    source = resolve_weights(backbone, weights)
    what, offline = f"ImageNet weights for {backbone}", f" holding {spec.files[0]}"
    download = False
    if source == "imagenet":
        try:  # offline: fails within seconds, once per process, instead of Keras' own retries
            download = downloads.check_keras_weights(spec.files[1], what)
        except DownloadError as exc:
            raise WeightsError(f"{exc}{offline}") from None
    if download:
        progress(f"downloading {what} into Keras' cache (once)")
    try:  # on a terminal, Keras' own download bar shows
        with progress.terminal() if download and progress.live else contextlib.nullcontext():
            return load(spec.constructor)(
                include_top=False, weights=source, input_tensor=x, input_shape=(image_size, image_size, 3)
            )
    except Exception as exc:  # noqa: BLE001 - one line for the user, whatever Keras raised
        reason = one_line(exc, 200)
        if source == "imagenet":
            raise WeightsError(
                f"{what} could not be downloaded ({reason}); {downloads.WEIGHTS_HINT}{offline}"
            ) from None
        raise WeightsError(f"{source}: not {backbone} weights ({reason}); use the file for this backbone") from None


def create_model(
    name: str,
    num_classes: int,
    image_size: int,
    weights: str = "none",
    calibration: np.ndarray | None = None,
    progress: Progress | None = None,
    count: Callable[[int], None] | None = None,
) -> keras.Model:
    """Build variant ``name`` as one flat functional model: raw RGB in, class probabilities out.

    Layers up to ``frozen_until`` are frozen (non-trainable, so BatchNorm runs in inference mode).
    With ``weights="random-calibrated"`` the random backbone is first calibrated on ``calibration``
    (training images; see :func:`calibrate`, which tells ``count`` how many).  ``progress`` is told
    when ImageNet weights download.
    """
    variant = get_variant(name)
    if image_size < variant.min_image_size:
        raise OptionError(f"--image-size {image_size}: {name} needs at least {variant.min_image_size} px")
    if num_classes < 2:
        raise DataError(f"{name}: needs at least 2 classes, the data has {num_classes}")
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = preprocess(variant, inputs)
    if variant.backbone:
        base = _backbone(variant.backbone, x, image_size, weights, progress or SILENT)
        if weights == CALIBRATED:
            if calibration is None or not len(calibration):
                raise OptionError(f"--weights {CALIBRATED}: needs training images to calibrate on")
            calibrate(base, calibration_sample(calibration), count)
        for layer in base.layers:
            layer.trainable = False
            if layer.name == variant.frozen_until:
                break
        x = base.output
    outputs = variant.build_head()(x, num_classes)
    return keras.Model(inputs, outputs, name=name)
