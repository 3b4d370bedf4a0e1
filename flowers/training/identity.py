"""What a model is, read from the model as built: a result's ``identity`` record (:func:`record`).

* ``layers``: every layer, ``"block5_conv3 Conv2D frozen"`` (name, class, ``trainable`` or
  ``frozen``).  Keras numbers the names it makes up (``dense_3`` when three Dense layers were made
  before in the process), so such a name is kept without its number: the same model gets the same
  record whatever was built before it.
* ``head``: the layers after the backbone (all of them without one), each with its settings that
  differ from the defaults, ``"Dense(1000) activation=relu"``.
* ``preprocessing``: the function the model applies to its input, found by behaviour
  (:mod:`flowers.training.preprocessing`).

Nothing here reads a weight: the record is the same on every CPU.  :mod:`flowers.facts` compares it.
"""

from __future__ import annotations

import re
from typing import Any

import keras

from flowers import schema
from flowers.registry import Variant, get_backbone
from flowers.training import architecture, preprocessing
from flowers.training.models import declared_preprocessing

PRIMARY = ("units", "filters", "rate", "pool_size")  # the setting shown in a head layer's parentheses


def _snake(class_name: str) -> str:
    """A layer class's name as Keras makes layer names of it: ``GlobalAveragePooling2D`` ->
    ``global_average_pooling2d``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def layer_name(layer) -> str:
    """The layer's name, without the number Keras appends to a name it made up (``dense_3`` -> ``dense``)."""
    base = re.sub(r"_\d+$", "", layer.name)
    return base if base == _snake(type(layer).__name__) else layer.name


def layer_fact(layer) -> str:
    """``"block5_conv3 Conv2D frozen"``."""
    flag = schema.LAYER_TRAINABLE if layer.trainable else schema.LAYER_FROZEN
    return f"{layer_name(layer)} {type(layer).__name__} {flag}"


def head_fact(layer) -> str:
    """``"Dense(1000) activation=relu"``: the class, its main setting and the others that differ
    from the defaults (:func:`flowers.training.architecture.layer_entry`)."""
    entry = {k: v for k, v in architecture.layer_entry(layer).items() if k != schema.LAYER_FROZEN}
    cls = entry.pop(schema.LAYER_CLASS)
    primary = next((k for k in PRIMARY if k in entry), None)
    inside = architecture.display_value(entry.pop(primary)) if primary else ""
    return " ".join([f"{cls}({inside})", *(f"{k}={architecture.display_value(v)}" for k, v in entry.items())])


def head_layers(model: keras.Model, variant: Variant) -> list:
    """The layers after the backbone's last one; without a backbone, every layer after the preprocessing."""
    names = [layer.name for layer in model.layers]
    if variant.backbone and get_backbone(variant.backbone).output in names:
        start = names.index(get_backbone(variant.backbone).output) + 1
    else:
        start = names.index(preprocessing.first_layer(model).name)
    return model.layers[start:]


def record(model: keras.Model, variant: Variant) -> dict[str, Any]:
    """The ``identity`` record of ``model``, a model of ``variant``."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    return {
        schema.LAYERS: [layer_fact(layer) for layer in layers],
        schema.HEAD: [head_fact(layer) for layer in head_layers(model, variant)],
        schema.PREPROCESSING: preprocessing.identify(model, declared_preprocessing(variant)),
    }
