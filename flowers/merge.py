"""Merge the shard parts of one run into one result file: ``flowers merge PART... -o out.json``;
and splice a run's variants into a baseline (:func:`splice`, for ``pytest benchmarks --update-baseline``).

The parts are ``--benchmark-json`` files of ``pytest benchmarks --shard K/N`` (or of any sessions of
one profile, configuration and commit that ran different cases).  The output is one pytest-benchmark
JSON that ``flowers report`` and ``flowers check`` read as one run: every case once, each case
keeping its own machine in ``extra_info["machine_info"]`` (and its shard in ``extra_info["shard"]``),
and the run record's ``cases`` complete.  Cases of the whole selection that no part holds (a shard
that failed to start or was not given) are recorded with status ``missing``, so ``check`` reports
them as missing.  Parts of different profiles (the run record's, or the cases' own where a part has
no record), configurations or commits, a case in two parts, a shard out of range, or an unreadable
part exit 2 with one line; so does ``-o`` naming one of the parts (the same file by any path or
link), unless ``--force`` says to replace it.  The output is written atomically (nothing
half-written).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

from flowers import atomic, schema
from flowers.errors import ResultsError
from flowers.jsonfile import read_json
from flowers.results import expand, parse_run, text
from flowers.text import one_line, printable

Part = tuple[str, dict[str, Any]]  # (source, the part's JSON)


def _agree(parts: list[Part], what: str, value, fix: str) -> None:
    """One-line error unless ``value(part)`` is the same for every part (None: unknown, not compared)."""
    known = [(source, value(data)) for source, data in parts if value(data) is not None]
    for source, found in known[1:]:
        if found != known[0][1]:
            raise ResultsError(f"{source} has {what} {found!r} but {known[0][0]} has {known[0][1]!r}; {fix}")


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _record(data: dict) -> dict:
    return _dict(data.get(schema.RUN))


def _shard(data: dict) -> dict:
    return _dict(_record(data).get(schema.SHARD))


def _commit(data: dict):
    info = _dict(data.get(schema.COMMIT_INFO))
    return (info.get(schema.COMMIT_ID), bool(info.get(schema.COMMIT_DIRTY))) if info.get(schema.COMMIT_ID) else None


def _profiles(data: dict) -> list[str]:
    """The profiles a part names: its run record's and each case's own (a record can be missing)."""
    cases = [_dict(b.get(schema.EXTRA_INFO)).get(schema.PROFILE) for b in data[schema.BENCHMARKS]]
    return list(dict.fromkeys(p for p in (_record(data).get(schema.PROFILE), *cases) if isinstance(p, str) and p))


def _one_profile(parts: list[Part]) -> None:
    """ResultsError when the parts (or the cases of one part) name more than one profile."""
    seen: dict[str, str] = {}
    for source, data in parts:
        for profile in _profiles(data):
            seen.setdefault(profile, source)
    if len(seen) > 1:
        (a, first), (b, second) = list(seen.items())[:2]
        where = (
            f"{second} has profile {b!r} but {first} has {a!r}"
            if first != second
            else f"{first} has profiles {a!r} and {b!r}"
        )
        raise ResultsError(f"{where}; merge only the shards of one run")


def check_parts(parts: list[Part]) -> None:
    """Refuse parts that are not pieces of one run."""
    same_run = "merge only the shards of one run"
    _one_profile(parts)
    _agree(parts, "configuration", lambda d: _record(d).get(schema.CONFIG_HASH), same_run + " (same options)")
    _agree(parts, "commit (id, dirty)", _commit, same_run + " (same checkout)")
    _agree(parts, "shard count", lambda d: _shard(d).get(schema.SHARD_COUNT), same_run)
    owner: dict[str, str] = {}
    for source, data in parts:
        for name in _case_names(data):
            if name in owner:
                raise ResultsError(f"case {name} is in both {owner[name]} and {source}; give each shard once")
            owner[name] = source


def _case_names(data: dict) -> list[str]:
    names = [b[schema.NAME] for b in data[schema.BENCHMARKS]]
    return names + [c[schema.NAME] for c in _record(data).get(schema.CASES, []) if c.get(schema.NAME) not in names]


def _machine(parts: list[Part]) -> dict:
    """The first part's machine_info; when parts ran on different machines, node and device name them all."""
    infos = [_dict(data.get(schema.MACHINE_INFO)) for _, data in parts]
    machine = copy.deepcopy(infos[0])
    environments = [_dict(m.get(schema.ENVIRONMENT)) for m in infos]
    nodes = list(dict.fromkeys(str(m.get(schema.NODE)) for m in infos))
    devices = list(dict.fromkeys(str(env.get(schema.DEVICE)) for env in environments))
    if len(nodes) > 1:
        machine[schema.NODE] = " + ".join(nodes)
    if len(devices) > 1:
        machine[schema.ENVIRONMENT] = {**environments[0], schema.DEVICE: "several: " + "; ".join(devices)}
    if len({str(env.get(schema.CORES)) for env in environments}) > 1:  # parts given different numbers of cores:
        machine[schema.ENVIRONMENT] = {**_dict(machine.get(schema.ENVIRONMENT)), schema.CORES: None}  # no one figure
    return machine


