"""Edit result files in code: a run that differs from a real one in a known way.

What the scripts that craft regressions and play nights (``scripts/crafted_regressions.py``,
``scripts/simulate_nights.py``) and the tests' factory of result files (``tests/factory.py``) do to
a run, written once: read one (:func:`load`), keep some seeds (:func:`keep_seeds`), set a variant's
values (:func:`edit`), make a case or a run slower (:func:`scaled`, :func:`slower`: the timing keys
of :data:`flowers.schema.TIMINGS` and the written throughputs of :data:`flowers.results.THROUGHPUTS`),
date it (:func:`dated`), rebuild its run record (:func:`recorded`) and write it atomically
(:func:`save`).  A run is a result file's JSON as a dict; every function returns a new one and
leaves its argument as it was.  Nothing here imports TensorFlow.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from flowers import schema
from flowers.atomic import write_text
from flowers.jsonfile import read_json
from flowers.results import THROUGHPUTS as READ_THROUGHPUTS

Run = dict[str, Any]
# The throughputs a case records (the whole case's is derived by readers, never written)
THROUGHPUTS = tuple(key for key in READ_THROUGHPUTS if key != schema.CASE_THROUGHPUT)


def load(path: str | Path) -> Run:
    """The JSON of the result file ``path``, as it is (no migration, no checks of its cases)."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: holds {type(data).__name__}, not a result file's JSON object")
    return data


def save(path: str | Path, run: Run, indent: int | None = None) -> Path:
    """``run`` written to ``path`` atomically (its folder made first); the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(run, indent=indent))
    return path


def infos(run: Run, variant: str | None = None) -> list[dict[str, Any]]:
    """The ``extra_info`` of every case of ``run`` (of ``variant`` only, when given), in order."""
    every = [bench[schema.EXTRA_INFO] for bench in run[schema.BENCHMARKS]]
    return [info for info in every if variant is None or info[schema.VARIANT] == variant]


def edit(run: Run, variant: str | None = None, /, **values: Any) -> Run:
    """``run`` with the ``extra_info`` keys ``values`` set in every ok case (of ``variant`` only,
    when given); a callable value is applied to the key's old value.  A failed case keeps its
    record as it is: it has no results to edit."""
    run = copy.deepcopy(run)
    for info in infos(run, variant):
        if info[schema.STATUS] == schema.OK:
            info.update({key: value(info[key]) if callable(value) else value for key, value in values.items()})
    return run


def _times(factor: float) -> Callable[[Any], Any]:
    """Multiply a number, each number of a list or each value of a dict by ``factor`` (None stays None)."""

    def scale(value: Any) -> Any:
        if isinstance(value, list):
            return [scale(v) for v in value]
        if isinstance(value, dict):
            return {k: scale(v) for k, v in value.items()}
        return value if value is None else value * factor

    return scale


def scaled(info: dict[str, Any], factor: float) -> dict[str, Any]:
    """A case's ``extra_info`` ``factor`` times slower: each timing (:data:`flowers.schema.TIMINGS`,
    the breakdown's parts) ``factor`` times longer, each throughput (:data:`THROUGHPUTS`) as much
    lower; ``factor`` < 1 makes it faster."""
    longer, lower = _times(factor), _times(1 / factor)
    keys = [*schema.TIMINGS, schema.BREAKDOWN, *THROUGHPUTS]
    return {**info, **{key: (lower if key in THROUGHPUTS else longer)(info[key]) for key in keys if key in info}}


def slower(run: Run, factor: float, variant: str | None = None) -> Run:
    """``run`` with every ok case (of ``variant`` only, when given) :func:`scaled` by ``factor``."""
    run = copy.deepcopy(run)
    for bench in run[schema.BENCHMARKS]:
        info = bench[schema.EXTRA_INFO]
        if info[schema.STATUS] == schema.OK and (variant is None or info[schema.VARIANT] == variant):
            bench[schema.EXTRA_INFO] = scaled(info, factor)
    return run


def keep_seeds(run: Run, seeds: Collection[int]) -> Run:
    """``run`` with the cases of ``seeds`` only, in its benchmarks and its run record alike."""
    run = copy.deepcopy(run)
    run[schema.BENCHMARKS] = [b for b in run[schema.BENCHMARKS] if b[schema.EXTRA_INFO][schema.SEED] in seeds]
    record = run[schema.RUN]
    record[schema.CASES] = [case for case in record[schema.CASES] if case[schema.SEED] in seeds]
    return run


def dated(run: Run, when: str, commit: str) -> Run:
    """``run`` as made at ``when`` (ISO 8601) from the clean commit ``commit``."""
    run = copy.deepcopy(run)
    run[schema.DATETIME] = when
    run[schema.COMMIT_INFO].update({schema.COMMIT_ID: commit, schema.COMMIT_TIME: when, schema.COMMIT_DIRTY: False})
    return run


def recorded(run: Run) -> Run:
    """``run`` with its run record's cases made from its benchmarks, one entry each."""
    run = copy.deepcopy(run)
    run[schema.RUN][schema.CASES] = [
        schema.case_entry(
            bench[schema.NAME],
            info[schema.VARIANT],
            info.get(schema.SEED),
            info[schema.STATUS],
            info.get(schema.ERROR),
        )
        for bench in run[schema.BENCHMARKS]
        for info in [bench[schema.EXTRA_INFO]]
    ]
    return run
