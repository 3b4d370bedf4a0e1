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
readable result file (truncated, empty, not JSON, not a regular file), a run whose date or profile
cannot name a file, a run of another profile than its series holds, a run already stored (same date
and commit), and a target that would lead outside the store (a series folder or file that is a
symbolic link pointing elsewhere); each file is created atomically and exclusively
(:func:`flowers.atomic.create_bytes`) with the bytes that were checked, so a reader never sees half a
run and a concurrent add of the same run cannot overwrite it.  Reading a store (:func:`load`) skips,
with a warning naming it, an unreadable file, a run of another profile than its series, and a series
folder that links outside the store.
"""

from __future__ import annotations

import argparse
import os
import re
import warnings
from collections import Counter
from pathlib import Path

from flowers import atomic, schema
from flowers.errors import ResultsError
from flowers.jsonfile import parse_json, read_regular
from flowers.results import Run, SkippedResultWarning, load_runs, parse_run
from flowers.text import printable

NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")  # a series name, and what a profile must look like
COMMIT = re.compile(r"[0-9a-f]{7,40}")
KINDS = ("cpu", "gpu")  # device kinds, the end of a series name


def series_name(run: Run) -> str:
    """``<profile>-<device kind>``, e.g. ``smoke-cpu``; a ResultsError when the run cannot say."""
    kind = run.environment.get(schema.DEVICE_KIND)
    name = f"{run.profile}-{kind}"
    if not run.profile or kind not in KINDS or not NAME.fullmatch(name):
        raise ResultsError(
            f"{run.source}: profile {run.profile!r} and device kind {kind!r} do not name a series; pass --series NAME"
        )
    return name


def series_profile(name: str) -> str | None:
    """The profile a series name ``<profile>-<device kind>`` says (None for a name of another form)."""
    profile, _, kind = name.rpartition("-")
    return profile if profile and kind in KINDS else None


def file_name(run: Run) -> str:
    """``<YYYYMMDDTHHMMSSZ>_<commit>.json`` from the run's date (as UTC) and commit (10 digits)."""
    when = run.when()  # ResultsError naming the file: not a string, not ISO 8601, out of range
    commit = str(run.commit.get(schema.COMMIT_ID) or "")
    commit = commit[:10] if COMMIT.fullmatch(commit) else "unknown"
    dirty = "-dirty" if run.commit.get(schema.COMMIT_DIRTY) else ""
    return f"{when:%Y%m%dT%H%M%SZ}_{commit}{dirty}.json"


def _link(path: Path) -> str:
    target = os.readlink(path)
    return f"{path}: is a symbolic link to {target}" + ("" if path.exists() else ", which does not exist")


def _inside(store: Path, path: Path) -> Path:
    """``path`` (in ``store``), after checking that writing there stays inside the store."""
    folder = path.parent
    if not folder.resolve().is_relative_to(store.resolve()):
        raise ResultsError(f"{_link(folder)}, outside the store {store}; a store writes only inside itself")
    if path.is_symlink():
        raise ResultsError(f"{_link(path)}; remove it (a store holds the runs' own files); nothing added")
    return path


def target(store: str | Path, run: Run, series: str | None = None) -> Path:
    """Where ``run`` goes in ``store`` (``series``: instead of the run's own series name); ResultsError
    when it cannot go there."""
    if series is not None and not NAME.fullmatch(series):
        raise ResultsError(f"--series {series!r}: use lower-case letters, digits, '.', '_' and '-'")
    name = series or series_name(run)
    expected = series_profile(name)
    if expected and run.profile and run.profile != expected:
        raise ResultsError(
            f"{run.source}: profile {run.profile!r}, but series {name} holds profile {expected!r}; "
            "add it to its own series (leave --series out)"
        )
    return _inside(Path(store), Path(store) / name / file_name(run))


def plan(store: str | Path, runs: list[str | Path], series: str | None = None) -> list[tuple[Path, Path, bytes]]:
    """``(source, target, bytes)`` for each run file, after checking them all: readable whole result
    files (ResultsError names the first that is not), none already stored nor given twice."""
    pairs: list[tuple[Path, Path, bytes]] = []
    for source in map(Path, runs):
        raw = read_regular(source)  # the bytes checked are the bytes stored
        dest = target(store, parse_run(source, parse_json(source, raw)), series)
        if dest.exists():
            raise ResultsError(f"{source}: already stored as {dest} (same date and commit); nothing added")
        earlier = next((s for s, d, _ in pairs if d == dest), None)
        if earlier is not None:
            raise ResultsError(f"{source}: the same run as {earlier} (same date and commit); nothing added")
        pairs.append((source, dest, raw))
    return pairs


def add(store: str | Path, runs: list[str | Path], series: str | None = None) -> list[Path]:
    """Add each run file to ``store`` (all checked first by :func:`plan`); the paths written."""
    written = []
    for source, dest, raw in plan(store, runs, series):
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            atomic.create_bytes(_inside(Path(store), dest), raw)
        except FileExistsError:
            raise ResultsError(f"{source}: stored as {dest} meanwhile by another add; nothing more added") from None
        written.append(dest)
    return written


def series_folders(store: str | Path) -> dict[str, Path]:
    """The series of ``store`` by name, in name order; one that links outside the store is left
    out with a :class:`~flowers.results.SkippedResultWarning`."""
    root = Path(store)
    if root.exists() and not root.is_dir():
        raise ResultsError(f"{root}: is a file, not a store (a folder of series); give the store's folder")
    if not root.is_dir():
        raise ResultsError(f"{root}: no such store; add a run with: flowers store add {root} out.json")
    found = {}
    for path in sorted(root.iterdir()):
        if not (path.is_dir() and NAME.fullmatch(path.name)):
            continue
        if not path.resolve().is_relative_to(root.resolve()):
            warnings.warn(f"series {path.name} skipped: {_link(path)}, outside the store", SkippedResultWarning, 2)
            continue
        found[path.name] = path
    return found


def _one_profile(name: str, runs: list[Run]) -> list[Run]:
    """The runs of series ``name`` of its profile (the name's, else the most common), each other
    one left out with a :class:`~flowers.results.SkippedResultWarning` naming it."""
    counts = Counter(r.profile for r in runs if r.profile)
    expected = series_profile(name) or (counts.most_common(1)[0][0] if counts else None)
    for run in runs:
        if run.profile and run.profile != expected:
            warnings.warn(
                f"skipped {run.source}: profile {run.profile!r} in series {name} of profile {expected!r}",
                SkippedResultWarning,
                stacklevel=3,
            )
    return [r for r in runs if not r.profile or r.profile == expected]


def load(store: str | Path) -> dict[str, list[Run]]:
    """Every readable run of each series, oldest first (by file name: the date as UTC); an unreadable
    file or a run of another profile is skipped with a :class:`~flowers.results.SkippedResultWarning`
    naming it, and a series with none left is left out."""
    out: dict[str, list[Run]] = {}
    for name, folder in series_folders(store).items():
        try:
            runs = _one_profile(name, load_runs([folder]))
        except ResultsError as exc:
            warnings.warn(f"series {name} skipped: {exc}", SkippedResultWarning, stacklevel=2)
            continue
        if runs:
            out[name] = sorted(runs, key=lambda r: Path(r.source).name)
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
        print(f"flowers store: added {printable(path)}")
    return 0
