"""The result format, in one place: every key of a result file, the run record, the config hash,
the schema version and the migration of older files.  Plain constants and functions; no Keras.

Writers (:mod:`flowers.training.train`, the pytest plugin, :mod:`flowers.merge`, and the records of
:mod:`flowers.training.data`, :mod:`~flowers.training.features`, :mod:`~flowers.training.architecture`,
:mod:`~flowers.training.models`) and readers (:mod:`flowers.results`, and through it report, check,
store and trends) name every key from here.  A result file is what ``pytest benchmarks --benchmark-json FILE`` (or
``--benchmark-autosave``) writes: pytest-benchmark's JSON with flowers-bench's parts in it.

* ``machine_info`` (pytest-benchmark's), with ``machine_info["flowers"]`` (:data:`ENVIRONMENT`) =
  ``{"tensorflow", "keras", "device", "device_kind", "gpu_count", "cores", "packages"}`` (device: GPU
  name or CPU model; kind ``"gpu"`` or ``"cpu"``; cores: CPU cores the process could use; packages:
  ``{distribution: version}``; the last two absent in files made before they were recorded).
* ``commit_info`` (pytest-benchmark's: ``id``, ``dirty``, ``time``, ``branch``...) and ``datetime``
  (when the run was saved, ISO 8601).
* ``flowers`` (:data:`RUN`), the run record (:func:`run_record`): ``{"schema", "profile",
  "complete", "cases": [case entries], "config_hash"}``.  ``cases`` lists every selected case with
  ``{"name", "variant", "seed", "status", "error"}`` (:func:`case_entry`), failed ones included, and
  a bug's ``"traceback"`` (a user's mistake is the one-line ``error`` alone); ``complete`` is false
  when the run was interrupted; ``config_hash`` is the session's settings, seed aside.  With
  ``--shard K/N`` also ``"shard": {"index", "count", "basis", "selection": [{"name", "variant",
  "seed", "shard", "cost"}]}`` (the whole selection); a file written by ``flowers merge`` has
  ``"merged_from"``, cases of missing shards with status ``"missing"``, and in each case's
  ``extra_info`` the ``machine_info`` and ``shard`` of the part it came from.  A baseline updated by
  ``pytest benchmarks --update-baseline FILE`` keeps each spliced case's ``machine_info`` in its
  ``extra_info`` too, and lists each update in ``"spliced": [{"variants", "commit", "datetime"}]``.
* ``benchmarks[i]``: pytest-benchmark's ``name``, ``stats``... and ``extra_info``, the case's result:
  ``variant, status ("ok"|"failed"), error, seed, profile, description, test_loss, test_accuracy,
  history{loss, accuracy, val_loss, val_accuracy}, epochs, train_seconds, epoch_seconds,
  epoch_step_seconds, eval_seconds, train_images_per_second, steady_images_per_second (epochs 2+;
  null with one epoch), params_total, params_trainable, model_fingerprint, architecture{input,
  classes, backbone, frozen_until, frozen_layers, layers, params_total, params_trainable},
  weights_identity{source: none|imagenet|file|random-calibrated, file, sha256, images, version},
  config{variant, the TrainConfig settings (jit_compile as used, jit_compile_auto
  when the auto rule chose), augment}, config_hash, dataset{name, source, splits{train,
  validation, test}, class_names, hash, version, image_size, skipped{count, examples}, ...},
  feature_cache{enabled, layer, bytes, seconds, storage}, flops_per_image, achieved_gflops,
  peak_gflops, peak_memory_bytes, compiled_reused, wall_seconds, data_cached, breakdown{data_load, setup,
  feature_cache, first_epoch, later_epochs, evaluation, bookkeeping}`` (seconds adding up to
  ``wall_seconds``); a failed case has what it got to, ``failed_epoch`` where training stopped.
  The facts ``flowers check`` compares exactly (:mod:`flowers.facts`): ``identity{layers, head,
  preprocessing{function, mode, channels, mean, std, range, digest}}`` (the model as built:
  ``"name Class trainable|frozen"`` per layer, auto-numbered names without their number; the head's
  layers as ``"Dense(512) activation=relu"``; the preprocessing found by a probe image,
  :mod:`flowers.training.preprocessing`), ``work{backbone_images, optimizer_steps, train_images,
  validation_images, test_images, step_flops, total_flops}`` (counted while the case ran,
  :mod:`flowers.training.work`) and ``execution{xla, onednn, mixed_precision, device, replicas}`` (how it ran,
  which depends on the machine).
  Keys added over time (the model record, the breakdown, steady throughput, the facts...) are
  optional to readers, so older files still load.

Version: :data:`SCHEMA` numbers the layout.  A file of a newer schema is refused; an older one is
brought up to date on load by :data:`MIGRATIONS` (asv's ``api_version`` and update step): to change
the layout, raise :data:`SCHEMA` and add ``MIGRATIONS[old] = step``, a function rewriting a file of
schema ``old`` into schema ``old + 1``, so that every reader sees the newest layout only.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from typing import Any

from flowers.errors import ResultsError
from flowers.text import one_line

SCHEMA = 1  # version of the layout; a file of a newer one is refused
HOW_TO_MAKE = "make one with: pytest benchmarks --benchmark-json FILE"  # the end of a result file's one-line errors
# schema -> the step that rewrites a file of that schema into the next one (none needed yet)
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

# --- pytest-benchmark's JSON, as far as flowers reads it --------------------------------------------
BENCHMARKS = "benchmarks"
MACHINE_INFO = "machine_info"
COMMIT_INFO = "commit_info"
DATETIME = "datetime"
# of a benchmark (MEAN: of its stats)
NAME = "name"
STATS = "stats"
EXTRA_INFO = "extra_info"
MEAN = "mean"
# of commit_info
COMMIT_ID = "id"
COMMIT_DIRTY = "dirty"
COMMIT_TIME = "time"
COMMIT_BRANCH = "branch"
# of machine_info
NODE = "node"
PYTHON_VERSION = "python_version"
MACHINE = "machine"
CPU = "cpu"
# of machine_info["cpu"] (py-cpuinfo)
CPU_BRAND = "brand_raw"
CPU_FAMILY = "family"
CPU_MODEL = "model"

# --- machine_info["flowers"]: the environment -----------------------------------------------------
ENVIRONMENT = "flowers"
TENSORFLOW = "tensorflow"
KERAS = "keras"
DEVICE = "device"
DEVICE_KIND = "device_kind"
GPU_COUNT = "gpu_count"
CORES = "cores"
PACKAGES = "packages"

# --- the run record: output_json["flowers"] -------------------------------------------------------
RUN = "flowers"
SCHEMA_KEY = "schema"
PROFILE = "profile"
COMPLETE = "complete"
CASES = "cases"
CONFIG_HASH = "config_hash"
SHARD = "shard"
MERGED_FROM = "merged_from"
SPLICED = "spliced"  # the updates of a baseline's variants (pytest benchmarks --update-baseline)
SPLICED_VARIANTS = "variants"
SPLICED_COMMIT = "commit"
# a case entry (of CASES) and a shard selection entry; VARIANT, SEED, STATUS, ERROR are extra_info's too
VARIANT = "variant"
SEED = "seed"
STATUS = "status"
ERROR = "error"
TRACEBACK = "traceback"
SHARD_INDEX = "index"
SHARD_COUNT = "count"
SHARD_BASIS = "basis"
SHARD_SELECTION = "selection"
MAX_SHARDS = 10_000  # SHARD_COUNT's bound: far more machines than any run has cases (the split's work grows with it)
COST = "cost"
# statuses: a case that finished, one that failed, one pytest skipped, one of a shard no part holds,
# and (never written, only read) one marked ok whose scores are not valid (flowers.results.SCORES)
OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"
MISSING = "missing"
INVALID = "invalid"

# --- a case's result: benchmarks[i]["extra_info"] ---------------------------------------------------
DESCRIPTION = "description"
CONFIG = "config"
DATASET = "dataset"
FAILED_EPOCH = "failed_epoch"
TEST_LOSS = "test_loss"
TEST_ACCURACY = "test_accuracy"
HISTORY = "history"
EPOCHS = "epochs"
TRAIN_SECONDS = "train_seconds"
EPOCH_SECONDS = "epoch_seconds"
EPOCH_STEP_SECONDS = "epoch_step_seconds"
EVAL_SECONDS = "eval_seconds"
WALL_SECONDS = "wall_seconds"
TRAIN_THROUGHPUT = "train_images_per_second"  # training images of every epoch over train_seconds
STEADY_THROUGHPUT = "steady_images_per_second"  # training images/s in the steps of epochs 2 and later
CASE_THROUGHPUT = "case_images_per_second"  # never written: derived by readers over the case's wall time
# the timings of a case, in seconds: a number or a list of one per epoch (BREAKDOWN's parts are seconds too)
TIMINGS = (TRAIN_SECONDS, EPOCH_SECONDS, EPOCH_STEP_SECONDS, EVAL_SECONDS, WALL_SECONDS)
PARAMS_TOTAL = "params_total"
PARAMS_TRAINABLE = "params_trainable"
MODEL_FINGERPRINT = "model_fingerprint"
ARCHITECTURE = "architecture"
WEIGHTS_IDENTITY = "weights_identity"
FEATURE_CACHE = "feature_cache"
FLOPS_PER_IMAGE = "flops_per_image"
ACHIEVED_GFLOPS = "achieved_gflops"
PEAK_GFLOPS = "peak_gflops"
PEAK_MEMORY_BYTES = "peak_memory_bytes"
COMPILED_REUSED = "compiled_reused"  # the case trained an earlier case's compiled model (flowers.training.reuse)
DATA_CACHED = "data_cached"
BREAKDOWN = "breakdown"
LOSS = "loss"
ACCURACY = "accuracy"
VAL_LOSS = "val_loss"
VAL_ACCURACY = "val_accuracy"
HISTORY_KEYS = (LOSS, ACCURACY, VAL_LOSS, VAL_ACCURACY)  # per-epoch curves kept in HISTORY
# BREAKDOWN: where a case's time went, in order, adding up to WALL_SECONDS
BREAKDOWN_PARTS = ("data_load", "setup", "feature_cache", "first_epoch", "later_epochs", "evaluation", "bookkeeping")
DATA_LOAD, SETUP, FEATURE_CACHE_BUILD, FIRST_EPOCH, LATER_EPOCHS, EVALUATION, BOOKKEEPING = BREAKDOWN_PARTS

# CONFIG: the TrainConfig settings (flowers.training.profiles.TrainConfig's fields), resolved for the variant
# (VARIANT; AUGMENT; LEARNING_RATE its own unless set), DISTRIBUTE and REPLICAS only when distributed
AUGMENT = "augment"
LEARNING_RATE = "learning_rate"
DISTRIBUTE = "distribute"
REPLICAS = "replicas"
DATA = "data"  # the data setting: tf_flowers, synthetic or a folder (the data itself: DATASET)
WEIGHTS = "weights"  # the weights setting (the weights themselves: WEIGHTS_IDENTITY)
JIT_COMPILE = "jit_compile"  # whether training steps were compiled with XLA (True/False, as used)
JIT_COMPILE_AUTO = "jit_compile_auto"  # only when the "auto" rule chose: its reason (flowers.training.xla)

# DATASET: the data set's fingerprint (flowers.training.data)
SOURCE = "source"
LAYOUT = "layout"
PATH = "path"
HASH = "hash"
VERSION = "version"
IMAGE_SIZE = "image_size"
SPLITS = "splits"
CLASS_NAMES = "class_names"
SPLIT_SEED = "split_seed"
TFDS_SPLIT = "tfds_split"
SPLIT_KEYS = "split_keys"  # tf_flowers' split (flowers.training.flower_photos): {split: {count, sha256 of its keys}}
KEYS_COUNT = "count"
KEYS_SHA256 = "sha256"
CARVED = "validation_carved_from_train"
SKIPPED_FILES = "skipped"
SKIPPED_COUNT = "count"
SKIPPED_EXAMPLES = "examples"
# the augmented variant's
AUGMENTED = "augmented"
TRAIN_AUGMENTED = "train_augmented"
FACTOR = "factor"
OPS = "ops"
# of SPLITS (flowers.split), also its folders
TRAIN = "train"
VALIDATION = "validation"
TEST = "test"

# FEATURE_CACHE (flowers.training.features): on or off, the cached layer, its size, build time and storage
ENABLED = "enabled"
LAYER = "layer"
BYTES = "bytes"
SECONDS = "seconds"
STORAGE = "storage"

# WEIGHTS_IDENTITY (flowers.training.models): where the weights came from
WEIGHTS_SOURCE = "source"
WEIGHTS_FILE = "file"
WEIGHTS_SHA256 = "sha256"
WEIGHTS_IMAGES = "images"
WEIGHTS_VERSION = "version"

# ARCHITECTURE (flowers.training.architecture): the model as built, and each trainable layer's entry
INPUT = "input"
CLASSES = "classes"
BACKBONE = "backbone"
FROZEN_UNTIL = "frozen_until"
FROZEN_LAYERS = "frozen_layers"
LAYERS = "layers"
LAYER_CLASS = "class"
LAYER_FROZEN = "frozen"

# The facts flowers check compares exactly (flowers.facts): IDENTITY (flowers.training.identity: LAYERS, HEAD,
# PREPROCESSING), WORK (flowers.training.work: counted while the case ran) and EXECUTION (how it ran: XLA,
# oneDNN, mixed precision, device; compared only between cases of one kind of machine)
IDENTITY = "identity"
HEAD = "head"
PREPROCESSING = "preprocessing"
WORK = "work"
EXECUTION = "execution"
LAYER_TRAINABLE = "trainable"  # a layer's flag in IDENTITY's LAYERS: "trainable" or LAYER_FROZEN
# PREPROCESSING (flowers.training.preprocessing): the function found, its parameters and a digest of its behaviour
FUNCTION = "function"
MODE = "mode"
CHANNELS = "channels"
MEAN = "mean"
STD = "std"
RANGE = "range"
DIGEST = "digest"
UNKNOWN = "unknown"
# WORK (flowers.training.work)
BACKBONE_IMAGES = "backbone_images"  # images through the frozen layers: once with the feature cache, every pass without
OPTIMIZER_STEPS = "optimizer_steps"  # the optimizer's iterations after fit
TRAIN_IMAGES = "train_images"  # read by the training input pipeline, every epoch
VALIDATION_IMAGES = "validation_images"
TEST_IMAGES = "test_images"
STEP_FLOPS = "step_flops"  # FLOPs of a training step, the mean over the steps run
TOTAL_FLOPS = "total_flops"  # FLOPs of the whole case: training, validation, test and the feature cache
# EXECUTION (flowers.training.work)
XLA = "xla"
ONEDNN = "onednn"
MIXED_PRECISION = "mixed_precision"

# The scores of an ok case, each with its valid range; a case without valid ones reads as INVALID.
SCORES = {TEST_ACCURACY: (0.0, 1.0, "a number in [0, 1]"), TEST_LOSS: (0.0, math.inf, "a finite number >= 0")}

# every key of a case's extra_info that this version writes (a reader's list, and the tests')
CASE_KEYS = (
    VARIANT,
    STATUS,
    ERROR,
    SEED,
    PROFILE,
    DESCRIPTION,
    CONFIG,
    CONFIG_HASH,
    DATASET,
    TEST_LOSS,
    TEST_ACCURACY,
    HISTORY,
    EPOCHS,
    TRAIN_SECONDS,
    EPOCH_SECONDS,
    EPOCH_STEP_SECONDS,
    EVAL_SECONDS,
    TRAIN_THROUGHPUT,
    STEADY_THROUGHPUT,
    PARAMS_TOTAL,
    PARAMS_TRAINABLE,
    MODEL_FINGERPRINT,
    ARCHITECTURE,
    WEIGHTS_IDENTITY,
    FEATURE_CACHE,
    FLOPS_PER_IMAGE,
    ACHIEVED_GFLOPS,
    PEAK_GFLOPS,
    PEAK_MEMORY_BYTES,
    COMPILED_REUSED,
    WALL_SECONDS,
    DATA_CACHED,
    BREAKDOWN,
    IDENTITY,
    WORK,
    EXECUTION,
)


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number (not a bool), else None: how every number
    read from a result file is taken (an integer too large for a float is not finite either)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def invalid_score(info: dict[str, Any]) -> str | None:
    """Why an ok case's scores (:data:`SCORES`) are not valid, in one line; None when they are."""
    for key, (low, high, wanted) in SCORES.items():
        if key not in info:
            return f"{key} is missing"
        number = finite(info[key])
        if number is None or not low <= number <= high:
            return f"{key} is {one_line(json.dumps(info[key]), 40)}, not {wanted}"
    return None


