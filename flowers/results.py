"""Read result files: the one typed reader of the format :mod:`flowers.schema` defines.

:func:`load_run` gives a :class:`Run` of :class:`Case` s.  Everything here is plain JSON parsing:
nothing from a result file is executed or unpickled, and no path read from a file is ever written
to.  Errors are :class:`~flowers.errors.ResultsError` with a one-line message naming the file and
the fix.  The JSON is read by :func:`flowers.jsonfile.read_json` (regular files only, encodable
strings, bounded depth).  A file is brought to the current layout on load
(:func:`flowers.schema.migrate`); one of a newer schema is refused, and so is one that names a case
twice (two cases of one name, or of one variant and seed, are not two seeds).  Report and check
read a case through the accessors of :class:`Case` (and numbers through :func:`finite`, names
through :func:`text`), not through ``extra_info`` keys of their own; an accessor gives its declared
type whatever the file holds.

Invalid data is never read as a score: a case marked ok whose ``test_accuracy`` or ``test_loss`` is
missing, not a number, not finite or out of range (:data:`flowers.schema.SCORES`) reads with status ``invalid``
and a one-line error, so check fails it like a failed case.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowers import schema
from flowers.errors import ResultsError
from flowers.jsonfile import read_json
from flowers.schema import CASE_THROUGHPUT, HOW_TO_MAKE, INVALID, STEADY_THROUGHPUT, finite, invalid_score
from flowers.text import one_line

# Throughput figures, from the most to the least specific: the steps of epochs 2+ (no tracing, no
# cache build), the whole training, the whole case (data load and model building included).
THROUGHPUTS = (STEADY_THROUGHPUT, schema.TRAIN_THROUGHPUT, CASE_THROUGHPUT)
REQUIRED_EXTRA = (schema.VARIANT, schema.CONFIG, schema.CONFIG_HASH, schema.DATASET)


class SkippedResultWarning(UserWarning):
    """An unreadable file found in a storage folder, skipped; the message names it and why."""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def text(value: Any) -> str | None:
    """``value`` when it is a non-empty string, else None: how every name read from a result file is taken."""
    return value if isinstance(value, str) and value else None


@dataclass
class Case:
    """One benchmark case: a variant trained once with one seed."""

    name: str
    variant: str
    seed: int | None
    status: str  # ok, failed, skipped, missing (a shard no part holds) or invalid (flowers.schema.SCORES)
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)  # the case's extra_info
    stats: dict[str, Any] = field(default_factory=dict)  # pytest-benchmark's timing stats
    machine: dict[str, Any] = field(default_factory=dict)  # machine_info of the process that ran it

    @property
    def hardware(self) -> dict[str, str | None]:
        """:func:`hardware` of the machine this case ran on (in a merged run, its own part's)."""
        return hardware(self.machine)

    @property
    def ok(self) -> bool:
        return self.status == schema.OK

    @property
    def config(self) -> dict[str, Any]:
        """The case's configuration as recorded ({} when absent, as for a case that never started)."""
        return _dict(self.info.get(schema.CONFIG))

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-epoch curves (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``) that are lists."""
        return {key: v for key, v in _dict(self.info.get(schema.HISTORY)).items() if isinstance(v, list)}

    @property
    def dataset(self) -> dict[str, Any]:
        return _dict(self.info.get(schema.DATASET))

    @property
    def test_images(self) -> int | None:
        """Size of the test split, when recorded."""
        n = _dict(self.dataset.get(schema.SPLITS)).get(schema.TEST)
        return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None

    @property
    def feature_cache(self) -> dict[str, Any]:
        return _dict(self.info.get(schema.FEATURE_CACHE))

    @property
    def breakdown(self) -> dict[str, Any]:
        return _dict(self.info.get(schema.BREAKDOWN))

    @property
    def fingerprint(self) -> str | None:
        """The model fingerprint (None in files made before fingerprints were recorded)."""
        return text(self.info.get(schema.MODEL_FINGERPRINT))

    @property
    def architecture(self) -> dict[str, Any] | None:
        arch = self.info.get(schema.ARCHITECTURE)
        return arch if isinstance(arch, dict) else None

    @property
    def weights(self) -> dict[str, Any] | None:
        w = self.info.get(schema.WEIGHTS_IDENTITY)
        return w if isinstance(w, dict) else None

    @property
    def config_hash(self) -> str | None:
        """The hash of the case's settings, seed aside (None when not recorded)."""
        return text(self.info.get(schema.CONFIG_HASH))

    @property
    def description(self) -> str | None:
        """The variant's description as recorded with the model (None in older files)."""
        return text(self.info.get(schema.DESCRIPTION))

    @property
    def data_cached(self) -> bool:
        """Whether the case found its data already loaded by an earlier case of the session."""
        return self.info.get(schema.DATA_CACHED) is True

    @property
    def steady_seconds(self) -> float | None:
        """Seconds of the training steps of epochs 2 and later: what steady throughput was timed over."""
        steps = self.info.get(schema.EPOCH_STEP_SECONDS)
        if not isinstance(steps, list) or len(steps) < 2 or not all(finite(s) is not None for s in steps):
            return None
        return float(sum(steps[1:]))

    def timed_seconds(self, throughput_key: str) -> float | None:
        """How long the throughput ``throughput_key`` (one of :data:`THROUGHPUTS`) was timed over."""
        if throughput_key == STEADY_THROUGHPUT:
            return self.steady_seconds
        return self.metric(schema.WALL_SECONDS if throughput_key == CASE_THROUGHPUT else schema.TRAIN_SECONDS)

    def throughput(self, key: str) -> float | None:
        """Training images per second by one of :data:`THROUGHPUTS`, None unless a positive number;
        ``case_images_per_second`` is derived (training images of every epoch over the case's whole
        wall time)."""
        if key != CASE_THROUGHPUT:
            rate = self.metric(key)
            return rate if rate is not None and rate > 0 else None
        rate, train, wall = (
            self.metric(schema.TRAIN_THROUGHPUT),
            self.metric(schema.TRAIN_SECONDS),
            self.metric(schema.WALL_SECONDS),
        )
        if not (rate and train and wall and rate > 0 and train > 0 and wall > 0):
            return None
        return finite(rate * train / wall)

    def metric(self, key: str) -> float | None:
        return finite(self.info.get(key))


def metric_values(cases: Iterable[Case], key: str) -> list[float]:
    """The metric ``key`` of each case that recorded it as a finite number."""
    return [v for v in (c.metric(key) for c in cases) if v is not None]


@dataclass
class Run:
    """One result file: every case of one ``pytest benchmarks`` session."""

    source: str
    datetime: str  # as the file gives it ("" when it gives no string)
    commit: dict[str, Any]
    machine: dict[str, Any]
    profile: str | None
    complete: bool
    cases: list[Case]
    datetime_value: Any = None  # the file's ``datetime`` as it is (any JSON value), for :meth:`when`'s messages

    def when(self) -> dt.datetime:
        """The run's date as an aware datetime in UTC (a date without an offset is UTC, as
        pytest-benchmark wrote before 5.0); ResultsError naming the file when it has none."""
        value = self.datetime_value if self.datetime_value is not None else self.datetime or None
        shown = one_line(json.dumps(value), 60)
        if not isinstance(value, str):
            raise ResultsError(f"{self.source}: datetime {shown} is not an ISO 8601 string; {HOW_TO_MAKE}")
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return (when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)
        except ValueError:
            raise ResultsError(f"{self.source}: datetime {shown} is not ISO 8601; {HOW_TO_MAKE}") from None
        except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
            raise ResultsError(
                f"{self.source}: datetime {shown} lies outside the years 1-9999 in UTC; {HOW_TO_MAKE}"
            ) from None

    @property
    def variants(self) -> list[str]:
        """Variant names in first-seen order."""
        return list(dict.fromkeys(c.variant for c in self.cases))

    def by_variant(self) -> dict[str, list[Case]]:
        groups: dict[str, list[Case]] = {}
        for case in self.cases:
            groups.setdefault(case.variant, []).append(case)
        return groups

    @property
    def dataset(self) -> dict[str, Any] | None:
        return next((case.dataset for case in self.cases if case.dataset), None)

    @property
    def environment(self) -> dict[str, Any]:
        """``machine_info["flowers"]``: versions, device, cores, packages ({} when not recorded)."""
        env = self.machine.get(schema.ENVIRONMENT)
        return env if isinstance(env, dict) else {}

    @property
    def machine_fields(self) -> dict[str, Any]:
        """The run's :func:`hardware` (a merged run: its first part's)."""
        return hardware(self.machine)

    @property
    def machine_key(self) -> tuple:
        """:attr:`machine_fields` as a tuple: same kind of machine and same device (values in that order)."""
        return tuple(self.machine_fields.values())

    @property
    def node(self) -> str | None:
        """The host name(s) the run was made on."""
        node = self.machine.get(schema.NODE)
        return str(node) if node else None


def hardware(machine_info: Any) -> dict[str, str | None]:
    """What makes two timings comparable, from a ``machine_info`` record: ``machine``
    (architecture), ``cpu`` (model: brand with its family and model numbers, which tell CPU
    generations of one brand apart), ``cores`` (that the process could use) and ``device`` (GPU
    name or CPU model); None where not recorded.  The host name is not part of it, so the identical
    machines of a runner pool share a baseline."""
    m = _dict(machine_info)
    cpu, env = _dict(m.get(schema.CPU)), _dict(m.get(schema.ENVIRONMENT))
    brand = cpu.get(schema.CPU_BRAND)
    if brand and cpu.get(schema.CPU_FAMILY) is not None:
        brand = f"{brand} (family {cpu.get(schema.CPU_FAMILY)}, model {cpu.get(schema.CPU_MODEL)})"
    values = {
        "machine": m.get(schema.MACHINE),
        "cpu": brand,
        "cores": env.get(schema.CORES),
        "device": env.get(schema.DEVICE),
    }
    return {k: (None if v is None or v == "" else str(v)) for k, v in values.items()}


def _seed(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _checked(status: str, error: Any, info: dict[str, Any]) -> tuple[str, str | None]:
    """A case's status and error as read: an ok case without valid scores is ``invalid``, saying why."""
    why = invalid_score(info) if status == schema.OK else None
    if why:
        return INVALID, why
    return status, None if error is None else str(error)


def _case(path: Path, bench: Any, index: int) -> Case:
    if not isinstance(bench, dict):
        raise ResultsError(f"{path}: benchmarks[{index}] is not an object; {HOW_TO_MAKE}")
    name = text(bench.get(schema.NAME)) or f"#{index}"
    info = bench.get(schema.EXTRA_INFO)
    if not isinstance(info, dict) or not text(info.get(schema.VARIANT)):
        raise ResultsError(
            f"{path}: benchmark {name!r} has no flowers-bench extra_info (not a flowers-bench run?); {HOW_TO_MAKE}"
        )
    status = str(info.get(schema.STATUS, schema.OK))
    if status == schema.OK:
        missing = [key for key in REQUIRED_EXTRA if key not in info]
        if missing:
            raise ResultsError(f"{path}: benchmark {name!r} lacks extra_info keys {', '.join(missing)}; {HOW_TO_MAKE}")
    status, error = _checked(status, info.get(schema.ERROR), info)
    return Case(
        name=name,
        variant=info[schema.VARIANT],
        seed=_seed(info.get(schema.SEED)),
        status=status,
        error=error,
        info=info,
        stats=_dict(bench.get(schema.STATS)),
    )


def _listed_cases(run_info: dict[str, Any], results: list[Case]) -> list[Case]:
    """Cases that failed before recording anything: only listed in the run-level record (a record
    of a case in ``results``, by name or by variant and seed, is not another case)."""
    names = {c.name for c in results}
    seeds = {(c.variant, c.seed) for c in results if c.seed is not None}
    cases = []
    for rec in map(_dict, _list(run_info.get(schema.CASES))):
        name, variant = text(rec.get(schema.NAME)), text(rec.get(schema.VARIANT))
        if name and variant and name not in names and (variant, _seed(rec.get(schema.SEED))) not in seeds:
            status, error = str(rec.get(schema.STATUS, schema.FAILED)), rec.get(schema.ERROR)
            if status == schema.OK:  # ok cases are in ``benchmarks``, with their scores
                status, error = INVALID, "listed as ok, but no result of it is in benchmarks"
            cases.append(
                Case(
                    name=name,
                    variant=variant,
                    seed=_seed(rec.get(schema.SEED)),
                    status=status,
                    error=None if error is None else str(error),
                )
            )
    return cases


def _refuse_twice(path: Path, cases: list[Case]) -> None:
    """ResultsError when two cases share a name, or a variant and seed: copies are not seeds."""
    names: set[str] = set()
    seeds: set[tuple[str, int]] = set()
    for case in cases:
        twice = case.name in names or (case.seed is not None and (case.variant, case.seed) in seeds)
        if twice:
            what = f"case {case.name!r}" if case.name in names else f"variant {case.variant!r} seed {case.seed}"
            raise ResultsError(
                f"{path}: holds {what} twice (a copy is not another seed); give the file "
                "pytest benchmarks wrote, or flowers merge for parts of one run"
            )
        names.add(case.name)
        if case.seed is not None:
            seeds.add((case.variant, case.seed))


def parse_run(path: str | Path, data: Any) -> Run:
    """The run in ``data``, the JSON read from ``path`` by :func:`read_json`."""
    path = Path(path)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get(schema.BENCHMARKS), list)
        or schema.MACHINE_INFO not in data
    ):
        raise ResultsError(f"{path}: is JSON but not pytest-benchmark output (no 'benchmarks'); {HOW_TO_MAKE}")
    data = schema.migrate(str(path), data)
    cases = [_case(path, b, i) for i, b in enumerate(data[schema.BENCHMARKS])]
    run_info = _dict(data.get(schema.RUN))
    cases += _listed_cases(run_info, cases)
    if not cases:
        raise ResultsError(f"{path}: holds no benchmark cases (did every case fail to start?); {HOW_TO_MAKE}")
    _refuse_twice(path, cases)
    profile = text(run_info.get(schema.PROFILE)) or next(
        (p for p in (text(c.info.get(schema.PROFILE)) for c in cases) if p), None
    )
    machine = _dict(data.get(schema.MACHINE_INFO))
    for case in cases:  # a merged run keeps each part's machine with its cases
        case.machine = _dict(case.info.get(schema.MACHINE_INFO)) or machine
    commit = {key: v for key, v in _dict(data.get(schema.COMMIT_INFO)).items() if not isinstance(v, (dict, list))}
    return Run(
        source=str(path),
        datetime=text(data.get(schema.DATETIME)) or "",
        commit=commit,
        machine=machine,
        profile=profile,
        complete=run_info.get(schema.COMPLETE, True) is True,
        cases=cases,
        datetime_value=data.get(schema.DATETIME),
    )


