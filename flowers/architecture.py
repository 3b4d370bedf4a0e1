"""What a model is, as data: a fingerprint, a compact architecture record, and their differences.

:func:`record` reads a built Keras model (through its public ``layers``, ``operations`` and
``get_config()``) and returns what a result keeps: ``model_fingerprint`` (a hash of every layer and
operation's class and config in order, the trainable flags, input size and class count; not the
weights) and ``architecture`` (backbone, frozen cut, and the layers of the trainable part with only
their non-default settings, so that the JSON stays small).  :func:`diff` and :func:`weights_label`
turn two records into words for reports and checks; they import nothing heavy.
"""

from __future__ import annotations

import difflib
import hashlib
import inspect
import json
import math
from typing import Any

from flowers import schema

MAX_ITEMS = 6  # architecture differences listed before "… N more"
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


def record(model, variant, input_size: int, num_classes: int) -> dict[str, Any]:
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
# Differences in words (no Keras needed)
# --------------------------------------------------------------------------------------------


def _value(v: Any) -> str:
    if isinstance(v, list) and v and all(x == v[0] for x in v):
        v = v[0]  # kernel_size [3, 3] -> 3
    return v if isinstance(v, str) else json.dumps(v)


def layer_text(entry: dict[str, Any]) -> str:
    """``Dropout(rate=0.5)``."""
    args = ", ".join(f"{k}={_value(v)}" for k, v in entry.items() if k != schema.LAYER_CLASS)
    return f"{entry.get(schema.LAYER_CLASS, '?')}({args})"


def _name(entry: dict[str, Any] | None) -> str:
    return str(entry.get(schema.LAYER_CLASS, "?")).lower() if entry else "the input"


def _layer_changes(a: list[dict], b: list[dict]) -> list[str]:
    out: list[str] = []
    matcher = difflib.SequenceMatcher(
        a=[e.get(schema.LAYER_CLASS) for e in a], b=[e.get(schema.LAYER_CLASS) for e in b], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for old, new in zip(a[i1:i2], b[j1:j2]):
                for key in dict.fromkeys([*old, *new]):
                    if key == schema.LAYER_FROZEN and old.get(key) != new.get(key):
                        out.append(f"{_name(new)} {'frozen' if new.get(key) else 'unfrozen'}")
                    elif key not in (schema.LAYER_CLASS, schema.LAYER_FROZEN) and old.get(key) != new.get(key):
                        before, after = _value(old.get(key, "(default)")), _value(new.get(key, "(default)"))
                        out.append(f"{_name(new)} {key} {before} → {after}")
            continue
        for entry in a[i1:i2]:
            out.append(f"− {layer_text(entry)}")
        for j in range(j1, j2):
            out.append(f"+ {layer_text(b[j])} after {_name(b[j - 1] if j else None)}")
    return out


def _layers(arch: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's layer entries; anything else in a (hand-edited) file is ignored."""
    entries = arch.get(schema.LAYERS)
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def diff(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """What changed from architecture record ``a`` to ``b``, one short phrase per change."""
    out: list[str] = []
    for key in (schema.INPUT, schema.CLASSES, schema.BACKBONE):
        if a.get(key) != b.get(key):
            out.append(f"{key} {_value(a.get(key))} → {_value(b.get(key))}")
    cut = (schema.FROZEN_UNTIL, schema.FROZEN_LAYERS)
    if [a.get(k) for k in cut] != [b.get(k) for k in cut]:
        out.append(
            f"frozen until {a.get(schema.FROZEN_UNTIL) or 'nothing'} → {b.get(schema.FROZEN_UNTIL) or 'nothing'} "
            f"({a.get(schema.FROZEN_LAYERS, 0)} → {b.get(schema.FROZEN_LAYERS, 0)} layers frozen)"
        )
    changes = _layer_changes(_layers(a), _layers(b))
    if len(changes) > MAX_ITEMS:
        changes = [*changes[:MAX_ITEMS], f"… {len(changes) - MAX_ITEMS} more"]
    out += changes
    for key, label in ((schema.PARAMS_TOTAL, "params"), (schema.PARAMS_TRAINABLE, "trainable params")):
        old, new = a.get(key), b.get(key)
        if isinstance(old, int) and isinstance(new, int) and old != new:
            out.append(f"{label} {old:,} → {new:,}")
    return out


def weights_label(w: Any) -> str:
    """``none``, ``imagenet (vgg16_…_notop.h5)``, ``file.h5 sha256 0123456789ab`` or
    ``random-calibrated v2 on 240 training images``."""
    if not isinstance(w, dict):
        return "not recorded"
    source = str(w.get(schema.WEIGHTS_SOURCE, "?"))
    if source == "imagenet":
        return f"imagenet ({w.get(schema.WEIGHTS_FILE, '?')})"
    if source == "file":
        return f"{w.get(schema.WEIGHTS_FILE, '?')} sha256 {str(w.get(schema.WEIGHTS_SHA256, '?'))[:12]}"
    if source == "random-calibrated":
        return (
            f"random-calibrated v{w.get(schema.WEIGHTS_VERSION, 1)} on {w.get(schema.WEIGHTS_IMAGES, '?')} "
            "training images"
        )
    return source


def model_changes(a, b) -> list[str] | None:
    """Changes in model and weights between two cases (:class:`flowers.results.Case`: their
    ``fingerprint``, ``architecture`` and ``weights``), or None when either lacks a record."""
    if not a.fingerprint or not b.fingerprint:
        return None
    out = []
    if a.fingerprint != b.fingerprint:
        words = (
            diff(a.architecture, b.architecture) if a.architecture is not None and b.architecture is not None else []
        )
        out.append(
            "architecture changed: " + ("; ".join(words) if words else f"fingerprint {a.fingerprint} → {b.fingerprint}")
        )
    wa, wb = weights_label(a.weights), weights_label(b.weights)
    if wa != wb:
        out.append(f"weights {wa} → {wb}")
    return out
