"""Read result files: pytest-benchmark JSON carrying flowers-bench's ``extra_info``.

A result file is what ``pytest benchmarks --benchmark-json FILE`` (or ``--benchmark-autosave``)
writes.  The parts this module reads:

* ``machine_info``: pytest-benchmark's, plus ``machine_info["flowers"]`` =
  ``{"tensorflow", "keras", "device", "device_kind", "gpu_count", "cores", "packages"}`` (device:
  GPU name or CPU model; kind ``"gpu"`` or ``"cpu"``; cores: CPU cores the process could use;
  packages: ``{distribution: version}``; the last two absent in files made before they were recorded).
* ``commit_info``: pytest-benchmark's (``id``, ``dirty``, ``time``, ``branch``...).
* ``datetime``: when the run was saved (ISO 8601).
* ``flowers``: run-level record added by our ``pytest_benchmark_update_json`` hook:
  ``{"schema": 1, "profile", "complete": bool, "cases": [{"name", "variant", "seed",
  "status", "error"}]}``; ``cases`` lists every selected case, failed ones included, and
  ``complete`` is false when the run was interrupted.  Also ``"config_hash"`` (the session's
  settings, seed aside); with ``--shard K/N``, ``"shard": {"index", "count", "basis", "selection":
  [{"name", "variant", "seed", "shard", "cost"}]}`` (the whole selection); in a file written by
  ``flowers merge``, ``"merged_from"`` and cases of missing shards with status ``"missing"``.
* ``benchmarks[i]``: pytest-benchmark's ``name``, ``stats``... and ``extra_info`` with at least
  ``variant, status ("ok"|"failed"), error, test_loss, test_accuracy, history{loss, accuracy,
  val_loss, val_accuracy}, epochs, train_seconds, epoch_seconds, eval_seconds,
  train_images_per_second, params_total, params_trainable, seed, config{...}, config_hash,
  dataset{name, splits{train, validation, test}, class_names, hash, ...}``.  Cases made since
  model fingerprints also hold ``description``, ``model_fingerprint``, ``architecture{input,
  classes, backbone, frozen_until, frozen_layers, layers[{class, ...non-default settings}],
  params_total, params_trainable}`` and ``weights_identity{source: none|imagenet|file|
  random-calibrated, file, sha256, images}`` (see :mod:`flowers.architecture`); older files lack
  them and read as "architecture not recorded".
  Results since the time breakdown add
  ``epoch_step_seconds``, ``steady_images_per_second`` (epochs 2+; null with one epoch),
  ``wall_seconds``, ``data_cached`` and ``breakdown{data_load, setup, feature_cache, first_epoch,
  later_epochs, evaluation, bookkeeping}`` (seconds, adding up to ``wall_seconds``); readers treat
  them as optional, so older files still load.

Everything here is plain JSON parsing: nothing from a result file is executed or unpickled, and no
path read from a file is ever written to.  Errors are :class:`ResultsError` with a one-line
message naming the file and the fix.  Report and check read a case through the accessors of
:class:`Case` (and numbers through :func:`finite`), not through ``extra_info`` keys of their own.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

SCHEMA = 1  # version of the run-level record ``flowers``; files of a newer one are refused on load
STEADY_THROUGHPUT = "steady_images_per_second"  # training images/s over epochs 2 and later
CASE_THROUGHPUT = "case_images_per_second"  # training images of all epochs over the case's wall time
# Throughput figures, from the most to the least specific: the steps of epochs 2+ (no tracing, no
# cache build), the whole training, the whole case (data load and model building included).
THROUGHPUTS = (STEADY_THROUGHPUT, "train_images_per_second", CASE_THROUGHPUT)
REQUIRED_EXTRA = ("variant", "test_loss", "test_accuracy", "config", "config_hash", "dataset")
HOW_TO_MAKE = "make one with: pytest benchmarks --benchmark-json FILE"


def without_seed(config: dict[str, Any]) -> dict[str, Any]:
    """A case's config with its seed left out: what all seeds of one configuration share."""
    return {k: v for k, v in config.items() if k != "seed"}


class ResultsError(ValueError):
    """A result file that cannot be used; the message is one line naming the file and the fix."""


