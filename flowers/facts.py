"""What a run *is*, compared exactly: the facts of a variant's cases and their differences in words.

A case's facts are its model (input size, backbone, every layer with its trainable flag, the head,
the parameter counts, the preprocessing it applies), its weights, its config (seed aside), its data
and the work it did, counted while it ran (images through the frozen backbone, optimizer steps,
images trained on and evaluated, FLOPs per training step and in total, whether the feature cache
was used).  Each is a function of the code, the settings and the data alone: no weight value, no
timing, no number a training computed (:mod:`flowers.training.identity`, :mod:`flowers.training.preprocessing` and
:mod:`flowers.training.work` record them so).  So two runs of unchanged code agree on them exactly, on any
CPU and whatever the seed, and a fact that differs is a change: no noise model is needed, and no
tolerance is given.

Only how a case ran depends on the machine (:data:`EXECUTION`: XLA as resolved by the ``auto``
rule, oneDNN, mixed precision, device kind and replicas, and the config settings that choose them):
those are compared only between cases that ran on one kind of machine.

:func:`differences` words each difference ``fact before → after`` (:class:`Difference`); the
check's ``CHANGED`` rows, its Markdown verdict and the report's "what changed" show these words.
Facts that one side does not record (a file made before they were) are not compared;
:func:`unrecorded` says which.  Nothing here imports Keras.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from flowers import schema
from flowers.results import Case

MAX_LAYER_CHANGES = 6  # layer differences listed before "… N more"
CONFIG, DATA = "config ", "data"  # how a config setting's difference and the data's are named
UNRECORDED = object()  # a fact the case's file does not record
# Config settings that choose how a case runs rather than what it is (compared as EXECUTION facts);
# the data and weights settings are compared by what they name (the data's fingerprint, the weights' identity).
NOT_CONFIG_FACTS = {
    schema.SEED,
    schema.DATA,
    schema.WEIGHTS,
    schema.JIT_COMPILE,
    schema.JIT_COMPILE_AUTO,
    schema.MIXED_PRECISION,
    schema.DISTRIBUTE,
    schema.REPLICAS,
}
# The groups a case may lack (made before they were recorded), as said to the user.
GROUPS = {
    schema.IDENTITY: "layers, head and preprocessing",
    schema.WORK: "work counters",
    schema.EXECUTION: "execution path",
}


@dataclass(frozen=True)
class Difference:
    """One fact that differs: ``fact before → after`` (``fact + added`` / ``fact − removed`` when one
    side is empty), with a ``note`` in parentheses."""

    fact: str
    before: str
    after: str
    note: str = ""

    @property
    def text(self) -> str:
        words = f"{self.before} → {self.after}" if self.before and self.after else self.before or self.after
        return f"{self.fact} {words}" + (f" ({self.note})" if self.note else "")


def _group(case: Case, key: str) -> Any:
    value = case.info.get(key)
    return value if isinstance(value, dict) else UNRECORDED


def _field(case: Case, group: str, key: str) -> Any:
    record = case.architecture if group == schema.ARCHITECTURE else _group(case, group)
    return UNRECORDED if record is None or record is UNRECORDED or key not in record else record[key]


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else _shown(value)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return {True: "on", False: "off"}[value]
    return value if isinstance(value, str) else json.dumps(value)


# (fact, group, key, how its value is shown), in the order the differences are listed
MODEL = (
    ("input", schema.ARCHITECTURE, schema.INPUT, lambda v: "×".join(map(str, v)) if isinstance(v, list) else _shown(v)),
    ("backbone", schema.ARCHITECTURE, schema.BACKBONE, lambda v: v or "none"),
)
SIZE = (
    ("params", schema.ARCHITECTURE, schema.PARAMS_TOTAL, _count),
    ("trainable params", schema.ARCHITECTURE, schema.PARAMS_TRAINABLE, _count),
)
WORK = (
    ("backbone images", schema.WORK, schema.BACKBONE_IMAGES, _count),
    ("optimizer steps", schema.WORK, schema.OPTIMIZER_STEPS, _count),
    ("images trained on", schema.WORK, schema.TRAIN_IMAGES, _count),
    ("validation images", schema.WORK, schema.VALIDATION_IMAGES, _count),
    ("test images", schema.WORK, schema.TEST_IMAGES, _count),
    ("FLOPs per training step", schema.WORK, schema.STEP_FLOPS, _count),
    ("FLOPs in total", schema.WORK, schema.TOTAL_FLOPS, _count),
)
EXECUTION = (
    ("XLA", schema.EXECUTION, schema.XLA, _shown),
    ("oneDNN", schema.EXECUTION, schema.ONEDNN, _shown),
    ("mixed precision", schema.EXECUTION, schema.MIXED_PRECISION, _shown),
    ("device", schema.EXECUTION, schema.DEVICE, _shown),
    ("replicas", schema.EXECUTION, schema.REPLICAS, _shown),
)


def _simple(a: Case, b: Case, table: Sequence[tuple[str, str, str, Callable]]) -> list[Difference]:
    out = []
    for fact, group, key, show in table:
        old, new = _field(a, group, key), _field(b, group, key)
        if old is not UNRECORDED and new is not UNRECORDED and old != new:
            out.append(Difference(fact, show(old), show(new)))
    return out


def _config(a: Case, b: Case) -> list[Difference]:
    if not a.config or not b.config:
        return []
    keys = [k for k in dict.fromkeys([*a.config, *b.config]) if k not in NOT_CONFIG_FACTS]
    return [
        Difference(f"{CONFIG}{k}", _shown(a.config.get(k, "(absent)")), _shown(b.config.get(k, "(absent)")))
        for k in keys
        if a.config.get(k) != b.config.get(k)
    ]


def _data(a: Case, b: Case) -> list[Difference]:
    def value(case: Case) -> tuple:
        d = case.dataset
        augmented = d.get(schema.AUGMENTED)  # its factor and operations; its seed is the case's
        augmented = {k: v for k, v in augmented.items() if k != schema.SEED} if isinstance(augmented, dict) else None
        return (d.get(schema.NAME), d.get(schema.HASH), d.get(schema.SPLITS), d.get(schema.IMAGE_SIZE), augmented)

    def shown(case: Case) -> str:
        name, digest, splits, size, augmented = value(case)
        counts = "/".join(str(n) for n in splits.values()) if isinstance(splits, dict) else "?"
        ops = f", augmented {_shown(augmented)}" if augmented else ""
        return f"{name} {str(digest)[:12]} ({counts} images at {size} px{ops})"

    if not a.dataset or not b.dataset or value(a) == value(b):
        return []
    return [Difference(DATA, shown(a), shown(b))]


def _weights(a: Case, b: Case) -> list[Difference]:
    if a.weights is None or b.weights is None or a.weights == b.weights:
        return []
    return [Difference("weights", weights_label(a.weights), weights_label(b.weights))]


def _preprocessing(a: Case, b: Case) -> list[Difference]:
    old, new = _field(a, schema.IDENTITY, schema.PREPROCESSING), _field(b, schema.IDENTITY, schema.PREPROCESSING)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return []
    if (old.get(schema.DIGEST), old.get(schema.FUNCTION)) == (new.get(schema.DIGEST), new.get(schema.FUNCTION)):
        return []
    if old.get(schema.DIGEST) and old.get(schema.DIGEST) == new.get(schema.DIGEST):
        return []  # functions that behave alike (resnet_v2's and mobilenet_v2's preprocess_input)
    names = [str(r.get(schema.FUNCTION)) for r in (old, new)]
    if names[0] == names[1]:
        names = [f"{n} (digest {r.get(schema.DIGEST)})" for n, r in zip(names, (old, new))]
    modes = [str(r.get(schema.MODE, schema.UNKNOWN)) for r in (old, new)]
    return [Difference("preprocessing", names[0], names[1], " → ".join(modes) if modes[0] != modes[1] else "")]


def _runs(entries: list[list[str]]) -> str:
    """``block5_conv3``, ``a, b`` or ``a … z (68)``: the names of consecutive layers."""
    names = [e[0] for e in entries]
    return ", ".join(names) if len(names) <= 3 else f"{names[0]} … {names[-1]} ({len(names)})"


def _parse(entry: Any) -> list[str]:
    """``"name Class flag"`` -> [name, Class, flag] (what a hand-edited entry holds, as its name)."""
    parts = str(entry).rsplit(" ", 2)
    return parts if len(parts) == 3 else [str(entry), "?", "?"]


def _flag_changes(pairs: list[tuple[list[str], list[str]]]) -> list[Difference]:
    """Consecutive layers whose trainable flag changed the same way, as one difference each."""
    runs: list[tuple[tuple[str, str], list[list[str]]]] = []  # (old flag, new flag), the layers
    previous = None
    for old, new in pairs:
        change = (old[2], new[2]) if old[2] != new[2] else None
        if change and change == previous:
            runs[-1][1].append(new)
        elif change:
            runs.append((change, [new]))
        previous = change
    return [Difference(f"layer{'s' * (len(ls) > 1)} {_runs(ls)}", *change) for change, ls in runs]


def _layers(a: Case, b: Case) -> list[Difference]:
    old, new = _field(a, schema.IDENTITY, schema.LAYERS), _field(b, schema.IDENTITY, schema.LAYERS)
    if not isinstance(old, list) or not isinstance(new, list) or old == new:
        return []
    pa, pb = [_parse(e) for e in old], [_parse(e) for e in new]
    matcher = SequenceMatcher(a=[tuple(e[:2]) for e in pa], b=[tuple(e[:2]) for e in pb], autojunk=False)
    out: list[Difference] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += _flag_changes(list(zip(pa[i1:i2], pb[j1:j2])))
            continue
        if i2 > i1:
            out.append(Difference("layers", f"− {_runs(pa[i1:i2])}", ""))
        if j2 > j1:
            where = f" after {pb[j1 - 1][0]}" if j1 else " first"
            out.append(Difference("layers", "", f"+ {_runs(pb[j1:j2])}{where}"))
    if len(out) > MAX_LAYER_CHANGES:
        more = len(out) - MAX_LAYER_CHANGES + 1
        out = [
            *out[: MAX_LAYER_CHANGES - 1],
            Difference("layers", "", f"… {more} more changes"),
        ]
    return out


def _head(a: Case, b: Case) -> list[Difference]:
    old, new = _field(a, schema.IDENTITY, schema.HEAD), _field(b, schema.IDENTITY, schema.HEAD)
    if not isinstance(old, list) or not isinstance(new, list) or old == new:
        return []
    old, new = [str(e) for e in old], [str(e) for e in new]
    matcher = SequenceMatcher(a=[e.split("(")[0] for e in old], b=[e.split("(")[0] for e in new], autojunk=False)
    out = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for x, y in zip(old[i1:i2], new[j1:j2]) if tag == "equal" else ():
            if x != y:
                short = x.partition(" ")[2] == y.partition(" ")[2]  # only the main setting differs
                out.append(Difference("head", x.partition(" ")[0] if short else x, y.partition(" ")[0] if short else y))
        if tag != "equal":
            out += [Difference("head", f"− {x}", "") for x in old[i1:i2]]
            out += [
                Difference("head", "", f"+ {y} after {new[j - 1] if j else 'the backbone'}")
                for j, y in enumerate(new)
                if j1 <= j < j2
            ]
    return out


def _work(a: Case, b: Case) -> list[Difference]:
    """The work counters, with the feature cache's use beside the images through the backbone."""
    out = _simple(a, b, WORK)
    old, new = a.feature_cache.get(schema.ENABLED), b.feature_cache.get(schema.ENABLED)
    if isinstance(old, bool) and isinstance(new, bool) and old != new:
        used = "feature cache used" if new else "feature cache not used"
        first = next((d for d in out if d.fact == "backbone images"), None)
        if first:
            out[out.index(first)] = Difference(first.fact, first.before, first.after, used)
        else:
            out.insert(0, Difference("feature cache", *("used" if v else "not used" for v in (old, new))))
    return out


