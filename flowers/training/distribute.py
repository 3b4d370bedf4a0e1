"""Data-parallel training of one case: ``--distribute none|mirrored``.

``mirrored`` builds, compiles and trains the model under ``tf.distribute.MirroredStrategy`` over the
visible GPUs (or, without GPUs, over the logical CPU devices, which is how the tests run it on
a CPU).  Keras splits each global batch across the replicas and sums their gradients, so the
global batch stays ``--batch-size`` and the results stay comparable with one device.  ``none``
is the default strategy: one device, today's behaviour.

Multi-worker training (``tf.distribute.MultiWorkerMirroredStrategy`` over ``TF_CONFIG``) is not
offered: with Keras 3 it is experimental and untested here (see docs/sharding.md).
"""

from __future__ import annotations

import tensorflow as tf

from flowers import schema
from flowers.errors import OptionError
from flowers.training.profiles import DISTRIBUTE_CHOICES

CHOICES = DISTRIBUTE_CHOICES


def check(name: str) -> str:
    """``name`` if it is a known strategy; OptionError with a one-line reason otherwise."""
    if name not in CHOICES:
        raise OptionError(f"--distribute {name}: unknown strategy; choose from {', '.join(CHOICES)}")
    return name


def devices() -> list[str]:
    """The devices a mirrored case spans: every visible GPU, else every logical CPU device."""
    gpus = tf.config.list_logical_devices("GPU")
    return [d.name for d in gpus or tf.config.list_logical_devices("CPU")]


def strategy(name: str) -> tf.distribute.Strategy:
    """The strategy whose ``scope()`` a case is built, compiled and trained in."""
    if check(name) == "mirrored":
        return tf.distribute.MirroredStrategy(devices())
    return tf.distribute.get_strategy()  # the default: one device, no replication


def record(name: str, strat: tf.distribute.Strategy) -> dict:
    """What a result's config records; nothing for ``none``, so that default runs keep their config hash."""
    if name == "none":
        return {}
    return {schema.DISTRIBUTE: name, schema.REPLICAS: int(strat.num_replicas_in_sync)}
