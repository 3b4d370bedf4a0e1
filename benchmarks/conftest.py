"""pytest-benchmark integration: options, one case per variant (and seed), machine info, run record.

Options come in through ``pytest_addoption``; every case's results go into ``benchmark.extra_info``;
``machine_info["flowers"]`` gets the TensorFlow/Keras versions and the device; the JSON's top-level
``"flowers"`` record lists every selected case with its status, failed ones included.
"""

from __future__ import annotations

import functools
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest

from flowers.registry import VARIANTS

# Interrupt and saving rules (SIGTERM like Ctrl-C, --benchmark-json never emptied); loaded here so
# that they act only in sessions that run these cases.
pytest_plugins = ["flowers.pytest_plugin"]

# Installed distributions that can change a result or the suite's behaviour; recorded per run so
# that the report's history names the ones that changed.
PACKAGES = ("flowers-bench", "tensorflow", "tensorflow-cpu", "keras", "tensorflow-datasets", "numpy",
            "pytest", "pytest-benchmark")
_cases = pytest.StashKey[dict]()  # nodeid -> {"name", "variant", "seed", "status", "error"}
_shard = pytest.StashKey[dict]()  # {"index", "count", "basis", "selection": [{"name", "variant", "seed", "shard", "cost"}]}

OPTIONS = [
    # flag, dest, type, help
    ("--profile", "profile", str, "settings profile: paper (tf_flowers, 160 px, ImageNet, 10 epochs) or smoke (synthetic, 32 px, random weights, 2 epochs); default paper"),
    ("--data", "data", str, "tf_flowers, synthetic, or a folder of images (class sub-folders, or train/ validation/ test/ splits)"),
    ("--weights", "weights", str, "imagenet, none, random-calibrated (random, calibrated on training images: smoke), or a folder of weight files (see README)"),
    ("--epochs", "epochs", int, "training epochs"),
    ("--image-size", "image_size", int, "images are resized to N x N pixels"),
    ("--batch-size", "batch_size", int, "batch size"),
    ("--learning-rate", "learning_rate", float, "Adam learning rate (default: each variant's own, 1e-4 for the original four)"),
    ("--seed", "seed", int, "first seed (default 0)"),
    ("--seeds", "seeds", int, "run every variant with N seeds: seed, seed+1, ... (default 1)"),
    ("--variants-from", "variants_from", str, "a Python file (or importable module) that registers your own variants with flowers.register; repeat for several"),
    ("--cache-memory-limit", "cache_memory_limit", int, "bytes of cached features kept in memory before streaming from disk (default: a quarter of RAM)"),
    ("--tensorboard", "tensorboard", str, "write each case's TensorBoard logs (per-epoch scalars, config as HParams) into DIR/<variant>-seed=<k>/; default off"),
    ("--speed-rounds", "speed_rounds", int, "speed group: rounds of each pipeline, interleaved plain, suite, suite, plain... (default 2)"),
    ("--distribute", "distribute", str, "none (default: one device) or mirrored (tf.distribute.MirroredStrategy over the visible GPUs; global batch = --batch-size)"),
    ("--shard", "shard", str, "run shard K of N (e.g. 1/2) of the selected cases, balanced by expected cost (see README)"),
    ("--shard-times", "shard_times", str, "a previous run's --benchmark-json whose case times balance --shard (default: a FLOPs estimate)"),
]
FLAGS = [
    ("--no-feature-cache", "no_feature_cache", "train every layer's forward pass each epoch instead of caching frozen-layer outputs"),
    ("--strict-data", "strict_data", "fail on unreadable images instead of skipping them with a warning"),
    ("--mixed-precision", "mixed_precision", "train in mixed float16 (GPU); default off"),
    ("--jit-compile", "jit_compile", "compile training steps with XLA (default: the profile's; smoke: auto, see README)"),
    ("--no-jit-compile", "no_jit_compile", "never compile training steps with XLA"),
]


def pytest_addoption(parser):
    group = parser.getgroup("flowers", "flowers-bench")
    for flag, dest, type_, help_ in OPTIONS:
        action = "append" if dest == "variants_from" else "store"
        group.addoption(flag, dest=f"flowers_{dest}", type=type_, default=None, action=action, help=help_)
    for flag, dest, help_ in FLAGS:
        group.addoption(flag, dest=f"flowers_{dest}", action="store_true", default=False, help=help_)


def _option(config, dest):
    return config.getoption(f"flowers_{dest}")


