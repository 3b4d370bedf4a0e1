"""Variant architectures: the original's parameter counts, frozen layers, preprocessing, weights."""

import keras
import numpy as np
import pytest

from flowers.errors import OptionError, WeightsError
from flowers.registry import get_backbone, get_variant
from flowers.training import downloads
from flowers.training.models import create_model, preprocess, resolve_weights

# From the original experiment's model summaries, at 160 px.
PARAMS = {  # total, trainable
    "basic_cnn": (13_133_861, 13_133_861),
    "vgg16_transfer": (15_232_693, 518_005),
    "resnet50v2_finetune": (23_631_717, 22_140_197),
    "resnet50v2_finetune_aug": (23_631_717, 22_140_197),
}


def count(weights):
    return int(sum(np.prod(w.shape) for w in weights))


@pytest.mark.parametrize("name", PARAMS)
def test_parameter_counts_match_the_original(name):
    model = create_model(name, num_classes=5, image_size=160, weights="none")
    total, trainable = PARAMS[name]
    assert model.count_params() == total
    assert count(model.trainable_weights) == trainable
    assert count(model.non_trainable_weights) == total - trainable


def test_resnet_freezes_exactly_the_originals_first_86_layers():
    plain = keras.applications.ResNet50V2(include_top=False, weights=None, input_shape=(64, 64, 3))
    assert plain.layers[85].name == "conv3_block4_out"
    model = create_model("resnet50v2_finetune", 5, 64)
    frozen = [layer for layer in model.layers if not layer.trainable]
    assert [type(layer) for layer in frozen] == [type(layer) for layer in plain.layers[:86]]
    assert frozen[-1].name == "conv3_block4_out"
    assert all(layer.trainable for layer in model.layers[len(frozen) :])


@pytest.mark.parametrize("name", ["vgg16_transfer", "mobilenet_v2_transfer"])
def test_transfer_backbones_are_wholly_frozen(name):
    model = create_model(name, 5, 64)
    trainable_with_weights = [layer.name for layer in model.layers if layer.trainable and layer.weights]
    backbone_layers = {
        layer.name for layer in model.layers[: model.layers.index(model.get_layer(get_variant(name).frozen_until)) + 1]
    }
    assert not backbone_layers & set(trainable_with_weights)
    assert trainable_with_weights[-1] == "predictions"


@pytest.mark.parametrize("classes", [2, 3, 7])
def test_output_width_is_the_class_count(classes):
    assert create_model("basic_cnn", classes, 32).output.shape[-1] == classes


def test_vgg16_gets_caffe_preprocessing():
    white = np.full((1, 2, 2, 3), 255.0, np.float32)
    out = np.asarray(preprocess(get_variant("vgg16_transfer"), white))
    np.testing.assert_allclose(out[0, 0, 0], [255 - 103.939, 255 - 116.779, 255 - 123.68], rtol=1e-5)  # BGR


@pytest.mark.parametrize("name", ["basic_cnn", "resnet50v2_finetune", "mobilenet_v2_transfer"])
def test_other_variants_scale_to_minus_one_one(name):
    x = np.array([[[[0.0, 127.5, 255.0]]]], np.float32)
    np.testing.assert_allclose(np.asarray(preprocess(get_variant(name), x))[0, 0, 0], [-1, 0, 1], atol=1e-6)


def test_models_apply_their_own_preprocessing():
    model = create_model("vgg16_transfer", 5, 32)
    backbone = keras.Model(model.inputs, model.get_layer("block5_pool").output)
    image = np.random.default_rng(0).integers(0, 256, (1, 32, 32, 3)).astype(np.float32)
    by_hand = keras.Model(model.get_layer("block1_conv1").input, model.get_layer("block5_pool").output)
    expected = by_hand(keras.applications.vgg16.preprocess_input(image.copy()))
    np.testing.assert_allclose(backbone(image), expected, rtol=1e-4, atol=1e-4)


def test_image_size_below_backbone_minimum_is_a_clear_error():
    with pytest.raises(OptionError, match="--image-size 16: vgg16_transfer needs at least 32 px"):
        create_model("vgg16_transfer", 5, 16)


def test_weights_folder_loads_by_documented_file_name(tmp_path):
    source = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3))
    source.save_weights(tmp_path / get_backbone("mobilenet_v2").files[0])
    model = create_model("mobilenet_v2_transfer", 5, 32, weights=str(tmp_path))
    np.testing.assert_array_equal(model.get_layer("Conv1").kernel, source.get_layer("Conv1").kernel)


def test_weights_folder_without_the_file_names_it(tmp_path):
    with pytest.raises(WeightsError, match=r"vgg16_imagenet_notop\.weights\.h5"):
        resolve_weights("vgg16", str(tmp_path))


def test_weights_file_of_another_architecture_is_a_clear_error(tmp_path):
    other = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3))
    other.save_weights(tmp_path / get_backbone("vgg16").files[0])
    with pytest.raises(WeightsError, match="not vgg16 weights"):
        create_model("vgg16_transfer", 5, 32, weights=str(tmp_path))


def test_imagenet_download_failure_names_the_offline_option(monkeypatch):
    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setattr("keras.src.applications.vgg16.file_utils.get_file", offline)
    monkeypatch.setattr(downloads, "check_keras_weights", lambda name, what: True)  # host reachable, download fails
    with pytest.raises(WeightsError, match=r"could not be downloaded .*--weights DIR") as err:
        create_model("vgg16_transfer", 5, 32, weights="imagenet")
    assert "\n" not in str(err.value)
