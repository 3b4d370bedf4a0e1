"""The suite's ``--`` options: declared by concern, parsed and checked when pytest starts.

Each option has a parser that turns its text into a value or raises a one-line
:class:`~flowers.errors.OptionError`; :func:`pytest_configure` parses them all, imports the
``--variants-from`` files and resolves the session's settings (:func:`flowers.training.profiles.make_config`)
before pytest collects anything, so a bad option is one ``ERROR:`` line and exit 4 (pytest's usage
error), with no case run and no warning.  (argparse's own ``type=`` errors would print pytest's
usage text too.)  What only collection knows, whether the image size suits every selected variant,
is checked there (:mod:`flowers.training.pytest_plugin.collection`).  The help of the settings that profiles
set is made from the profiles themselves, so that it cannot drift.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest

from flowers import shards
from flowers.errors import OptionError, UserError
from flowers.text import one_line
from flowers.training import profiles
from flowers.training.profiles import DISTRIBUTE_CHOICES, PROFILES, WEIGHT_MODES, describe
from flowers.training.pytest_plugin import state, update_baseline

DEFAULT_PROFILE = "paper"
BUILT_IN_DATA = ("tf_flowers", "synthetic")


def whole(low: int) -> Callable[[str, str], int]:
    """A parser of whole numbers of at least ``low``."""

    def parse(flag: str, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise OptionError(f"{flag} {text}: not a whole number") from None
        if value < low:
            raise OptionError(f"{flag} {text}: must be at least {low}")
        return value

    return parse


def positive_number(flag: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise OptionError(f"{flag} {text}: not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise OptionError(f"{flag} {text}: must be a positive number, e.g. 1e-4")
    return value


def one_of(choices: tuple[str, ...] | dict) -> Callable[[str, str], str]:
    def parse(flag: str, text: str) -> str:
        if text not in choices:
            raise OptionError(f"{flag} {text}: unknown; choose from {', '.join(choices)}")
        return text

    return parse


def profile(flag: str, text: str) -> str:
    if text not in PROFILES:
        raise OptionError(f"{flag} {text}: unknown profile; choose from {', '.join(PROFILES)}")
    return text


def data(flag: str, text: str) -> str:
    if text not in BUILT_IN_DATA:
        from flowers.training.data import existing_data  # no TensorFlow; DataError names what is wrong

        existing_data(text)
    return text


def weights(flag: str, text: str) -> str:
    if text not in WEIGHT_MODES and not Path(text).expanduser().is_dir():
        raise OptionError(f"{flag} {text}: not {', '.join(WEIGHT_MODES)} or an existing folder of weight files")
    return text


def shard(flag: str, text: str) -> str:
    shards.parse(text)
    return text


def results_file(flag: str, text: str) -> str:
    shards.previous_seconds(text)  # ResultsError naming the file when it cannot be read
    return text


def text(flag: str, value: str) -> str:
    return value


def baseline_file(flag: str, value: str) -> str:
    from flowers.errors import ResultsError
    from flowers.results import load_run  # no TensorFlow

    try:
        load_run(value)
    except ResultsError as exc:  # it names the file; say which option gave it
        raise OptionError(f"{flag} {exc}") from None
    return value


@dataclass(frozen=True)
class Option:
    flag: str
    parse: Callable[[str, str], Any]
    help: str

    @property
    def dest(self) -> str:
        return self.flag[2:].replace("-", "_")


def _from_profiles(setting: str, what: str) -> str:
    """Help for a setting the profiles set, with each profile's value."""
    return f"{what} (default: the profile's: {', '.join(f'{p} {PROFILES[p][setting]}' for p in PROFILES)})"


# By concern: what runs, its settings, the data and weights, the run's shape, outputs.
OPTIONS = [
    Option(
        "--profile", profile, f"settings profile: {'; or '.join(map(describe, PROFILES))}; default {DEFAULT_PROFILE}"
    ),
    Option(
        "--variants-from",
        text,
        "a Python file (or importable module) that registers your own variants with "
        "flowers.register; repeat for several",
    ),
    Option("--epochs", whole(1), _from_profiles("epochs", "training epochs")),
    Option("--batch-size", whole(1), _from_profiles("batch_size", "batch size")),
    Option(
        "--image-size",
        whole(8),
        _from_profiles(
            "image_size",
            "images are resized to N x N pixels (each variant "
            "needs its backbone's minimum, 32 px for the pretrained ones)",
        ),
    ),
    Option(
        "--learning-rate",
        positive_number,
        "Adam learning rate (default: each variant's own, 1e-4 for the original four)",
    ),
    Option("--seed", whole(0), "first seed (default 0)"),
    Option("--seeds", whole(1), "run every variant with N seeds: seed, seed+1, ... (default 1)"),
    Option(
        "--data",
        data,
        _from_profiles(
            "data",
            "tf_flowers, synthetic, or a folder of images (class sub-folders, or train/ validation/ test/ splits)",
        ),
    ),
    Option(
        "--weights",
        weights,
        _from_profiles(
            "weights",
            "imagenet, none, random-calibrated (random, calibrated on "
            "training images), or a folder of weight files (see docs/running.md)",
        ),
    ),
    Option(
        "--distribute",
        one_of(DISTRIBUTE_CHOICES),
        "none (default: one device) or mirrored "
        "(tf.distribute.MirroredStrategy over the visible GPUs; "
        "global batch = --batch-size)",
    ),
    Option(
        "--cache-memory-limit",
        whole(0),
        "bytes of cached features kept in memory before streaming from disk (default: a quarter of RAM)",
    ),
    Option(
        "--shard",
        shard,
        "run shard K of N (e.g. 1/2) of the selected cases, balanced by expected cost (see docs/sharding.md)",
    ),
    Option(
        "--shard-times",
        results_file,
        "a previous run's --benchmark-json whose case times balance --shard (default: a FLOPs estimate)",
    ),
    Option(
        "--speed-rounds",
        whole(2),
        "speed group: rounds of each pipeline, interleaved plain, suite, suite, plain... (default 2)",
    ),
    Option(
        "--update-baseline",
        baseline_file,
        "accept a change on purpose: run the selected variants (-k) with the seeds of FILE, a baseline "
        "such as benchmarks/baselines/smoke-cpu.json, and when every case passed rewrite their cases "
        "there (the other variants' as they were); the command flowers check prints when facts changed",
    ),
    Option(
        "--tensorboard",
        text,
        "write each case's TensorBoard logs (per-epoch scalars, config as HParams) into "
        "DIR/<variant>-seed=<k>/; default off",
    ),
]
FLAGS = [
    ("--no-feature-cache", "train every layer's forward pass each epoch instead of caching frozen-layer outputs"),
    ("--strict-data", "fail on unreadable images instead of skipping them with a warning"),
    ("--mixed-precision", "train in mixed float16 (GPU); default off"),
    (
        "--jit-compile",
        "compile training steps with XLA (default: the profile's; smoke: auto for ResNet50V2, "
        "see flowers/training/xla.py)",
    ),
    ("--no-jit-compile", "never compile training steps with XLA"),
]
SETTINGS = {f.name for f in fields(profiles.TrainConfig)}  # options that are TrainConfig settings