class SkippedResultWarning(UserWarning):
    """An unreadable file found in a storage folder, skipped; the message names it and why."""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number (not a bool), else None: how every number
    read from a result file is taken."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


@dataclass
class Case:
    """One benchmark case: a variant trained once with one seed."""

    name: str
    variant: str
    seed: int | None
    status: str  # "ok" or "failed"
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
        return self.status == "ok"

    @property
    def config(self) -> dict[str, Any]:
        """The case's configuration as recorded ({} when absent, as for a case that never started)."""
        return _dict(self.info.get("config"))

    @property
    def history(self) -> dict[str, list[float]]:
        """Per-epoch curves (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``) that are lists."""
        return {k: v for k, v in _dict(self.info.get("history")).items() if isinstance(v, list)}

    @property
    def dataset(self) -> dict[str, Any]:
        return _dict(self.info.get("dataset"))

    @property
    def test_images(self) -> int | None:
        """Size of the test split, when recorded."""
        n = _dict(self.dataset.get("splits")).get("test")
        return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None

    @property
    def feature_cache(self) -> dict[str, Any]:
        return _dict(self.info.get("feature_cache"))

    @property
    def breakdown(self) -> dict[str, Any]:
        return _dict(self.info.get("breakdown"))

    @property
    def fingerprint(self) -> str | None:
        """The model fingerprint (None in files made before fingerprints were recorded)."""
        return self.info.get("model_fingerprint") or None

    @property
    def architecture(self) -> dict[str, Any] | None:
        arch = self.info.get("architecture")
        return arch if isinstance(arch, dict) else None

    @property
    def weights(self) -> dict[str, Any] | None:
        w = self.info.get("weights_identity")
        return w if isinstance(w, dict) else None

    @property
    def config_hash(self) -> str | None:
        """The hash of the case's settings, seed aside (None when not recorded)."""
        return self.info.get("config_hash") or None

    @property
    def description(self) -> str | None:
        """The variant's description as recorded with the model (None in older files)."""
        return self.info.get("description") or None

    @property
    def data_cached(self) -> bool:
        """Whether the case found its data already loaded by an earlier case of the session."""
        return self.info.get("data_cached") is True

    @property
    def steady_seconds(self) -> float | None:
        """Seconds of the training steps of epochs 2 and later: what steady throughput was timed over."""
        steps = self.info.get("epoch_step_seconds")
        if not isinstance(steps, list) or len(steps) < 2 or not all(finite(s) is not None for s in steps):
            return None
        return float(sum(steps[1:]))

    def timed_seconds(self, throughput_key: str) -> float | None:
        """How long the throughput ``throughput_key`` (one of :data:`THROUGHPUTS`) was timed over."""
        if throughput_key == STEADY_THROUGHPUT:
            return self.steady_seconds
        return self.metric("wall_seconds" if throughput_key == CASE_THROUGHPUT else "train_seconds")

    def throughput(self, key: str) -> float | None:
        """Training images per second by one of :data:`THROUGHPUTS`; ``case_images_per_second``
        is derived (training images of every epoch over the case's whole wall time)."""
        if key != CASE_THROUGHPUT:
            return self.metric(key)
        rate, train, wall = self.metric("train_images_per_second"), self.metric("train_seconds"), self.metric("wall_seconds")
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
        for case in self.cases:
            if case.info.get("dataset"):
                return case.info["dataset"]
        return None

    @property
    def environment(self) -> dict[str, Any]:
        """``machine_info["flowers"]``: versions, device, cores, packages ({} when not recorded)."""
        env = self.machine.get("flowers")
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
        node = self.machine.get("node")
        return str(node) if node else None


def hardware(machine_info: Any) -> dict[str, str | None]:
    """What makes two timings comparable, from a ``machine_info`` record: ``machine``
    (architecture), ``cpu`` (model: brand with its family and model numbers, which tell CPU
    generations of one brand apart), ``cores`` (that the process could use) and ``device`` (GPU
    name or CPU model); None where not recorded.  The host name is not part of it, so the identical
    machines of a runner pool share a baseline."""
    m = _dict(machine_info)
    cpu, env = _dict(m.get("cpu")), _dict(m.get("flowers"))
    brand = cpu.get("brand_raw")
    if brand and cpu.get("family") is not None:
        brand = f"{brand} (family {cpu.get('family')}, model {cpu.get('model')})"
    values = {"machine": m.get("machine"), "cpu": brand, "cores": env.get("cores"), "device": env.get("device")}
    return {k: (None if v is None or v == "" else str(v)) for k, v in values.items()}