def _missing(parts: list[Part], present: set[str]) -> list[dict]:
    """Run-record entries for the selected cases that no part holds."""
    selection: dict[str, dict] = {}
    for _, data in parts:
        for entry in _shard(data).get(schema.SHARD_SELECTION, []):
            selection.setdefault(entry[schema.NAME], entry)
    count = next((_shard(d).get(schema.SHARD_COUNT) for _, d in parts), None)
    return [
        schema.case_entry(
            name,
            e[schema.VARIANT],
            e.get(schema.SEED),
            schema.MISSING,
            f"shard {e.get(schema.SHARD)}/{count} is not among the merged parts",
        )
        for name, e in selection.items()
        if name not in present
    ]


def merge(parts: list[Part]) -> dict:
    """One run from its parts; a pure function of the parts' JSON (ResultsError if they do not fit)."""
    if not parts:
        raise ResultsError("no parts given; flowers merge PART... -o out.json")
    check_parts(parts)
    benchmarks, cases, shards_seen = [], [], []
    for _, data in parts:
        shard = _shard(data)
        label = f"{shard[schema.SHARD_INDEX]}/{shard[schema.SHARD_COUNT]}" if shard else None
        shards_seen.append(shard.get(schema.SHARD_INDEX))
        for bench in data[schema.BENCHMARKS]:
            bench = copy.deepcopy(bench)
            bench.setdefault(schema.EXTRA_INFO, {}).update(
                {schema.MACHINE_INFO: data.get(schema.MACHINE_INFO), schema.SHARD: label}
            )
            benchmarks.append(bench)
        cases.extend(_record(data).get(schema.CASES, []))
    missing = _missing(parts, {name for _, data in parts for name in _case_names(data)})
    first = parts[0][1]
    record = {
        **_record(first),
        schema.CASES: cases + missing,
        schema.COMPLETE: all(_record(d).get(schema.COMPLETE, True) is True for _, d in parts) and not missing,
        schema.MERGED_FROM: [source for source, _ in parts],
    }
    if _shard(first):
        record[schema.SHARD] = {**_shard(first), schema.SHARD_INDEX: sorted(i for i in shards_seen if i)}
    return {
        **first,
        schema.MACHINE_INFO: _machine(parts),
        schema.BENCHMARKS: benchmarks,
        schema.RUN: record,
        schema.DATETIME: max((t for _, d in parts if (t := text(d.get(schema.DATETIME)))), default=""),
    }


def _variant_of(entry: dict) -> str | None:
    """The variant of a benchmark (its extra_info's) or of a run record's case."""
    return text(_dict(entry.get(schema.EXTRA_INFO, entry)).get(schema.VARIANT))


def _replaced(old: list, new: list, variants: set[str]) -> list:
    """``old`` with the entries of ``variants`` replaced by ``new``'s, where the first of each stood
    (a variant that ``old`` lacks: at the end), so that a diff shows the replaced entries in place."""
    out, placed = [], set()
    for entry in old:
        variant = _variant_of(entry)
        if variant in variants and variant not in placed:
            out += [e for e in new if _variant_of(e) == variant]
            placed.add(variant)
        elif variant not in variants:
            out.append(entry)
    return out + [e for e in new if _variant_of(e) not in placed]


