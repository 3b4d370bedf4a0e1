"""Model fingerprints and architecture records; the registry; weights identities; calibrated weights."""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from flowers import registry
from flowers.errors import OptionError
from flowers.training import architecture
from flowers.training.data import load
from flowers.training.models import CALIBRATION_IMAGES, create_model, file_sha256, small_cnn_head, weights_identity


def recorded(name, size=32, classes=5):
    return architecture.record(create_model(name, classes, size), registry.get_variant(name), size, classes)


def test_registry_report_and_check_import_no_keras():
    code = (
        "import sys, flowers, flowers.registry, flowers.report, flowers.check; "
        "assert not {'keras', 'tensorflow'} & set(sys.modules), 'heavy import'; "
        "print(len(flowers.registry.list_variants()))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "5", proc.stderr


def test_register_refuses_a_second_variant_of_a_name_and_an_unknown_backbone():
    with pytest.raises(ValueError, match="registered twice; pass override=True"):
        registry.register(registry.get_variant("basic_cnn"))
    with pytest.raises(ValueError, match="unknown backbone 'efficientnet'"):
        registry.register(registry.Variant("x", "x", head=small_cnn_head, backbone="efficientnet"))


def test_fingerprint_is_stable_and_ignores_weights():
    first, second = recorded("basic_cnn"), recorded("basic_cnn")  # new random weights, new layer names
    assert first == second
    assert recorded("basic_cnn", size=48)["model_fingerprint"] != first["model_fingerprint"]
    assert recorded("basic_cnn", classes=3)["model_fingerprint"] != first["model_fingerprint"]


def test_backbone_record_is_compact_with_the_trainable_part_in_full():
    rec = recorded("resnet50v2_finetune")
    arch = rec["architecture"]
    assert (arch["backbone"], arch["frozen_until"], arch["frozen_layers"]) == ("resnet50v2", "conv3_block4_out", 85)
    assert arch["layers"][-1] == {"class": "Dense", "activation": "softmax", "units": 5}
    assert not any(layer.get("frozen") for layer in arch["layers"])
    assert len(json.dumps(rec)) < 10_000


def test_weights_identity(tmp_path):
    assert weights_identity("basic_cnn", "imagenet") == {"source": "none"}  # no backbone
    assert weights_identity("vgg16_transfer", "imagenet") == {
        "source": "imagenet",
        "file": "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
    }
    path = tmp_path / registry.get_backbone("vgg16").files[0]
    path.write_bytes(b"not really weights")
    identity = weights_identity("vgg16_transfer", str(tmp_path))
    assert identity == {"source": "file", "file": path.name, "sha256": file_sha256(str(path))}
    assert identity["sha256"] == hashlib.sha256(b"not really weights").hexdigest()


@pytest.mark.parametrize("name", ["mobilenet_v2_transfer", "vgg16_transfer"])
def test_calibrated_random_backbones_carry_signal(name):
    """Random frozen backbones: with BatchNorm's initial statistics (MobileNetV2) or shrinking
    activations (VGG16) their features hardly vary between images; calibrated, they do."""
    import keras

    splits = load("synthetic", 32)
    cut = registry.get_variant(name).frozen_until
    spread = {}
    for weights in ("none", "random-calibrated"):
        keras.utils.set_random_seed(0)
        model = create_model(name, 5, 32, weights, calibration=splits.x_train)
        features = np.asarray(keras.Model(model.inputs, model.get_layer(cut).output).predict(splits.x_test, verbose=0))
        spread[weights] = float(features.std(axis=0).mean())
    assert spread["random-calibrated"] > 0.1
    assert spread["random-calibrated"] > 10 * spread["none"]  # MobileNetV2: ~1e-12 uncalibrated; VGG16: ~0.02
    assert weights_identity(name, "random-calibrated", CALIBRATION_IMAGES)["source"] == "random-calibrated"


def test_calibrated_weights_need_training_images():
    with pytest.raises(OptionError, match="--weights random-calibrated: needs training images"):
        create_model("mobilenet_v2_transfer", 5, 32, "random-calibrated")


def test_calibrated_mobilenet_features_tell_the_classes_apart():
    """The point of the recipe's version 2: a random MobileNetV2 whose last features a linear probe
    can read (scripts/calibration_probe.py prints it for several seeds; chance is 0.2)."""
    from flowers.training import models
    from scripts import calibration_probe

    splits = load("synthetic", calibration_probe.SIZE)
    assert calibration_probe.probe(splits, 0, models.recalibrate_batchnorm) <= 0.4  # version 1: near chance
    assert calibration_probe.probe(splits, 0, models.calibrate) >= 0.6
