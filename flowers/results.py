"""Read result files: the one typed reader of the format :mod:`flowers.schema` defines.

:func:`load_run` gives a :class:`Run` of :class:`Case` s.  Everything here is plain JSON parsing:
nothing from a result file is executed or unpickled, and no path read from a file is ever written
to.  Errors are :class:`~flowers.errors.ResultsError` with a one-line message naming the file and
the fix.  A file is brought to the current layout on load (:func:`flowers.schema.migrate`); one of
a newer schema is refused.  Report and check read a case through the accessors of :class:`Case`
(and numbers through :func:`finite`, names through :func:`text`), not through ``extra_info`` keys
of their own; an accessor gives its declared type whatever the file holds.

Invalid data is never read as a score: a case marked ok whose ``test_accuracy`` or ``test_loss`` is
missing, not a number, not finite or out of range (:data:`flowers.schema.SCORES`) reads with status ``invalid``
and a one-line error, so check fails it like a failed case.  On load (:func:`read_json`) every
string is made encodable (a lone surrogate is kept as its escape text) and a file nested deeper
than :data:`MAX_DEPTH` is refused, so that no later step can fail on either.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowers import schema
from flowers.errors import ResultsError
from flowers.schema import CASE_THROUGHPUT, HOW_TO_MAKE, INVALID, STEADY_THROUGHPUT, finite, invalid_score
from flowers.text import one_line

# Throughput figures, from the most to the least specific: the steps of epochs 2+ (no tracing, no
# cache build), the whole training, the whole case (data load and model building included).
THROUGHPUTS = (STEADY_THROUGHPUT, schema.TRAIN_THROUGHPUT, CASE_THROUGHPUT)
REQUIRED_EXTRA = (schema.VARIANT, schema.CONFIG, schema.CONFIG_HASH, schema.DATASET)
MAX_DEPTH = 64  # a result file nests about ten levels; far deeper is no result file (and exhausts the stack)
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # the only way a lone surrogate gets into JSON text


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
        """Training images per second by one of :data:`THROUGHPUTS`; ``case_images_per_second``
        is derived (training images of every epoch over the case's whole wall time)."""
        if key != CASE_THROUGHPUT:
            return self.metric(key)
        rate, train, wall = (
            self.metric(schema.TRAIN_THROUGHPUT),
            self.metric(schema.TRAIN_SECONDS),
            self.metric(schema.WALL_SECONDS),
        )
        return rate * train / wall if rate and train and wall else None

    def metric(self, key: str) -> float | None:
        return finite(self.info.get(key))


def metric_values(cases: Iterable[Case], key: str) -> list[float]:
    """The metric ``key`` of each case that recorded it as a finite number."""
    return [v for v in (c.metric(key) for c in cases) if v is not None]


@dataclass
class Run:
    """One result file: every case of one ``pytest benchmarks`` session."""

    source: str
    datetime: str
    commit: dict[str, Any]
    machine: dict[str, Any]
    profile: str | None
    complete: bool
    cases: list[Case]

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


def _encodable(value: str) -> str:
    """``value``, with any lone surrogate (JSON's ``"\\ud800"``, which no file or terminal can take)
    written as its escape text."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _check_depth(path: Path, data: Any) -> None:
    """Refuse ``data`` nested more than :data:`MAX_DEPTH` levels (walked level by level, not
    recursively), so that no reader after this one can exhaust the stack."""
    level = [data] if isinstance(data, (dict, list)) else []
    for _ in range(MAX_DEPTH):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, (dict, list))
        ]
        if not level:
            return
    raise ResultsError(f"{path}: nests more than {MAX_DEPTH} levels deep (not a result file); {HOW_TO_MAKE}")


def _encode_strings(data: Any) -> Any:
    """``data`` with every string (keys too) made encodable (:func:`_encodable`), walked iteratively."""
    if isinstance(data, str):
        return _encodable(data)
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in [k for k in node if _encodable(k) is not k]:
                node[_encodable(key)] = node.pop(key)
        for key, value in list(node.items() if isinstance(node, dict) else enumerate(node)):
            if isinstance(value, str):
                node[key] = _encodable(value)
            elif isinstance(value, (dict, list)):
                stack.append(value)
    return data


def read_json(path: str | Path) -> Any:
    """The JSON in ``path``, every string encodable, nested at most :data:`MAX_DEPTH` levels;
    :class:`ResultsError` when it cannot be read."""
    path = Path(path)
    if not path.exists():
        raise ResultsError(f"{path}: no such file; {HOW_TO_MAKE}")
    if path.is_dir():
        raise ResultsError(f"{path}: is a folder without result files; {HOW_TO_MAKE}")
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot be read ({exc}); give a JSON file from --benchmark-json") from None
    if not content.strip():
        raise ResultsError(f"{path}: is empty (an interrupted run?); {HOW_TO_MAKE}")
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{path}: is not valid JSON (line {exc.lineno}: {exc.msg}; truncated?); {HOW_TO_MAKE}"
        ) from None
    except RecursionError:
        raise ResultsError(f"{path}: nests too deeply to be read (not a result file); {HOW_TO_MAKE}") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ResultsError(f"{path}: is not usable JSON ({one_line(exc, 80)}); {HOW_TO_MAKE}") from None
    _check_depth(path, data)
    return _encode_strings(data) if SURROGATE_ESCAPE.search(content) else data


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


def _listed_cases(run_info: dict[str, Any], seen: set[str]) -> list[Case]:
    """Cases that failed before recording anything: only listed in the run-level record."""
    cases = []
    for rec in map(_dict, _list(run_info.get(schema.CASES))):
        name, variant = text(rec.get(schema.NAME)), text(rec.get(schema.VARIANT))
        if name and variant and name not in seen:
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
    cases += _listed_cases(run_info, {c.name for c in cases})
    if not cases:
        raise ResultsError(f"{path}: holds no benchmark cases (did every case fail to start?); {HOW_TO_MAKE}")
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
