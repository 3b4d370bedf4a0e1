"""What a model is, read from the model as built (flowers/training/identity.py, flowers/training/preprocessing.py):
the preprocessing found by what it does, whichever way it was changed (the registry or the code
that builds the model), the layers and their trainable flags, the head; and the words
``flowers check`` then shows (flowers/facts.py).  Models are built, none trained."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from flowers import facts, registry
from flowers.results import Case
from flowers.training import identity, models, preprocessing
from flowers.training.models import create_model

BUILT_IN = {
    "basic_cnn": "flowers.training.models:scale_to_unit_range",
    "vgg16_transfer": "keras.applications.vgg16:preprocess_input",
    "resnet50v2_finetune": "keras.applications.resnet_v2:preprocess_input",
    "mobilenet_v2_transfer": "keras.applications.mobilenet_v2:preprocess_input",
}


def recorded(name: str, size: int = 32) -> dict:
    return identity.record(create_model(name, 5, size), registry.get_variant(name))


def case(record: dict) -> Case:
    return Case("v[seed=0]", "v", 0, "ok", info={"identity": record})


def said(before: dict, after: dict) -> list[str]:
    """The check's words for the difference between two identity records."""
    return [d.text for d in facts.case_differences(case(before), case(after), same_machine=True)]


@pytest.fixture
def swap(monkeypatch):
    """Replace a registered variant for one test, through register (restored afterwards)."""
    replaced = {}

    def replace(name, **changes):
        replaced.setdefault(name, registry.get_variant(name))
        registry.register(dataclasses.replace(registry.get_variant(name), **changes), override=True)

    yield replace
    for variant in replaced.values():
        registry.register(variant, override=True)


@pytest.mark.parametrize("name", list(BUILT_IN))
def test_each_variant_records_its_own_preprocessing(name):
    assert recorded(name)["preprocessing"]["function"] == BUILT_IN[name]


def test_a_preprocessing_swapped_in_the_code_is_found_by_what_it_does(monkeypatch):
    before = recorded("vgg16_transfer")
    assert before["preprocessing"] == {
        "function": "keras.applications.vgg16:preprocess_input",
        "mode": "caffe",
        "channels": "BGR",
        "mean": [103.939, 116.779, 123.68],
        "range": [-123.68, 151.061],
        "digest": before["preprocessing"]["digest"],
    }
    # the original experiment's bug: VGG16 fed images scaled to [-1, 1]
    monkeypatch.setattr(models, "preprocess", lambda variant, x: models.scale_to_unit_range(x))
    after = recorded("vgg16_transfer")
    assert said(before, after) == [
        "preprocessing keras.applications.vgg16:preprocess_input → keras.applications.resnet_v2:preprocess_input "
        "(caffe → tf)"
    ]


def test_a_preprocessing_swapped_in_the_registry_is_found_too(monkeypatch):
    before = recorded("mobilenet_v2_transfer")
    vgg16 = registry.get_backbone("vgg16")
    mobilenet = dataclasses.replace(registry.get_backbone("mobilenet_v2"), preprocess=vgg16.preprocess)
    monkeypatch.setattr(models, "get_backbone", lambda name: mobilenet if name == "mobilenet_v2" else vgg16)
    after = recorded("mobilenet_v2_transfer")
    assert said(before, after) == [
        "preprocessing keras.applications.mobilenet_v2:preprocess_input → keras.applications.vgg16:preprocess_input "
        "(tf → caffe)"
    ]


def test_an_unknown_preprocessing_is_recorded_by_its_output(monkeypatch):
    monkeypatch.setattr(models, "preprocess", lambda variant, x: x / 255.0)
    first = recorded("basic_cnn")["preprocessing"]
    assert first["function"] == "unknown" and first["range"] == [0.0, 1.0]
    assert recorded("basic_cnn")["preprocessing"] == first  # the same function, the same record
    monkeypatch.setattr(models, "preprocess", lambda variant, x: x / 128.0)
    assert recorded("basic_cnn")["preprocessing"]["digest"] != first["digest"]


def test_the_probe_shows_channel_order_scale_and_offset():
    image = preprocessing.probe(16)
    assert image.shape == (1, 16, 16, 3) and image.min() == 0 and image.max() == 255
    assert not any(np.array_equal(image[..., i], image[..., j]) for i, j in ((0, 1), (0, 2), (1, 2)))


def test_the_record_is_the_same_whatever_was_built_before():
    """Keras numbers the layer names it makes up (dense_7 after seven Dense layers): left out."""
    first = recorded("basic_cnn")
    create_model("vgg16_transfer", 5, 32)
    assert recorded("basic_cnn") == first
    assert first["layers"][-2:] == ["dense Dense trainable", "predictions Dense trainable"]


def test_layers_unfrozen_are_named(swap):
    before = recorded("vgg16_transfer")
    assert before["layers"][-6:-3] == [
        "block5_conv2 Conv2D frozen",
        "block5_conv3 Conv2D frozen",
        "block5_pool MaxPooling2D frozen",
    ]
    swap("vgg16_transfer", frozen_until="block5_conv2")
    assert said(before, recorded("vgg16_transfer")) == ["layers block5_conv3, block5_pool frozen → trainable"]


def wider_head(x, num_classes):
    """basic_cnn with Dense 256 and a Dropout before it (the README's example)."""
    from keras import layers

    for filters in (16, 32, 64):
        x = layers.MaxPooling2D()(layers.Conv2D(filters, 3, padding="same", activation="relu")(x))
    x = layers.Dropout(0.5)(layers.Flatten()(x))
    return models.classifier(num_classes)(layers.Dense(256, activation="relu")(x))


def test_a_head_changed_is_named(swap):
    before = recorded("vgg16_transfer")
    assert before["head"] == ["GlobalAveragePooling2D()", "Dense(1000) activation=relu", "Dense(5) activation=softmax"]

    def smaller(x, num_classes):
        from keras import layers

        x = layers.Dense(512, activation="relu")(layers.GlobalAveragePooling2D()(x))
        return models.classifier(num_classes)(x)

    swap("vgg16_transfer", head=smaller)
    assert said(before, recorded("vgg16_transfer")) == ["head Dense(1000) → Dense(512)"]
    before = recorded("basic_cnn")
    swap("basic_cnn", head=wider_head)
    assert said(before, recorded("basic_cnn")) == [
        "layers + dropout after flatten",
        "head + Dropout(0.5) after Flatten()",
        "head Dense(512) → Dense(256)",
    ]