def without_seed(config: dict[str, Any]) -> dict[str, Any]:
    """A case's config with its seed left out: what all seeds of one configuration share."""
    return {k: v for k, v in config.items() if k != SEED}


def config_hash(config: dict[str, Any]) -> str:
    """Identifies a configuration across seeds: 16 hex digits of its JSON, the seed left out."""
    return hashlib.sha256(json.dumps(without_seed(config), sort_keys=True).encode()).hexdigest()[:16]


def case_entry(
    name: str, variant: str, seed: int | None, status: str = OK, error: str | None = None, traceback: str | None = None
) -> dict[str, Any]:
    """One case of the run record; ``traceback`` only for a bug (not for a user's mistake)."""
    entry = {NAME: name, VARIANT: variant, SEED: seed, STATUS: status, ERROR: error}
    return {**entry, TRACEBACK: traceback} if traceback else entry


def run_record(
    profile: str,
    complete: bool,
    cases: list[dict[str, Any]],
    config_hash: str | None,
    shard: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The run record (``output_json["flowers"]``) of one session."""
    record = {SCHEMA_KEY: SCHEMA, PROFILE: profile, COMPLETE: complete, CASES: cases, CONFIG_HASH: config_hash}
    return {**record, SHARD: shard} if shard else record


def shard_record(index: int, count: int, basis: str, selection: list[dict[str, Any]]) -> dict[str, Any]:
    """``--shard K/N``'s part of the run record: this shard, the basis of the costs (``"previous
    run"`` or ``"flops estimate"``) and the whole selection (:func:`selection_entry` s)."""
    return {SHARD_INDEX: index, SHARD_COUNT: count, SHARD_BASIS: basis, SHARD_SELECTION: selection}


def selection_entry(name: str, variant: str, seed: int | None, shard: int, cost: float) -> dict[str, Any]:
    """One selected case of a sharded run: the shard that runs it and its expected cost."""
    return {NAME: name, VARIANT: variant, SEED: seed, SHARD: shard, COST: cost}


def schema_of(source: str, data: dict[str, Any]) -> int:
    """The schema a result file declares (the current one when it declares none)."""
    record = data.get(RUN)
    declared = record.get(SCHEMA_KEY, SCHEMA) if isinstance(record, dict) else SCHEMA
    if not isinstance(declared, int) or isinstance(declared, bool) or declared < 1:
        raise ResultsError(
            f"{source}: results schema {one_line(json.dumps(declared), 20)} is not a version number; {HOW_TO_MAKE}"
        )
    if declared > SCHEMA:
        raise ResultsError(
            f"{source}: results schema {declared} is newer than this flowers-bench reads ({SCHEMA}); "
            "upgrade flowers-bench"
        )
    return declared


def migrate(source: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a result file's JSON object) in the current layout: each migration step from its
    declared schema on, in order; ResultsError for a file of a newer schema or none that reads."""
    version = schema_of(source, data)
    while version < SCHEMA:
        data = MIGRATIONS[version](data)
        version += 1
        if isinstance(data.get(RUN), dict):
            data[RUN][SCHEMA_KEY] = version
    return data