def splice(baseline: dict, run: dict) -> dict:
    """``baseline`` (a result file's JSON) with every case of ``run``'s variants replaced by ``run``'s:
    each keeping ``run``'s ``machine_info`` in its extra_info (as :func:`merge` does), the other
    variants' cases as they were, and the update listed in the run record's ``spliced``."""
    variants = {v for v in map(_variant_of, run[schema.BENCHMARKS]) if v}
    benchmarks = copy.deepcopy(run[schema.BENCHMARKS])
    for bench in benchmarks:
        bench.setdefault(schema.EXTRA_INFO, {})[schema.MACHINE_INFO] = run.get(schema.MACHINE_INFO)
    old, new = _record(baseline), _record(run)
    entry = {
        schema.SPLICED_VARIANTS: sorted(variants),
        schema.SPLICED_COMMIT: _dict(run.get(schema.COMMIT_INFO)).get(schema.COMMIT_ID),
        schema.DATETIME: run.get(schema.DATETIME),
    }
    record = {
        **old,
        schema.CASES: _replaced(old.get(schema.CASES, []), new.get(schema.CASES, []), variants),
        schema.COMPLETE: old.get(schema.COMPLETE, True) is True and new.get(schema.COMPLETE, True) is True,
        schema.CONFIG_HASH: new.get(schema.CONFIG_HASH, old.get(schema.CONFIG_HASH)),
        schema.SPLICED: [*old.get(schema.SPLICED, []), entry],
    }
    return {
        **baseline,
        schema.BENCHMARKS: _replaced(baseline[schema.BENCHMARKS], benchmarks, variants),
        schema.RUN: record,
        schema.DATETIME: max(str(baseline.get(schema.DATETIME, "")), str(run.get(schema.DATETIME, ""))),
    }


def _is_case(record) -> bool:
    return isinstance(record, dict) and bool(text(record.get(schema.NAME)) and text(record.get(schema.VARIANT)))


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= schema.MAX_SHARDS


def _problem(data: dict) -> str | None:
    """What merging reads from a part beyond :func:`~flowers.results.parse_run` and finds unusable."""
    benchmarks = data[schema.BENCHMARKS]
    unnamed = next((i for i, bench in enumerate(benchmarks) if not text(bench.get(schema.NAME))), None)
    if unnamed is not None:
        return f"benchmarks[{unnamed}] has no name"
    record = _record(data)
    shard = record.get(schema.SHARD) or {}
    lists = {
        "flowers.cases": record.get(schema.CASES, []),
        "flowers.shard.selection": _dict(shard).get(schema.SHARD_SELECTION, []),
    }
    for where, records in lists.items():
        if not isinstance(records, list):
            return f"{where} is not a list"
        bad = next((i for i, r in enumerate(records) if not _is_case(r)), None)
        if bad is not None:
            return f"{where}[{bad}] is not a case record (with a name and a variant)"
    if not isinstance(shard, dict):
        return "flowers.shard is not an object"
    for key in (schema.SHARD_INDEX, schema.SHARD_COUNT) if shard else ():
        if not _whole(shard.get(key)):
            shown = one_line(json.dumps(shard.get(key)), 20)
            return f"flowers.shard.{key} is {shown}, not a whole number from 1 to {schema.MAX_SHARDS}"
    if shard and shard[schema.SHARD_INDEX] > shard[schema.SHARD_COUNT]:
        return f"flowers.shard.index {shard[schema.SHARD_INDEX]} is beyond its count {shard[schema.SHARD_COUNT]}"
    return None


def read_part(path: str | Path) -> Part:
    """A part as JSON, validated as a result file and as a shard part (truncated, foreign or
    malformed files: one-line error)."""
    data = read_json(path)
    parse_run(path, data)
    problem = _problem(data)
    if problem:
        raise ResultsError(f"{path}: {problem}; merge only the --benchmark-json files of pytest benchmarks")
    return str(path), data


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "parts",
        nargs="+",
        metavar="PART",
        help="--benchmark-json files of the shards of one run (a folder: its *.json)",
    )
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="the merged result file")
    parser.add_argument(
        "--force", action="store_true", help="let -o name one of the PARTs: replace it with the merged run"
    )


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either is missing (or unreadable): not one file
        return False


def _refuse_overwriting(output: str, paths: list[Path]) -> None:
    """ResultsError when ``output`` is one of the parts, by any path, link or hard link."""
    part = next((p for p in paths if _same_file(p, output)), None)
    if part is not None:
        raise ResultsError(
            f"-o {output} is the part {part}: merging would replace it; write to another file, or pass --force"
        )


def run(args: argparse.Namespace) -> int:
    paths = [path for path, _ in expand(args.parts)]  # merging: every part must read, folder or not
    if not args.force:
        _refuse_overwriting(args.output, paths)
    merged = merge([read_part(p) for p in paths])
    atomic.write_text(args.output, json.dumps(merged, indent=4) + "\n")
    missing = [c for c in merged[schema.RUN][schema.CASES] if c.get(schema.STATUS) == schema.MISSING]
    print(f"flowers merge: {len(merged[schema.BENCHMARKS])} cases from {len(paths)} parts -> {printable(args.output)}")
    if missing:
        names = ", ".join(printable(c[schema.NAME]) for c in missing)
        print(f"flowers merge: warning: {len(missing)} cases missing (no part holds them): {names}", file=sys.stderr)
    return 0