def load_run(path: str | Path) -> Run:
    """Load one ``--benchmark-json`` or autosave file."""
    return parse_run(path, read_json(path))


def expand(paths: list[str | Path]) -> list[tuple[Path, bool]]:
    """Result files named by ``paths``, each with whether it was found in a folder: files as given;
    folders (pytest-benchmark storage such as ``.benchmarks/``) searched for ``*.json``."""
    files: list[tuple[Path, bool]] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.rglob("*.json"))
            if not found:
                raise ResultsError(f"{p}: folder holds no result files; run pytest benchmarks --benchmark-autosave")
            files.extend((f, True) for f in found)
        else:
            files.append((p, False))
    return files


def load_runs(paths: list[str | Path]) -> list[Run]:
    """Load every run named by ``paths`` (files or storage folders), oldest first.

    A file named on its own that cannot be read raises :class:`ResultsError`; one found in a folder
    is skipped with a :class:`SkippedResultWarning` (one bad file does not hide a whole history).
    """
    runs = []
    for path, in_folder in expand(paths):
        try:
            runs.append(load_run(path))
        except ResultsError as exc:
            if not in_folder:
                raise
            warnings.warn(f"skipped {exc}", SkippedResultWarning, stacklevel=2)
    if not runs:
        raise ResultsError(f"{', '.join(map(str, paths))}: no readable result files; {HOW_TO_MAKE}")
    return sorted(runs, key=lambda r: r.datetime)


def load_newest(folder: str | Path) -> Run:
    """The newest run in a storage folder (as :func:`load_runs` orders them), for a check of it.

    Unlike :func:`load_runs`, an unreadable file that may be the newest (it sorts after the newest
    readable run by name, as pytest-benchmark numbers its autosaves) raises :class:`ResultsError`
    naming it, so that an older run is never checked in its place; older ones are skipped with a
    :class:`SkippedResultWarning`.
    """
    files = [path for path, _ in expand([folder])]
    runs: list[tuple[int, Run]] = []
    unreadable: list[tuple[int, ResultsError]] = []
    for i, path in enumerate(files):
        try:
            runs.append((i, load_run(path)))
        except ResultsError as exc:
            unreadable.append((i, exc))
    newest = max(runs, key=lambda pair: (pair[1].datetime, pair[0]), default=None)
    for i, error in unreadable:
        if newest is None or i > newest[0]:
            raise ResultsError(f"the newest result file in {folder} is unusable: {error}")
    for _, error in unreadable:
        warnings.warn(f"skipped {error}", SkippedResultWarning, stacklevel=2)
    assert newest is not None  # expand() found files, and any unreadable one raised above
    return newest[1]
