"""TensorBoard logs of a case: Keras' TensorBoard callback, plus the case's config as HParams.

``pytest benchmarks --tensorboard DIR`` gives each case ``DIR/<variant>-seed=<k>/`` holding Keras'
``train/`` and ``validation/`` event files (per-epoch loss and accuracy; no profiling, no graph) and
one HParams "session start" record with the case's config, so ``tensorboard --logdir DIR`` compares
variants and runs in its Scalars and HParams dashboards.

The HParams record is TensorBoard's own format (``tensorboard/plugins/hparams/plugin_data.proto``:
an ``HParamsPluginData`` with a ``SessionStartInfo``), built here with the protobuf library that
TensorFlow ships, so writing it does not need the tensorboard package.
"""

from __future__ import annotations

import functools
import importlib.util
import time
from pathlib import Path

import keras
import tensorflow as tf
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, struct_pb2

HPARAMS_PLUGIN = "hparams"
HPARAMS_TAG = "_hparams_/session_start_info"  # the tag TensorBoard's hparams plugin reads
SCALAR_METADATA = tf.compat.v1.SummaryMetadata(
    plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="scalars")
).SerializeToString()


def callback(log_dir: str | Path) -> keras.callbacks.Callback:
    """Keras' TensorBoard callback: per-epoch scalars only (no graph, histograms or profiling).

    Keras' callback writes through ``tf.summary.scalar``, which TensorFlow implements only when the
    tensorboard package is installed; without it, :class:`EpochScalars` writes the same files.
    """
    if importlib.util.find_spec("tensorboard") is None:
        return EpochScalars(log_dir)
    return keras.callbacks.TensorBoard(
        log_dir=str(log_dir), histogram_freq=0, write_graph=False, update_freq="epoch", profile_batch=0
    )


class EpochScalars(keras.callbacks.Callback):
    """What Keras' TensorBoard callback writes per epoch (``train/`` and ``validation/``, tags
    ``epoch_<metric>``), through TensorFlow's own ``tf.summary.write`` in TensorBoard's scalar format."""

    def __init__(self, log_dir: str | Path):
        super().__init__()
        self.writers = {
            split: tf.summary.create_file_writer(str(Path(log_dir) / split)) for split in ("train", "validation")
        }

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            split, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            with self.writers[split].as_default():
                tf.summary.write(
                    f"epoch_{name}", tf.constant(float(value), tf.float32), step=epoch, metadata=SCALAR_METADATA
                )

    def on_train_end(self, logs=None):
        for writer in self.writers.values():
            writer.close()


@functools.cache
def plugin_data_class():
    """``HParamsPluginData`` (with ``SessionStartInfo``), the subset of plugin_data.proto used here."""
    file = descriptor_pb2.FileDescriptorProto(
        name="flowers_hparams_plugin_data.proto",
        package="tensorboard.hparams",
        syntax="proto3",
        dependency=["google/protobuf/struct.proto"],
    )
    start = file.message_type.add(name="SessionStartInfo")
    entry = start.nested_type.add(name="HparamsEntry", options=descriptor_pb2.MessageOptions(map_entry=True))
    entry.field.add(name="key", number=1, type=9, label=1)  # string
    entry.field.add(name="value", number=2, type=11, label=1, type_name=".google.protobuf.Value")
    start.field.add(
        name="hparams", number=1, type=11, label=3, type_name=".tensorboard.hparams.SessionStartInfo.HparamsEntry"
    )
    start.field.add(name="group_name", number=4, type=9, label=1)
    start.field.add(name="start_time_secs", number=5, type=1, label=1)  # double
    data = file.message_type.add(name="HParamsPluginData")
    data.field.add(name="version", number=1, type=5, label=1)  # int32
    data.field.add(
        name="session_start_info", number=3, type=11, label=1, type_name=".tensorboard.hparams.SessionStartInfo"
    )
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(
        descriptor_pb2.FileDescriptorProto.FromString(struct_pb2.DESCRIPTOR.serialized_pb).SerializeToString()
    )
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tensorboard.hparams.HParamsPluginData"))


def _set_hparam(target, value) -> None:
    """TensorBoard's hparams are bools, numbers or strings; anything else is shown as text."""
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, (int, float)):
        target.number_value = float(value)
    else:
        target.string_value = str(value)


def hparams_summary(config: dict) -> tf.compat.v1.Summary:
    """One summary holding ``config`` as a TensorBoard HParams session start."""
    data = plugin_data_class()(version=0)
    for key, value in config.items():
        _set_hparam(data.session_start_info.hparams[key], value)
    data.session_start_info.start_time_secs = time.time()
    metadata = tf.compat.v1.SummaryMetadata(
        plugin_data=tf.compat.v1.SummaryMetadata.PluginData(
            plugin_name=HPARAMS_PLUGIN, content=data.SerializeToString()
        )
    )
    summary = tf.compat.v1.Summary()
    summary.value.add(tag=HPARAMS_TAG, metadata=metadata)
    return summary


def write_hparams(log_dir: str | Path, config: dict, metrics: dict[str, float]) -> None:
    """``config`` as HParams, and the final ``metrics`` as scalars, in ``log_dir`` itself."""
    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default():
        tf.summary.experimental.write_raw_pb(hparams_summary(config).SerializeToString(), step=0)
        for name, value in metrics.items():
            tf.summary.write(name, tf.constant(float(value), tf.float32), step=0, metadata=SCALAR_METADATA)
    writer.close()
