"""The suite's ``--`` options, each declared once: as a field of :class:`Options`.

A declaration (:func:`value` or :func:`switch`) gives the option's flag, its verb-named parser, its
help and its default, which the help shows; the field it declares is where the parsed value is read
(``flowers.options.epochs``).  The fields are grouped by concern, as pytest-benchmark's
``plugin.py`` groups its options, and ``--help`` lists them in that order under "flowers-bench".

A parser (``parse_*``) turns an option's text into its value and keeps argparse's ``type=``
contract: a ``ValueError`` says why the text cannot be used (shown as ``--flag TEXT: why``); a
:class:`~flowers.errors.UserError` from a check it delegates to (a data folder, a result file)
already names what is wrong and is shown as it is.  They are not given to argparse as ``type=``,
because pytest reports argparse's errors with its whole usage text: argparse only stores the text
(None: not given), and :func:`parse` runs the parsers when pytest starts (the ``pytest_configure``
of :mod:`.session`), before anything is collected.  So a bad option is one ``ERROR:`` line and exit
4 (pytest's ``UsageError``), and an option given can be told from its default (``--update-baseline``
refuses ``--seed 0``).

Each check lives in one place: every option's text is checked here, once, by its parser, and the
settings it gives are taken as they are by :func:`flowers.training.profiles.make_config`.  What only
collection knows, whether the image size suits every selected variant, is checked there
(:mod:`.collection`).  The help of a setting that profiles set is made from the profiles themselves
(:func:`flowers.training.profiles.shown_default`), so that it cannot drift.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from flowers import shards
from flowers.errors import OptionError, ResultsError
from flowers.text import one_line
from flowers.training.profiles import (
    DEFAULT_PROFILE,
    DISTRIBUTE_CHOICES,
    PROFILES,
    WEIGHT_MODES,
    TrainConfig,
    describe,
    parse_profile,
    shown_default,
)

if TYPE_CHECKING:
    from flowers.results import Run

BUILT_IN_DATA = ("tf_flowers", "synthetic")
OPTION = "flowers_option"  # the key of an Options field's metadata that holds its Option


def _whole(text: str, low: int, why: str = "") -> int:
    try:
        number = int(text)
    except ValueError:
        raise ValueError("not a whole number") from None
    if number < low:
        raise ValueError(f"must be at least {low}{why}")
    return number


def parse_count(text: str) -> int:
    """A whole number of at least 1 (epochs, seeds, a batch)."""
    return _whole(text, 1)


def parse_seed(text: str) -> int:
    return _whole(text, 0)


def parse_bytes(text: str) -> int:
    return _whole(text, 0)


def parse_rounds(text: str) -> int:
    """At least 2 rounds: the speed group interleaves plain, suite, suite, plain."""
    return _whole(text, 2)


def parse_image_size(text: str) -> int:
    return _whole(text, 8, " (32 for the pretrained backbones)")


def parse_learning_rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError("must be a positive number, e.g. 1e-4")
    return rate


def parse_distribute(text: str) -> str:
    if text not in DISTRIBUTE_CHOICES:
        raise ValueError(f"unknown strategy; choose from {', '.join(DISTRIBUTE_CHOICES)}")
    return text


def parse_data(text: str) -> str:
    """A built-in data set, a flower_photos archive or a folder (DataError naming what is wrong)."""
    if text not in BUILT_IN_DATA:
        from flowers.training.data import existing_data  # no TensorFlow

        existing_data(text)
    return text


def parse_weights(text: str) -> str:
    if text not in WEIGHT_MODES and not Path(text).expanduser().is_dir():
        raise ValueError(f"not {', '.join(WEIGHT_MODES)} or an existing folder of weight files")
    return text


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` as (K, N)."""
    return shards.parse(text)


def parse_shard_times(text: str) -> dict[str, float]:
    """A result file's case times (ResultsError naming the file when it cannot be read)."""
    return shards.previous_seconds(text)


def parse_baseline(text: str) -> Run:
    from flowers.results import load_run  # no TensorFlow

    try:
        return load_run(text)
    except ResultsError as exc:  # it names the file; say which option gave it
        raise OptionError(f"--update-baseline {exc}") from None


