"""The end of every run: one short table of what the run was for, each variant's test accuracy and
loss (mean ± 95% interval over its seeds), train time and status beside the original experiment's
figures (marked for orientation only when the run's data is not the original's, as the report
does), then each failed case with its one-line reason; at most :data:`WIDTH` columns.

pytest-benchmark's own timing table stays for those who want it, trimmed through its own options to
what one round means (:data:`COLUMNS`, sorted by name) unless ``--benchmark-columns`` or
``--benchmark-sort`` is given, and with failed cases left out of its ranking (their one round timed
a failure, not a training).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest

from flowers import registry, schema
from flowers.schema import finite
from flowers.stats import mean_ci95
from flowers.text import one_line
from flowers.training.pytest_plugin.session import FlowersSession

WIDTH = 100  # columns the summary fits in
NAME_WIDTH = 24  # a longer variant name is cut with …
COLUMNS = ("mean", "rounds")  # of pytest-benchmark's table: one round has no spread, no min or max of its own
SORT = "name"  # cases in the order of their names, not ranked by a time that means one round
HEADER = ("variant", "seeds", "status", "test accuracy", "test loss", "train", "original acc / loss")
LEFT = (0, 2)  # the columns of words; numbers align right
NONE = "—"
TITLE = "flowers-bench: test accuracy and loss (mean ± 95% interval over the seeds), train time, status"
ORIGINAL_DATA = "tf_flowers"  # the original experiment's data set (at 160 px)


def _given(config: pytest.Config, flag: str) -> bool:
    """Whether ``flag`` was given: on the command line, in PYTEST_ADDOPTS or in the ini's addopts."""
    args = [
        *map(str, config.invocation_params.args),
        *shlex.split(os.environ.get("PYTEST_ADDOPTS", "")),
        *config.getini("addopts"),
    ]
    return any(arg == flag or arg.startswith(f"{flag}=") for arg in args)


def pytest_configure(config: pytest.Config) -> None:  # before pytest-benchmark's (trylast) reads them
    if not _given(config, "--benchmark-columns"):
        config.option.benchmark_columns = list(COLUMNS)
    if not _given(config, "--benchmark-sort"):
        config.option.benchmark_sort = SORT


@pytest.hookimpl(wrapper=True)
def pytest_benchmark_group_stats(config: pytest.Config, benchmarks: list, group_by: str):
    """pytest-benchmark's table without the cases that failed."""
    groups = yield
    kept = [(name, [b for b in benches if _ok(b)]) for name, benches in groups]
    return [(name, benches) for name, benches in kept if benches]


def _ok(bench: Mapping[str, Any]) -> bool:
    return (bench.get(schema.EXTRA_INFO) or {}).get(schema.STATUS, schema.OK) == schema.OK


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's table, just before pytest's short summary
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    flowers = FlowersSession.of(terminalreporter.config)
    if flowers.cases:
        terminalreporter.ensure_newline()
        terminalreporter.write_line("")
        for line in lines(flowers.cases, flowers.results):
            terminalreporter.write_line(line)


def lines(
    cases: Mapping[str, Mapping[str, Any]], results: Mapping[str, Mapping[str, Any]], width: int = WIDTH
) -> list[str]:
    """The summary of the run record's ``cases`` and the ``results`` (extra_info) of those that got
    as far as their benchmark, both by node id: a table of the variants in the order they ran, then a
    line per case that is not ok with its reason (the case's own, else pytest's)."""
    variants = list(dict.fromkeys(c[schema.VARIANT] for c in cases.values()))
    rows = [
        _row(v, [(c, results.get(node, {})) for node, c in cases.items() if c[schema.VARIANT] == v]) for v in variants
    ]
    caveat = _caveat(results.values())
    header = (*HEADER[:-1], HEADER[-1] + "*") if caveat else HEADER
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    table = [
        "  ".join(cell.ljust(w) if i in LEFT else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths))).rstrip()
        for r in [header, *rows]
    ]
    if caveat:
        table.append(caveat)
    reasons = [
        "  "
        + one_line(
            f"{c[schema.NAME]} {c[schema.STATUS]}: "
            f"{results.get(node, {}).get(schema.ERROR) or c.get(schema.ERROR) or 'no reason'}",
            width - 2,
        )
        for node, c in cases.items()
        if c[schema.STATUS] != schema.OK
    ]
    return [_cut(line, width) for line in [TITLE, *table]] + reasons


def _caveat(results: Iterable[Mapping[str, Any]]) -> str:
    """A footnote when the run's data is not the original's (tf_flowers at 160 px): its scores
    beside the original's are for orientation only ("" for tf_flowers, or when nothing recorded it)."""
    data = next((d for r in results if isinstance(d := r.get(schema.DATASET), dict) and d.get(schema.NAME)), None)
    if data is None or data[schema.NAME] == ORIGINAL_DATA:
        return ""
    size = f" at {one_line(data[schema.IMAGE_SIZE], 8)} px" if data.get(schema.IMAGE_SIZE) else ""
    used = one_line(data[schema.NAME], 30) + size
    return f"* the original's on {ORIGINAL_DATA} at 160 px; this run used {used}: for orientation only"


def _cut(line: str, width: int) -> str:
    """``line``, cut to ``width`` columns with … (only a number far beyond any score gets there)."""
    return line if len(line) <= width else line[: width - 1] + "…"


def _row(variant: str, cases: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> tuple[str, ...]:
    """One variant's row from its (case entry, result) pairs."""
    ok = [result for case, result in cases if case[schema.STATUS] == schema.OK]
    if len(ok) == len(cases):
        status = schema.OK
    elif ok:
        status = f"{len(ok)}/{len(cases)} ok"
    else:
        status = schema.SKIPPED if all(case[schema.STATUS] == schema.SKIPPED for case, _ in cases) else schema.FAILED
    seconds = _values(ok, schema.TRAIN_SECONDS)
    original = registry.original(variant)
    return (
        one_line(variant, NAME_WIDTH),
        str(len(cases)),
        status,
        _stat(_values(ok, schema.TEST_ACCURACY)),
        _stat(_values(ok, schema.TEST_LOSS)),
        f"{sum(seconds) / len(seconds):.1f} s" if seconds else NONE,
        f"{original.test_accuracy:.3f} / {original.test_loss:.3f}" if original else NONE,
    )


def _values(results: Sequence[Mapping[str, Any]], key: str) -> list[float]:
    return [v for v in (finite(r.get(key)) for r in results) if v is not None]


def _number(value: float) -> str:
    return f"{value:.3f}" if abs(value) < 100 else f"{value:.3g}"


def _stat(values: list[float]) -> str:
    """``0.867``, or ``0.867 ± 0.012`` over several seeds."""
    if not values:
        return NONE
    mean, half = mean_ci95(values)
    return _number(mean) if half is None else f"{_number(mean)} ± {_number(half)}"
