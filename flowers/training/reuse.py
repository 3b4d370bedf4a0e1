"""A compiled model reused by later cases of one session, with the results of a fresh compile.

Tracing and optimising the training and evaluation steps is most of the first epoch's overhead
(ResNet50V2's trainable part: several seconds per case).  A case whose trainable part has the same
architecture and settings as an earlier one (resnet50v2_finetune_aug after resnet50v2_finetune;
every seed after the first) takes the earlier compiled model from the session's
:class:`~flowers.training.session.SessionCache`: its variables (weights, BatchNorm statistics,
dropout seeds) are set to the case's and its optimizer's to their values as built, so the results
are those of a fresh compile to the last digit (tests/test_train.py).  After training, the case's
own model gets the trained variables back (:func:`copy_variables`).  Under a distribution strategy
(one per run) every case compiles its own.
"""

from __future__ import annotations

import keras

from flowers.training import architecture
from flowers.training.case import Case
from flowers.training.session import CompileKey, SessionCache


def compiled(trainee: keras.Model, case: Case, cache: SessionCache) -> tuple[keras.Model, bool]:
    """A compiled model with ``trainee``'s architecture and variables and a fresh optimizer, and
    whether it is one that an earlier case of ``cache``'s session compiled (and traced) already."""
    if case.config.distribute != "none":
        case.compile(trainee)
        return trainee, False
    key = _key(trainee, case)
    if key not in cache.models:
        case.compile(trainee)
        trainee.optimizer.build(trainee.trainable_variables)
        cache.models[key] = (trainee, [variable.numpy() for variable in trainee.optimizer.variables])
        return trainee, False
    shared, optimizer_state = cache.models[key]
    copy_variables(trainee, shared)
    for variable, value in zip(shared.optimizer.variables, optimizer_state, strict=True):
        variable.assign(value)
    return shared, True


def _key(trainee: keras.Model, case: Case) -> CompileKey:
    """What two cases must share for one's compiled model to train the other."""
    return (
        str(case.variant.head),
        architecture.fingerprint(trainee, 0, 0),
        tuple(trainee.inputs[0].shape),
        case.config.optimizer,
        case.learning_rate,
        case.jit_compile,
        keras.config.dtype_policy().name,
    )


def copy_variables(source: keras.Model, target: keras.Model) -> None:
    """Every layer's variables (weights, non-trainable statistics, random seed states) from ``source``
    into ``target``, a model of the same architecture."""
    pairs = [(a.variables, b.variables) for a, b in zip(source.layers, target.layers, strict=False)]
    if len(source.layers) != len(target.layers) or any([v.shape for v in s] != [v.shape for v in t] for s, t in pairs):
        raise ValueError(f"models {source.name} and {target.name} differ in architecture; cannot copy variables")
    for variables, targets in pairs:
        for value, variable in zip(variables, targets, strict=True):
            variable.assign(value)