@dataclass(frozen=True)
class Options:
    """The command line as parsed: None (False for a flag) where an option was not given."""

    profile: str | None = None
    variants_from: tuple[str, ...] = ()
    epochs: int | None = None
    batch_size: int | None = None
    image_size: int | None = None
    learning_rate: float | None = None
    seed: int | None = None
    seeds: int | None = None
    data: str | None = None
    weights: str | None = None
    distribute: str | None = None
    cache_memory_limit: int | None = None
    shard: str | None = None
    shard_times: str | None = None
    speed_rounds: int | None = None
    tensorboard: str | None = None
    update_baseline: str | None = None
    no_feature_cache: bool = False
    strict_data: bool = False
    mixed_precision: bool = False
    jit_compile: bool = False
    no_jit_compile: bool = False

    def settings(self) -> dict[str, Any]:
        """The TrainConfig settings given on the command line (the profile supplies the others)."""
        given = {name: getattr(self, name) for name in SETTINGS if hasattr(self, name)}
        given.update(
            feature_cache=not self.no_feature_cache,
            mixed_precision=self.mixed_precision or None,
            jit_compile=True if self.jit_compile else False if self.no_jit_compile else None,
        )
        return given

    def given_settings(self) -> dict[str, Any]:
        """The options given that set a TrainConfig setting (by option name, ``no_feature_cache`` for
        ``--no-feature-cache``), so that the profile's value is not the one used."""
        values = {name: getattr(self, name) for name in SETTINGS if hasattr(self, name)}
        flags = {flag[2:].replace("-", "_") for flag, _ in FLAGS} - {"strict_data"}
        values.update({name: getattr(self, name) for name in flags})
        return {name: value for name, value in values.items() if value not in (None, False)}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flowers", "flowers-bench")
    for option in OPTIONS:
        action = "append" if option.dest == "variants_from" else "store"
        group.addoption(option.flag, dest=f"flowers_{option.dest}", default=None, action=action, help=option.help)
    for flag, help_ in FLAGS:
        group.addoption(
            flag, dest=f"flowers_{flag[2:].replace('-', '_')}", action="store_true", default=False, help=help_
        )


def parse(config: pytest.Config) -> Options:
    """Every option, parsed; OptionError (or another UserError) naming the first bad one."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        given = config.getoption(f"flowers_{option.dest}")
        if given is None:
            continue
        if option.dest == "variants_from":
            values[option.dest] = tuple(given)
        else:
            values[option.dest] = option.parse(option.flag, given)
    for flag, _ in FLAGS:
        dest = flag[2:].replace("-", "_")
        values[dest] = bool(config.getoption(f"flowers_{dest}"))
    if values["jit_compile"] and values["no_jit_compile"]:
        raise OptionError("--jit-compile and --no-jit-compile: give one of them")
    return Options(**values)


@pytest.hookimpl(tryfirst=True)  # before any other plugin acts on a session that will not run
def pytest_configure(config: pytest.Config) -> None:
    try:
        options = parse(config)
        for source in options.variants_from:
            import_variants(source)
        run_config = profiles.make_config(options.profile or DEFAULT_PROFILE, **options.settings())
        update = update_baseline.prepare(options, options.profile or DEFAULT_PROFILE)
    except UserError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[state.KEY] = state.FlowersSession(options, run_config, update=update)


def import_variants(source: str) -> None:
    """Run a user's file or module, whose ``flowers.register(...)`` calls add variants before collection."""
    path = Path(source)
    try:
        if source.endswith(".py"):
            if not path.is_file():
                raise OptionError(f"--variants-from {source}: no such file; give a .py file or an importable module")
            spec = importlib.util.spec_from_file_location(f"flowers_user_variants_{path.stem}", path)
            if spec is None or spec.loader is None:
                raise OptionError(f"--variants-from {source}: not a Python file")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            importlib.import_module(source)
    except OptionError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's code: one line naming it
        raise OptionError(f"--variants-from {source}: {one_line(exc)}") from None
