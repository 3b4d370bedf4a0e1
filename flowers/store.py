"""A history store of result files, one per run: ``flowers store add STORE RUN...``.

A folder tree git can hold (the nightly workflow keeps it on the ``benchmark-results`` branch).
Layout: ``STORE/<series>/<YYYYMMDDTHHMMSSZ>_<commit>.json``.  A series is ``<profile>-<device
kind>`` (``smoke-cpu``, ``paper-gpu``), named like the baselines in ``benchmarks/baselines/``; the
file name is the run's own date (UTC) and commit, so names sort oldest first, and two nights never
write the same file: two clones of the branch that each add a night merge without a conflict.  A
file holds the run's bytes as ``--benchmark-json`` or ``flowers merge`` wrote them, so every reader of
result files reads a series folder (``flowers report STORE/smoke-cpu``; ``flowers check BASELINE
STORE/smoke-cpu`` checks its newest run) and ``flowers trends STORE`` reads them all.

``add`` refuses, with one line and exit 2 and before writing anything, a file that is not a whole,
readable result file (truncated, empty, not JSON), a run whose date or profile cannot name a file,
and a run already stored (same date and commit); each file is created atomically and exclusively
(:func:`flowers.atomic.create_bytes`), so a reader never sees half a run and a concurrent add of
the same run cannot overwrite it.
"""

from __future__ import annotations

import argparse
import re
import warnings
from datetime import datetime, timezone
from pathlib import Path

from flowers import atomic, schema
from flowers.errors import ResultsError
from flowers.results import Run, SkippedResultWarning, load_run, load_runs

NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")  # a series name, and what a profile must look like
COMMIT = re.compile(r"[0-9a-f]{7,40}")


def series_name(run: Run) -> str:
    """``<profile>-<device kind>``, e.g. ``smoke-cpu``; a ResultsError when the run cannot say."""
    kind = run.environment.get(schema.DEVICE_KIND)
    name = f"{run.profile}-{kind}"
    if not run.profile or kind not in ("cpu", "gpu") or not NAME.fullmatch(name):
        raise ResultsError(
            f"{run.source}: profile {run.profile!r} and device kind {kind!r} do not name a series; pass --series NAME"
        )
    return name


def file_name(run: Run) -> str:
    """``<YYYYMMDDTHHMMSSZ>_<commit>.json`` from the run's date (as UTC) and commit (10 digits)."""
    try:
        when = datetime.fromisoformat(run.datetime.replace("Z", "+00:00"))
    except ValueError:
        raise ResultsError(
            f"{run.source}: date {run.datetime!r} is not ISO 8601; store files that pytest-benchmark wrote"
        ) from None
    if when.tzinfo is None:  # pytest-benchmark wrote UTC without an offset before 5.0
        when = when.replace(tzinfo=timezone.utc)
    commit = str(run.commit.get(schema.COMMIT_ID) or "")
    commit = commit[:10] if COMMIT.fullmatch(commit) else "unknown"
    dirty = "-dirty" if run.commit.get(schema.COMMIT_DIRTY) else ""
    return f"{when.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}_{commit}{dirty}.json"


def target(store: str | Path, run: Run, series: str | None = None) -> Path:
    """Where ``run`` goes in ``store`` (``series``: instead of the run's own series name)."""
    if series is not None and not NAME.fullmatch(series):
        raise ResultsError(f"--series {series!r}: use lower-case letters, digits, '.', '_' and '-'")
    return Path(store) / (series or series_name(run)) / file_name(run)


def plan(store: str | Path, runs: list[str | Path], series: str | None = None) -> list[tuple[Path, Path]]:
    """``(source, target)`` for each run file, after checking them all: readable whole result files
    (ResultsError names the first that is not), none already stored nor given twice."""
    pairs: list[tuple[Path, Path]] = []
    for source in map(Path, runs):
        dest = target(store, load_run(source), series)
        if dest.exists():
            raise ResultsError(f"{source}: already stored as {dest} (same date and commit); nothing added")
        earlier = next((s for s, d in pairs if d == dest), None)
        if earlier is not None:
            raise ResultsError(f"{source}: the same run as {earlier} (same date and commit); nothing added")
        pairs.append((source, dest))
    return pairs


def add(store: str | Path, runs: list[str | Path], series: str | None = None) -> list[Path]:
    """Add each run file to ``store`` (all checked first by :func:`plan`); the paths written."""
    written = []
    for source, dest in plan(store, runs, series):
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            atomic.create_bytes(dest, source.read_bytes())
        except FileExistsError:
            raise ResultsError(f"{source}: stored as {dest} meanwhile by another add; nothing more added") from None
        written.append(dest)
    return written


def series_folders(store: str | Path) -> dict[str, Path]:
    """The series of ``store`` by name, in name order."""
    root = Path(store)
    if not root.is_dir():
        raise ResultsError(f"{root}: no such store; add a run with: flowers store add {root} out.json")
    return {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and NAME.fullmatch(p.name)}


def load(store: str | Path) -> dict[str, list[Run]]:
    """Every readable run of each series, oldest first (by file name: the date as UTC); an unreadable
    file is skipped with a :class:`~flowers.results.SkippedResultWarning` naming it, and a series
    with none left is left out."""
    out: dict[str, list[Run]] = {}
    for name, folder in series_folders(store).items():
        try:
            out[name] = sorted(load_runs([folder]), key=lambda r: Path(r.source).name)
        except ResultsError as exc:
            warnings.warn(f"series {name} skipped: {exc}", SkippedResultWarning, stacklevel=2)
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("add", help="add result files to a store (refuses a duplicate or an unreadable file)")
    p.add_argument("store", metavar="STORE", help="the store's folder (created when missing)")
    p.add_argument("runs", metavar="RUN", nargs="+", help="--benchmark-json or flowers merge output files")
    p.add_argument("--series", help="the series to add to (default: <profile>-<device kind> of each run)")


def run(args: argparse.Namespace) -> int:
    for path in add(args.store, args.runs, args.series):
        print(f"flowers store: added {path}")
    return 0
