"""Result files for the store, trends and markdown tests: the committed smoke baseline
(benchmarks/baselines/smoke-cpu.json), re-dated and re-committed, with chosen metrics."""

from __future__ import annotations

import copy
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "benchmarks" / "baselines" / "smoke-cpu.json"


def baseline() -> dict:
    return json.loads(BASELINE.read_text())


def night(day: int = 1, commit: str | None = None, **accuracy: float) -> dict:
    """The baseline run dated 2026-01-DAY 02:17 UTC with commit ``commit`` (default: from the day);
    keyword arguments set a variant's test_accuracy."""
    run = copy.deepcopy(baseline())
    run["datetime"] = f"2026-01-{day:02d}T02:17:00+00:00"
    run["commit_info"]["id"] = commit or f"{day:02d}" * 20
    for bench in run["benchmarks"]:
        variant = bench["extra_info"]["variant"]
        if variant in accuracy:
            bench["extra_info"]["test_accuracy"] = accuracy[variant]
    return run


def write(path: Path, run: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run))
    return path