@dataclass(frozen=True)
class Option:
    """How one field of :class:`Options` is given on the command line."""

    flag: str
    help: str
    shown: str  # the default in words, as the help shows it
    parse: Callable[[str], Any] | None = None  # None: a switch, which takes no value
    metavar: str | None = None
    const: Any = True  # what a switch sets
    negative: tuple[str, str] | None = None  # a switch's opposite (its flag and help), which sets ``not const``
    repeat: bool = False  # may be given again; the value is the tuple of them all

    def add_to(self, group: pytest.OptionGroup, name: str) -> None:
        help_ = f"{self.help} (default: {self.shown})".replace("%", "%%")
        if self.parse is None:
            group.addoption(self.flag, dest=_dest(name), action="store_true", help=help_)
        else:
            action = "append" if self.repeat else "store"
            group.addoption(self.flag, dest=_dest(name), metavar=self.metavar, action=action, help=help_)
        if self.negative:
            group.addoption(self.negative[0], dest=_dest(name, True), action="store_true", help=self.negative[1])

    def read(self, getoption: Callable[[str], Any], name: str) -> tuple[str, Any] | None:
        """(the flag given, its value), or None where the option was not given."""
        given = getoption(_dest(name))
        if self.negative and getoption(_dest(name, True)):
            if given:
                raise OptionError(f"{self.flag} and {self.negative[0]}: give one of them")
            return self.negative[0], not self.const
        if not given:
            return None
        if self.parse is None:
            return self.flag, self.const
        return self.flag, tuple(map(self._parsed, given)) if self.repeat else self._parsed(given)

    def _parsed(self, text: str) -> Any:
        assert self.parse is not None
        try:
            return self.parse(text)
        except ValueError as exc:
            raise OptionError(f"{self.flag} {text}: {exc}") from None


def _dest(name: str, negative: bool = False) -> str:
    return f"flowers_{'no_' * negative}{name}"


def value(
    flag: str,
    parse: Callable[[str], Any],
    metavar: str,
    help: str,
    *,
    default: Any = None,
    shown: str | None = None,
    repeat: bool = False,
) -> Any:
    """An :class:`Options` field given as ``flag VALUE``; ``shown``: the default in words, where
    ``default`` itself does not say it."""
    option = Option(flag, help, str(default) if shown is None else shown, parse, metavar, repeat=repeat)
    return field(default=default, metadata={OPTION: option})


def switch(
    flag: str,
    help: str,
    *,
    default: bool | None = None,
    const: bool = True,
    negative: tuple[str, str] | None = None,
    shown: str = "off",
) -> Any:
    """An :class:`Options` field given as a ``flag`` alone (or its ``negative``)."""
    return field(default=default, metadata={OPTION: Option(flag, help, shown, const=const, negative=negative)})


PROFILE_HELP = f"settings profile: {'; or '.join(map(describe, PROFILES))}"
JIT_SHOWN = f"{shown_default('jit_compile')}; auto: on where XLA is faster, see docs/speed.md"


