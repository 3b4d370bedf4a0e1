"""What a session records beside pytest-benchmark's own figures: each variant case's entry (failed
ones included: a bug with its traceback), ``machine_info["flowers"]`` and the run record
(:func:`flowers.schema.run_record`) in the JSON."""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict
from importlib import metadata
from typing import Any

import pytest

from flowers import schema
from flowers.text import one_line
from flowers.training.pytest_plugin.collection import variant_seed
from flowers.training.pytest_plugin.session import FlowersSession

# Installed distributions that can change a result or the suite's behaviour; recorded per run so
# that the report's history names the ones that changed.
PACKAGES = (
    "flowers-bench",
    "tensorflow",
    "tensorflow-cpu",
    "keras",
    "tensorflow-datasets",
    "numpy",
    "pytest",
    "pytest-benchmark",
)
TRACEBACK_CHARS = 20_000  # of a bug's traceback kept in the run record (its end, where the error is)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    case = variant_seed(item)
    if case and (report.when == "call" or report.failed):
        _record(FlowersSession.of(item.config), item, call, report, case)
    return report


def _record(
    flowers: FlowersSession,
    item: pytest.Item,
    call: pytest.CallInfo,
    report: pytest.TestReport,
    case: tuple[str, int],
) -> None:
    """The case's run-record entry and, when its benchmark ran, its extra_info (for the summary)."""
    if report.failed:
        # a bug keeps its traceback; a user's mistake (flowers.errors.UserError) failed in one line
        bug = not (call.excinfo and call.excinfo.errisinstance(pytest.fail.Exception))
        flowers.cases[item.nodeid] = schema.case_entry(
            item.name,
            *case,
            schema.FAILED,
            failure_message(report),
            report.longreprtext[-TRACEBACK_CHARS:] if bug else None,
        )
    elif report.skipped:
        flowers.cases[item.nodeid] = schema.case_entry(item.name, *case, schema.SKIPPED)
    else:
        flowers.cases.setdefault(item.nodeid, schema.case_entry(item.name, *case))
    benchmark = getattr(item, "funcargs", {}).get("benchmark")
    if benchmark is not None and benchmark.extra_info.get(schema.STATUS):
        flowers.results[item.nodeid] = dict(benchmark.extra_info)


def failure_message(report: pytest.TestReport) -> str:
    """A failed case's error, as pytest's short summary shows it: its crash message, on one line."""
    crash = getattr(report.longrepr, "reprcrash", None)
    return one_line(crash.message if crash else report.longrepr, 500) or "failed"


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        device, kind = f"GPU: {details.get('device_name', gpus[0].name)}", "gpu"
    else:
        device, kind = f"CPU: {machine_info.get(schema.CPU, {}).get(schema.CPU_BRAND, 'unknown')}", "cpu"
    machine_info[schema.ENVIRONMENT] = {
        schema.TENSORFLOW: tf.__version__,
        schema.KERAS: keras.__version__,
        schema.DEVICE: device,
        schema.DEVICE_KIND: kind,
        schema.GPU_COUNT: len(gpus),
        schema.CORES: usable_cores(tf.config.threading.get_intra_op_parallelism_threads()),
        schema.PACKAGES: installed_versions(PACKAGES),
    }


def usable_cores(intra_op_threads: int) -> int:
    """CPU cores this process may run TensorFlow's ops on: its affinity (taskset, cgroups' cpusets),
    capped by TensorFlow's intra-op thread setting when one is given (0: TensorFlow's default)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(cores, intra_op_threads) if intra_op_threads > 0 else cores


def installed_versions(names) -> dict[str, str]:
    """``{distribution: version}`` for those of ``names`` that are installed."""
    found = {}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):  # not installed
            found[name] = metadata.version(name)
    return found


def pytest_benchmark_update_json(config: pytest.Config, benchmarks, output_json: dict[str, Any]) -> None:
    flowers = FlowersSession.of(config)
    output_json[schema.RUN] = schema.run_record(
        flowers.options.profile,
        not flowers.interrupted,
        list(flowers.cases.values()),
        schema.config_hash(asdict(flowers.run_config)),
        flowers.shard,
    )