@functools.lru_cache(maxsize=None)
def _run_config(config, variant=None):
    """The resolved TrainConfig of the session (or of one variant: a profile may set some of its
    settings per variant), seed of the first case; ValueError with a one-line reason if invalid."""
    from flowers.profiles import make_config

    overrides = {dest: _option(config, dest) for _, dest, *_ in OPTIONS
                 if dest not in ("profile", "seeds", "cache_memory_limit", "variants_from", "tensorboard", "speed_rounds",
                                 "shard", "shard_times")}
    overrides["feature_cache"] = not _option(config, "no_feature_cache")
    overrides["mixed_precision"] = _option(config, "mixed_precision") or None
    overrides["jit_compile"] = _jit_compile(config)
    return make_config(_option(config, "profile") or "paper", variant, **overrides)


def _jit_compile(config) -> bool | None:
    """--jit-compile: True; --no-jit-compile: False; neither: None (the profile's)."""
    on, off = _option(config, "jit_compile"), _option(config, "no_jit_compile")
    if on and off:
        raise ValueError("--jit-compile and --no-jit-compile: give one of them")
    return True if on else False if off else None


def pytest_configure(config):
    config.stash[_cases] = {}
    for source in _option(config, "variants_from") or []:
        _import_variants(source)


def _import_variants(source: str) -> None:
    """Run a user's file or module, whose ``flowers.register(...)`` calls add variants before collection."""
    import importlib
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(source)
    try:
        if source.endswith(".py"):
            if not path.is_file():
                raise pytest.UsageError(f"--variants-from {source}: no such file; give a .py file or an importable module")
            spec = importlib.util.spec_from_file_location(f"flowers_user_variants_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            importlib.import_module(source)
    except pytest.UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - the user's code: one line naming it
        raise pytest.UsageError(f"--variants-from {source}: {type(exc).__name__}: {exc}") from None


def pytest_generate_tests(metafunc):
    if not {"variant", "seed"} <= set(metafunc.fixturenames):
        return
    first = _option(metafunc.config, "seed") or 0
    seeds = range(first, first + max(1, _option(metafunc.config, "seeds") or 1))
    cases = [(v, s) for v in VARIANTS for s in seeds]
    metafunc.parametrize(("variant", "seed"), cases, ids=[f"{v}-seed={s}" for v, s in cases])


@pytest.hookimpl(trylast=True)  # after -k/-m deselection, so that the shards split what is left
def pytest_collection_modifyitems(config, items):
    """The side-by-side speed cases are slow: they run only when asked for (-k speed or -m speed)."""
    if "speed" not in (config.getoption("keyword") or "") + (config.getoption("markexpr") or ""):
        _deselect(config, items, [item for item in items if not item.get_closest_marker("speed")])
    if _option(config, "shard"):
        _select_shard(config, items)


def _deselect(config, items, keep):
    deselected = [item for item in items if item not in keep]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = keep


def _select_shard(config, items):
    """``--shard K/N``: keep this shard's variant cases (other tests stay in shard 1)."""
    from flowers import shards

    try:
        k, n = shards.parse(_option(config, "shard"))
        seconds = shards.previous_seconds(_option(config, "shard_times")) if _option(config, "shard_times") else None
        run_config = _run_config(config)
    except ValueError as exc:  # ResultsError is a ValueError too
        raise pytest.UsageError(str(exc)) from None
    cases = {item.name: item for item in items if _variant_seed(item)}

    @functools.cache
    def variant_cost(variant):
        epochs = _run_config(config, variant).epochs
        return shards.estimate_flops(variant, run_config.image_size, epochs, run_config.feature_cache)

    costs = shards.case_costs(((name, _variant_seed(item)[0]) for name, item in cases.items()), variant_cost, seconds)
    owner = shards.shard_of(costs, n)
    config.stash[_shard] = {"index": k, "count": n, "basis": "previous run" if seconds else "flops estimate",
                            "selection": [{"name": name, "variant": _variant_seed(item)[0],
                                           "seed": _variant_seed(item)[1], "shard": owner[name], "cost": costs[name]}
                                          for name, item in cases.items()]}
    _deselect(config, items, [item for item in items if (item.name not in cases and k == 1) or owner.get(item.name) == k])


def _variant_seed(item):
    """(variant, seed) of a variant case, else None."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    return (params["variant"], params["seed"]) if {"variant", "seed"} <= set(params) else None


_LOADED: dict[tuple, object] = {}  # (data, image_size, strict) -> Splits, for this session
_LOADED_MAX = 4


def _load(data: str, image_size: int, strict: bool, progress) -> tuple[object, bool]:
    """(Splits, whether they came from this session's cache): each image is decoded and resized
    once per session, whatever the number of variants and seeds."""
    from flowers.data import load

    key = (data, image_size, strict)
    if key in _LOADED:
        return _LOADED[key], True
    if len(_LOADED) >= _LOADED_MAX:
        _LOADED.pop(next(iter(_LOADED)))
    _LOADED[key] = load(data, image_size, strict=strict, progress=progress)
    return _LOADED[key], False


@pytest.fixture
def progress(request):
    """A :class:`flowers.progress.Progress` that writes to the terminal while pytest captures output,
    so progress shows without -s: lines through pytest's terminal reporter, live bars on a terminal."""
    from flowers.progress import Progress

    capman = request.config.pluginmanager.getplugin("capturemanager")
    reporter = request.config.pluginmanager.getplugin("terminalreporter")

    def write(line: str) -> None:
        with capman.global_and_fixture_disabled():
            reporter.write_line(f"  {line}")

    return Progress(write, capman.global_and_fixture_disabled, isatty=bool(reporter.isatty))


@pytest.fixture
def case_inputs(request, variant, seed, progress):
    """A function giving this case's (TrainConfig, data loader, cache memory limit, TensorBoard dir).

    Called inside the test, so that bad options fail the case itself with one line.  The loader
    gives (Splits, cached) or raises DataError (one line); it is meant to be called inside the
    case's clock, so that a case's time includes loading (or finding) its data, and bad data is
    then a failed case on record like a failed training.
    """
    from dataclasses import replace
    from pathlib import Path

    from flowers.measure import peak_gflops

    def load_data(config):
        return _load(config.data, config.image_size, _option(request.config, "strict_data"), progress)

    def inputs():
        try:
            config = replace(_run_config(request.config, variant), seed=seed)
        except ValueError as exc:
            message = str(exc)
        else:
            peak_gflops()  # measured once per session, before any case's clock starts
            tensorboard = _option(request.config, "tensorboard")
            log_dir = Path(tensorboard) / request.node.callspec.id if tensorboard else None
            return config, functools.partial(load_data, config), _option(request.config, "cache_memory_limit"), log_dir
        pytest.fail(message, pytrace=False)

    return inputs


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    case = _variant_seed(item)
    if case and (report.when == "call" or report.failed):
        record = item.config.stash[_cases].setdefault(item.nodeid, {
            "name": item.name, "variant": case[0], "seed": case[1],
            "status": "ok", "error": None,
        })
        if report.failed:
            record["status"] = "failed"
            record["error"] = _failure_message(report)
        elif report.skipped:
            record["status"] = "skipped"
    return report


def _failure_message(report) -> str:
    """A failed case's error, as pytest's short summary shows it: its crash message, on one line."""
    from flowers.text import one_line

    crash = getattr(report.longrepr, "reprcrash", None)
    return one_line(crash.message if crash else report.longrepr, 500) or "failed"


def pytest_benchmark_update_machine_info(config, machine_info):
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        device, kind = f"GPU: {details.get('device_name', gpus[0].name)}", "gpu"
    else:
        device, kind = f"CPU: {machine_info.get('cpu', {}).get('brand_raw', 'unknown')}", "cpu"
    machine_info["flowers"] = {"tensorflow": tf.__version__, "keras": keras.__version__,
                               "device": device, "device_kind": kind, "gpu_count": len(gpus),
                               "cores": usable_cores(tf.config.threading.get_intra_op_parallelism_threads()),
                               "packages": installed_versions(PACKAGES)}


def usable_cores(intra_op_threads: int) -> int:
    """CPU cores this process may run TensorFlow's ops on: its affinity (taskset, cgroups' cpusets),
    capped by TensorFlow's intra-op thread setting when one is given (0: TensorFlow's default)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(cores, intra_op_threads) if intra_op_threads > 0 else cores


def installed_versions(names) -> dict[str, str]:
    """``{distribution: version}`` for those of ``names`` that are installed."""
    from importlib import metadata

    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def pytest_benchmark_update_json(config, benchmarks, output_json):
    from flowers.pytest_plugin import interrupted  # imported by pytest_plugins above, not here: pytest rewrites it
    from flowers.results import SCHEMA

    output_json["flowers"] = {
        "schema": SCHEMA,
        "profile": _option(config, "profile") or "paper",
        "complete": not interrupted(config),
        "cases": list(config.stash[_cases].values()),
    }
    if _shard in config.stash:
        output_json["flowers"]["shard"] = config.stash[_shard]
    output_json["flowers"]["config_hash"] = _run_config_hash(config)


def _run_config_hash(config) -> str | None:
    """The session's settings (seed aside), so that ``flowers merge`` can refuse parts of other runs."""
    from dataclasses import asdict

    from flowers.train import config_hash

    try:
        return config_hash(asdict(_run_config(config)))
    except ValueError:
        return None
