"""Craft each regression that issue 16 found passing the gate from a real run, and check each fails.

    python benchmarks/crafted_regressions.py [BASELINE]     # default: benchmarks/baselines/smoke-cpu.json

The current run of every case is one seed of BASELINE itself (nothing changed: must pass), then
altered one way at a time; each must make ``flowers check BASELINE CURRENT`` exit 1 naming the
variant (or 2 naming the file, for an unreadable newest run).  Prints one line per case and exits 1
when any is not caught.  tests/test_check_gates.py and tests/test_results_robust.py test the same
classes on made-up runs; this shows them on real numbers.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import sys
import tempfile
from pathlib import Path

from flowers import cli

ROOT = Path(__file__).resolve().parents[1]
SMALL = ("basic_cnn", "vgg16_transfer", "mobilenet_v2_transfer")  # timed over a fraction of a second


def check(*argv: object) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["check", *map(str, argv)])
    return code, (out.getvalue() + err.getvalue()).strip().splitlines()[-1]


def seeds(run: dict, keep: set[int]) -> dict:
    """``run`` with only the cases of seeds ``keep`` (and its run-level record to match)."""
    run = copy.deepcopy(run)
    run["benchmarks"] = [b for b in run["benchmarks"] if b["extra_info"]["seed"] in keep]
    run["flowers"]["cases"] = [c for c in run["flowers"]["cases"] if c["seed"] in keep]
    return run


def edit(run: dict, variant: str, **values) -> dict:
    """``run`` with ``extra_info`` keys of ``variant``'s cases set (a value may be a function of the old one)."""
    run = copy.deepcopy(run)
    for b in run["benchmarks"]:
        info = b["extra_info"]
        if info["variant"] == variant:
            info.update({k: v(info[k]) if callable(v) else v for k, v in values.items()})
    return run


def slower(run: dict, variant: str, factor: float) -> dict:
    """Every timing of ``variant`` ``factor`` times longer, every throughput as much lower."""
    return edit(
        run,
        variant,
        train_seconds=lambda s: s * factor,
        wall_seconds=lambda s: s * factor,
        epoch_step_seconds=lambda steps: [s * factor for s in steps],
        train_images_per_second=lambda r: r / factor,
        steady_images_per_second=lambda r: r / factor,
    )


def merged(run: dict) -> dict:
    """``run`` as ``flowers merge`` writes parts from runners of different names."""
    run = copy.deepcopy(run)
    for i, b in enumerate(run["benchmarks"]):
        b["extra_info"]["machine_info"] = dict(copy.deepcopy(run["machine_info"]), node=f"runner-{i % 3}")
    run["machine_info"]["node"] = "runner-0 + runner-1 + runner-2"
    return run


def cases(run: dict) -> list[tuple[str, dict, tuple[str, ...], str]]:
    """(what, current run, check options, variant the verdict must name)."""
    one = seeds(run, {0})
    out = [("unchanged, one seed", one, (), "")]
    for key, bad in [
        ("test_accuracy", float("nan")),
        ("test_accuracy", float("inf")),
        ("test_accuracy", None),
        ("test_accuracy", "0.9"),
        ("test_accuracy", 1.5),
        ("test_loss", float("-inf")),
        ("test_loss", -0.1),
    ]:
        out.append((f"ok case with {key} = {bad!r}", edit(one, "vgg16_transfer", **{key: bad}), (), "vgg16_transfer"))
    for variant in SMALL:
        out.append((f"{variant} 20x slower", slower(one, variant, 20), ("--metrics", "time"), variant))
    out.append(
        (
            "merged parts of runners with other names, mobilenet 20x slower",
            merged(slower(one, "mobilenet_v2_transfer", 20)),
            ("--metrics", "time"),
            "mobilenet_v2_transfer",
        )
    )
    three = seeds(run, {0, 1, 2})
    collapsed = copy.deepcopy(three)
    for b in collapsed["benchmarks"]:
        if b["extra_info"]["variant"] == "basic_cnn" and b["extra_info"]["seed"] != 1:
            b["extra_info"]["test_accuracy"] = 0.6
    out.append(("three seeds, two of basic_cnn's collapsing to 0.6", collapsed, (), "basic_cnn"))
    return out


def main(argv: list[str]) -> int:
    baseline = Path(argv[0]) if argv else ROOT / "benchmarks" / "baselines" / "smoke-cpu.json"
    run, failures = json.loads(baseline.read_text()), 0
    with tempfile.TemporaryDirectory() as tmp:
        for what, current, options, variant in cases(run):
            path = Path(tmp) / "current.json"
            path.write_text(json.dumps(current))
            code, last = check(baseline, path, *options)
            caught = code == 0 if not variant else code == 1 and variant in last
            failures += not caught
            print(f"{'ok    ' if caught else 'MISSED'} exit {code}  {what}: {last}")
        folder = Path(tmp) / "runs"
        folder.mkdir()
        (folder / "0001_old.json").write_text(json.dumps(seeds(run, {0})))
        (folder / "0002_new.json").write_text(json.dumps(seeds(run, {0}))[:5000])  # truncated
        code, last = check(baseline, folder)
        caught = code == 2 and "0002_new.json" in last
        failures += not caught
        print(f"{'ok    ' if caught else 'MISSED'} exit {code}  newest file of a folder truncated: {last}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