def case_differences(a: Case, b: Case, same_machine: bool) -> list[Difference]:
    """What differs from case ``a`` to case ``b``; how they ran only when ``same_machine``."""
    found = [
        *_preprocessing(a, b),
        *_simple(a, b, MODEL),
        *_layers(a, b),
        *_head(a, b),
        *_simple(a, b, SIZE),
        *_weights(a, b),
        *_config(a, b),
        *_data(a, b),
        *_work(a, b),
    ]
    return found + (_simple(a, b, EXECUTION) if same_machine else [])


def differences(base: Sequence[Case], cur: Sequence[Case], same_machine: bool) -> list[Difference]:
    """What differs between a variant's baseline cases (their first, the reference) and each of its
    current cases, each difference once; empty when either side has no case."""
    out: list[Difference] = []
    for case in cur if base else ():
        out += [d for d in case_differences(base[0], case, same_machine) if d not in out]
    return out


def lacking(cases: Sequence[Case], same_machine: bool) -> list[str]:
    """The fact groups (:data:`GROUPS`, in words) the first of ``cases`` does not record; how it ran
    only counts when ``same_machine`` (it is not compared otherwise)."""
    groups = {k: v for k, v in GROUPS.items() if same_machine or k != schema.EXECUTION}
    return [words for key, words in groups.items() if cases and _group(cases[0], key) is UNRECORDED]


def unrecorded(base: Sequence[Case], cur: Sequence[Case], same_machine: bool) -> str:
    """Which fact groups each side does not record, so that they were not compared ("" when none)."""
    parts = [
        f"{side} records no {', '.join(groups)}"
        for side, groups in (
            ("the baseline", lacking(base, same_machine)),
            ("the current run", lacking(cur, same_machine)),
        )
        if groups
    ]
    return "; ".join(parts)


def is_setting(difference: Difference) -> bool:
    """Whether ``difference`` is of the config or the data (which a report lists by setting, across variants)."""
    return difference.fact == DATA or difference.fact.startswith(CONFIG)


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