def _read_json(path: Path) -> Any:
    if not path.exists():
        raise ResultsError(f"{path}: no such file; {HOW_TO_MAKE}")
    if path.is_dir():
        raise ResultsError(f"{path}: is a folder without result files; {HOW_TO_MAKE}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot be read ({exc}); give a JSON file from --benchmark-json") from None
    if not text.strip():
        raise ResultsError(f"{path}: is empty (an interrupted run?); {HOW_TO_MAKE}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{path}: is not valid JSON (line {exc.lineno}: {exc.msg}; truncated?); {HOW_TO_MAKE}"
        ) from None


def _case(path: Path, bench: Any, index: int) -> Case:
    if not isinstance(bench, dict):
        raise ResultsError(f"{path}: benchmarks[{index}] is not an object; {HOW_TO_MAKE}")
    name = str(bench.get("name", f"#{index}"))
    info = bench.get("extra_info")
    if not isinstance(info, dict) or "variant" not in info:
        raise ResultsError(
            f"{path}: benchmark {name!r} has no flowers-bench extra_info (not a flowers-bench run?); "
            f"{HOW_TO_MAKE}"
        )
    status = str(info.get("status", "ok"))
    if status == "ok":
        missing = [k for k in REQUIRED_EXTRA if k not in info]
        if missing:
            raise ResultsError(
                f"{path}: benchmark {name!r} lacks extra_info keys {', '.join(missing)}; {HOW_TO_MAKE}"
            )
    seed = info.get("seed")
    return Case(
        name=name,
        variant=str(info["variant"]),
        seed=seed if isinstance(seed, int) else None,
        status=status,
        error=info.get("error"),
        info=info,
        stats=bench.get("stats") if isinstance(bench.get("stats"), dict) else {},
    )


def load_run(path: str | Path) -> Run:
    """Load one ``--benchmark-json`` or autosave file."""
    path = Path(path)
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list) or "machine_info" not in data:
        raise ResultsError(f"{path}: is JSON but not pytest-benchmark output (no 'benchmarks'); {HOW_TO_MAKE}")
    cases = [_case(path, b, i) for i, b in enumerate(data["benchmarks"])]
    run_info = _dict(data.get("flowers"))
    schema = run_info.get("schema", SCHEMA)
    if not isinstance(schema, int) or schema > SCHEMA:
        raise ResultsError(f"{path}: results schema {schema!r} is newer than this flowers-bench reads ({SCHEMA}); "
                           "upgrade flowers-bench")
    seen = {c.name for c in cases}
    # Cases that failed before recording anything are only listed in the run-level record.
    for rec in run_info.get("cases", []):
        if isinstance(rec, dict) and rec.get("name") not in seen and rec.get("variant"):
            cases.append(
                Case(
                    name=str(rec["name"]),
                    variant=str(rec["variant"]),
                    seed=rec.get("seed") if isinstance(rec.get("seed"), int) else None,
                    status=str(rec.get("status", "failed")),
                    error=rec.get("error"),
                )
            )
    if not cases:
        raise ResultsError(f"{path}: holds no benchmark cases (did every case fail to start?); {HOW_TO_MAKE}")
    profile = run_info.get("profile") or next(
        (c.info.get("profile") for c in cases if c.info.get("profile")), None
    )
    machine = _dict(data.get("machine_info"))
    for case in cases:  # a merged run keeps each part's machine with its cases
        case.machine = _dict(case.info.get("machine_info")) or machine
    commit = _dict(data.get("commit_info"))
    return Run(
        source=str(path),
        datetime=str(data.get("datetime", "")),
        commit=commit,
        machine=machine,
        profile=profile,
        complete=bool(run_info.get("complete", True)),
        cases=cases,
    )


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