@dataclass(frozen=True)
class Options:
    """The command line, parsed: one field per option, its default where the option was not given.
    A setting's default is None: the profile's (or, where no profile sets it, TrainConfig's)."""

    # What runs: the profile, the variants, their seeds.
    profile: str = value("--profile", parse_profile, "NAME", PROFILE_HELP, default=DEFAULT_PROFILE)
    variants_from: tuple[str, ...] = value(
        "--variants-from",
        str,
        "FILE",
        "a Python file (or importable module) that registers your own variants with flowers.register; "
        "repeat for several",
        default=(),
        shown="none",
        repeat=True,
    )
    seed: int = value("--seed", parse_seed, "K", "first seed", default=0)
    seeds: int = value("--seeds", parse_count, "N", "run every variant with N seeds: K, K+1, ...", default=1)

    # The training settings (TrainConfig's fields).
    epochs: int | None = value("--epochs", parse_count, "N", "training epochs", shown=shown_default("epochs"))
    batch_size: int | None = value("--batch-size", parse_count, "N", "batch size", shown=shown_default("batch_size"))
    image_size: int | None = value(
        "--image-size",
        parse_image_size,
        "PX",
        "images are resized to PX x PX pixels (each variant needs its backbone's minimum, 32 px for the "
        "pretrained ones)",
        shown=shown_default("image_size"),
    )
    learning_rate: float | None = value(
        "--learning-rate", parse_learning_rate, "RATE", "Adam learning rate", shown="each variant's own"
    )
    jit_compile: bool | None = switch(
        "--jit-compile",
        "compile training steps with XLA",
        negative=("--no-jit-compile", "never compile training steps with XLA"),
        shown=JIT_SHOWN,
    )
    mixed_precision: bool | None = switch(
        "--mixed-precision", "train in mixed float16 (GPU)", shown=shown_default("mixed_precision")
    )
    feature_cache: bool | None = switch(
        "--no-feature-cache",
        "compute the frozen layers' outputs every epoch instead of caching them once",
        const=False,
        shown="cached",
    )
    distribute: str | None = value(
        "--distribute",
        parse_distribute,
        "STRATEGY",
        "none: one device; mirrored: tf.distribute.MirroredStrategy over the visible GPUs, global batch = --batch-size",
        shown=shown_default("distribute"),
    )

    # The data and the weights.
    data: str | None = value(
        "--data",
        parse_data,
        "DATA",
        "tf_flowers, synthetic, the flower_photos archive, or a folder of images (class sub-folders, or "
        "train/ validation/ test/ splits)",
        shown=shown_default("data"),
    )
    weights: str | None = value(
        "--weights",
        parse_weights,
        "WEIGHTS",
        "imagenet, none, random-calibrated (random, calibrated on training images), or a folder of "
        "weight files (see docs/running.md)",
        shown=shown_default("weights"),
    )
    strict_data: bool = switch(
        "--strict-data", "fail on unreadable images instead of skipping them with a warning", default=False
    )
    cache_memory_limit: int | None = value(
        "--cache-memory-limit",
        parse_bytes,
        "BYTES",
        "bytes of cached features kept in memory before streaming from disk",
        shown="a quarter of RAM",
    )

    # Which of the selected cases run here, and the speed group's rounds.
    shard: tuple[int, int] | None = value(
        "--shard",
        parse_shard,
        "K/N",
        "run shard K of N (e.g. 1/2) of the selected cases, balanced by expected cost (see docs/sharding.md)",
        shown="all of them",
    )
    shard_times: Mapping[str, float] | None = value(
        "--shard-times",
        parse_shard_times,
        "FILE",
        "a previous run's --benchmark-json whose case times balance --shard",
        shown="a FLOPs estimate",
    )
    speed_rounds: int = value(
        "--speed-rounds",
        parse_rounds,
        "N",
        "speed group: rounds of each pipeline, interleaved plain, suite, suite, plain...",
        default=2,
    )

    # What the session writes besides pytest-benchmark's files.
    tensorboard: Path | None = value(  # noqa: RUF009 - value() returns a dataclasses.field
        "--tensorboard",
        Path,
        "DIR",
        "write each case's TensorBoard logs (per-epoch scalars, config as HParams) into DIR/<variant>-seed=<k>/",
        shown="off",
    )
    update_baseline: Run | None = value(  # noqa: RUF009 - value() returns a dataclasses.field
        "--update-baseline",
        parse_baseline,
        "FILE",
        "accept a change on purpose: run the selected variants (-k) with the seeds of FILE, a baseline "
        "such as benchmarks/baselines/smoke-cpu.json, and when every case passed rewrite their cases "
        "there (the other variants' as they were); the command flowers check prints when facts changed",
        shown="off",
    )

    given: Mapping[str, str] = field(default_factory=dict)  # option -> the flag given, in the order declared

    def settings(self) -> dict[str, Any]:
        """The TrainConfig settings as given (None where not given: the profile's)."""
        return {name: getattr(self, name) for name in SETTINGS}


OPTIONS = {f.name: f.metadata[OPTION] for f in fields(Options) if OPTION in f.metadata}
SETTINGS = tuple(name for name in OPTIONS if name in {f.name for f in fields(TrainConfig)})


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flowers", "flowers-bench")
    for name, option in OPTIONS.items():
        option.add_to(group, name)


def parse(getoption: Callable[[str], Any]) -> Options:
    """The options as given (``config.getoption``), parsed; OptionError (or another UserError)
    naming the first that cannot be used."""
    given: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, option in OPTIONS.items():
        found = option.read(getoption, name)
        if found is not None:
            given[name], values[name] = found
    return Options(**values, given=given)


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
