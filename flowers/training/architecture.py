"""What a model is, as data: a fingerprint and a compact architecture record.

:func:`record` reads a built Keras model (through its public ``layers``, ``operations`` and
``get_config()``) and returns what a result keeps: ``model_fingerprint`` (a hash of every layer and
operation's class and config in order, the trainable flags, input size and class count; not the
weights) and ``architecture`` (backbone, frozen cut, and the layers of the trainable part with only
their non-default settings, so that the JSON stays small).  :func:`display_value` puts a setting
into words (:mod:`flowers.training.identity`).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
from typing import Any

from flowers import schema
from flowers.registry import Variant

# Layer config keys that are bookkeeping rather than architecture (the dtype policy follows
# --mixed-precision, which the config already records).
NOISE_KEYS = {"name", "dtype", "trainable", "registered_name"}
DISPLAY_SKIP = {"data_format"}  # always channels_last here; still part of the fingerprint


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _defaults(cls: type) -> dict[str, Any]:
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: _json(p.default) for p in params if p.default is not inspect.Parameter.empty}


def _config(op) -> dict[str, Any]:
    try:
        config = op.get_config()
    except (NotImplementedError, TypeError):
        return {}
    return {k: v for k, v in _json(config).items() if k not in NOISE_KEYS}


def layer_entry(layer) -> dict[str, Any]:
    """``{"class": "Dense", "units": 512, "activation": "relu"}``: settings that differ from the
    constructor's defaults (initializers and other nested objects left out), plus ``"frozen": true``."""
    defaults = _defaults(type(layer))
    entry: dict[str, Any] = {schema.LAYER_CLASS: type(layer).__name__}
    for key, value in _config(layer).items():
        if isinstance(value, dict) or key in DISPLAY_SKIP or (key not in defaults and value is None):
            continue
        default = defaults.get(key, object())
        if value == default or (isinstance(value, list) and value == [default] * len(value)):
            continue  # e.g. strides [1, 1] for the default 1
        entry[key] = value
    if not layer.trainable and layer.weights:
        entry[schema.LAYER_FROZEN] = True
    return entry


def fingerprint(model, input_size: int, num_classes: int) -> str:
    """sha256 (16 hex digits) of the architecture as built, weights left out."""
    parts = [
        {"class": type(op).__name__, "config": _config(op), "trainable": bool(getattr(op, "trainable", False))}
        for op in model.operations
    ]
    text = json.dumps({"input": input_size, "classes": num_classes, "operations": parts}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record(model, variant: Variant, input_size: int, num_classes: int) -> dict[str, Any]:
    """The ``model_fingerprint`` and ``architecture`` a result keeps for ``model`` of ``variant``."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    frozen = 0
    if variant.frozen_until:
        names = [layer.name for layer in layers]
        frozen = names.index(variant.frozen_until) + 1 if variant.frozen_until in names else 0
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return {
        schema.MODEL_FINGERPRINT: fingerprint(model, input_size, num_classes),
        schema.ARCHITECTURE: {
            schema.INPUT: [input_size, input_size, 3],
            schema.CLASSES: num_classes,
            schema.BACKBONE: variant.backbone,
            schema.FROZEN_UNTIL: variant.frozen_until,
            schema.FROZEN_LAYERS: frozen,
            schema.LAYERS: [layer_entry(layer) for layer in layers[frozen:]],
            schema.PARAMS_TOTAL: int(model.count_params()),
            schema.PARAMS_TRAINABLE: int(trainable),
        },
    }


# --------------------------------------------------------------------------------------------
# In words
# --------------------------------------------------------------------------------------------


def display_value(v: Any) -> str:
    """A setting as shown: ``3`` for ``[3, 3]``, text as it is, anything else as JSON."""
    if isinstance(v, list) and v and all(x == v[0] for x in v):
        v = v[0]  # kernel_size [3, 3] -> 3
    return v if isinstance(v, str) else json.dumps(v)
