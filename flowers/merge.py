"""Merge the shard parts of one run into one result file: ``flowers merge PART... -o out.json``.

The parts are ``--benchmark-json`` files of ``pytest benchmarks --shard K/N`` (or of any sessions of
one profile, configuration and commit that ran different cases).  The output is one pytest-benchmark
JSON that ``flowers report`` and ``flowers check`` read as one run: every case once, each case
keeping its own machine in ``extra_info["machine_info"]`` (and its shard in ``extra_info["shard"]``),
and the run record's ``cases`` complete.  Cases of the whole selection that no part holds (a shard
that failed to start or was not given) are recorded with status ``missing``, so ``check`` reports
them as missing.  Parts of different profiles, configurations or commits, a case in two parts, or an
unreadable part exit 2 with one line; the output is written atomically (nothing half-written).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from flowers import atomic
from flowers.results import ResultsError, expand, load_run

Part = tuple[str, dict[str, Any]]  # (source, the part's JSON)


def _agree(parts: list[Part], what: str, value, fix: str) -> None:
    """One-line error unless ``value(part)`` is the same for every part (None: unknown, not compared)."""
    known = [(source, value(data)) for source, data in parts if value(data) is not None]
    for source, found in known[1:]:
        if found != known[0][1]:
            raise ResultsError(f"{source} has {what} {found!r} but {known[0][0]} has {known[0][1]!r}; {fix}")


def _record(data: dict) -> dict:
    return data.get("flowers") if isinstance(data.get("flowers"), dict) else {}


def _commit(data: dict):
    info = data.get("commit_info") or {}
    return (info.get("id"), bool(info.get("dirty"))) if info.get("id") else None


def check_parts(parts: list[Part]) -> None:
    """Refuse parts that are not pieces of one run."""
    same_run = "merge only the shards of one run"
    _agree(parts, "profile", lambda d: _record(d).get("profile"), same_run)
    _agree(parts, "configuration", lambda d: _record(d).get("config_hash"), same_run + " (same options)")
    _agree(parts, "commit (id, dirty)", _commit, same_run + " (same checkout)")
    _agree(parts, "shard count", lambda d: (_record(d).get("shard") or {}).get("count"), same_run)
    owner: dict[str, str] = {}
    for source, data in parts:
        for name in _case_names(data):
            if name in owner:
                raise ResultsError(f"case {name} is in both {owner[name]} and {source}; give each shard once")
            owner[name] = source


def _case_names(data: dict) -> list[str]:
    names = [b["name"] for b in data["benchmarks"]]
    return names + [c["name"] for c in _record(data).get("cases", []) if c.get("name") not in names]


def _machine(parts: list[Part]) -> dict:
    """The first part's machine_info; when parts ran on different machines, node and device name them all."""
    machine = copy.deepcopy(parts[0][1].get("machine_info") or {})
    infos = [data.get("machine_info") or {} for _, data in parts]
    nodes = list(dict.fromkeys(str(m.get("node")) for m in infos))
    devices = list(dict.fromkeys(str((m.get("flowers") or {}).get("device")) for m in infos))
    if len(nodes) > 1:
        machine["node"] = " + ".join(nodes)
    if len(devices) > 1:
        machine.setdefault("flowers", {})["device"] = "several: " + "; ".join(devices)
    cores = {(m.get("flowers") or {}).get("cores") for m in infos}
    if len(cores) > 1:  # parts given different numbers of cores: no one figure for the run
        machine.setdefault("flowers", {})["cores"] = None
    return machine


def _missing(parts: list[Part], present: set[str]) -> list[dict]:
    """Run-record entries for the selected cases that no part holds."""
    selection: dict[str, dict] = {}
    for _, data in parts:
        for entry in (_record(data).get("shard") or {}).get("selection", []):
            selection.setdefault(entry["name"], entry)
    count = next(((_record(d).get("shard") or {}).get("count") for _, d in parts), None)
    return [{"name": name, "variant": e["variant"], "seed": e.get("seed"), "status": "missing",
             "error": f"shard {e.get('shard')}/{count} is not among the merged parts"}
            for name, e in selection.items() if name not in present]


def merge(parts: list[Part]) -> dict:
    """One run from its parts; a pure function of the parts' JSON (ResultsError if they do not fit)."""
    if not parts:
        raise ResultsError("no parts given; flowers merge PART... -o out.json")
    check_parts(parts)
    benchmarks, cases, shards_seen = [], [], []
    for _, data in parts:
        shard = _record(data).get("shard") or {}
        label = f"{shard['index']}/{shard['count']}" if shard else None
        shards_seen.append(shard.get("index"))
        for bench in data["benchmarks"]:
            bench = copy.deepcopy(bench)
            bench.setdefault("extra_info", {}).update(machine_info=data.get("machine_info"), shard=label)
            benchmarks.append(bench)
        cases.extend(_record(data).get("cases", []))
    missing = _missing(parts, {name for _, data in parts for name in _case_names(data)})
    first = parts[0][1]
    record = {**_record(first), "cases": cases + missing,
              "complete": all(_record(d).get("complete", True) for _, d in parts) and not missing,
              "merged_from": [source for source, _ in parts]}
    if _record(first).get("shard"):
        record["shard"] = {**_record(first)["shard"], "index": sorted(i for i in shards_seen if i)}
    return {**first, "machine_info": _machine(parts), "benchmarks": benchmarks, "flowers": record,
            "datetime": max(str(d.get("datetime", "")) for _, d in parts)}


def read_part(path: str) -> Part:
    """A part as JSON, validated as a result file first (truncated or foreign files: one-line error)."""
    load_run(path)
    return str(path), json.loads(Path(path).read_text(encoding="utf-8"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("parts", nargs="+", metavar="PART", help="--benchmark-json files of the shards of one run (a folder: its *.json)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="the merged result file")


def run(args: argparse.Namespace) -> int:
    paths = [path for path, _ in expand(args.parts)]  # merging: every part must read, folder or not
    merged = merge([read_part(p) for p in paths])
    atomic.write_text(args.output, json.dumps(merged, indent=4) + "\n")
    missing = [c for c in merged["flowers"]["cases"] if c.get("status") == "missing"]
    print(f"flowers merge: {len(merged['benchmarks'])} cases from {len(paths)} parts -> {args.output}")
    if missing:
        print(f"flowers merge: warning: {len(missing)} cases missing (no part holds them): "
              + ", ".join(c["name"] for c in missing), file=sys.stderr)
    return 0
