"""``flowers check`` on the command line: its arguments and :func:`run`, a thin layer that reads the
settings and the two runs and hands them to :func:`~flowers.check.comparison.compare` or
:func:`~flowers.check.baseline.update_baseline`.  Exit 0 when nothing regressed, 1 when something
did (unusable input raises :class:`~flowers.errors.ResultsError`: ``flowers`` exits 2)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from flowers.check import calibrate, identity, markdown
from flowers.check.baseline import update_baseline
from flowers.check.comparison import compare
from flowers.check.metrics import ALIASES, ALL_METRICS, CHANGED
from flowers.check.settings import load_config
from flowers.check.table import render
from flowers.errors import ResultsError
from flowers.results import Run, load_newest, load_run
from flowers.text import printable


def parse_metrics(text: str) -> tuple[str, ...]:
    """``--metrics``: comma-separated names (or result keys, or aliases) of gates, in order, once each."""
    chosen = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name = ALIASES.get(part)
        if name is None:
            raise argparse.ArgumentTypeError(f"unknown metric {part!r}; choose from {', '.join(ALL_METRICS)}")
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise argparse.ArgumentTypeError("give at least one metric")
    return tuple(chosen)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the gate list as written
    parser.add_argument(
        "baseline", metavar="BASELINE", nargs="?", help="baseline result file, e.g. benchmarks/baselines/smoke-cpu.json"
    )
    parser.add_argument(
        "current",
        metavar="CURRENT",
        nargs="?",
        help="result file to check (--benchmark-json output or an autosave file; a folder means its newest run)",
    )
    parser.add_argument(
        "--calibrate",
        nargs="+",
        metavar="RUN",
        help="instead of checking: measure the gate's false-alarm rate by A/A comparisons between the seeds of "
        "each RUN (made with --seeds 10) and across RUNs (e.g. from other CPUs), and the smallest change it detects",
    )
    parser.add_argument(
        "--metrics",
        type=parse_metrics,
        help="comma-separated gates to apply: accuracy, loss, time (default: the metrics setting of "
        "[tool.flowers.check], else accuracy,loss); time decides only between runs on one kind of machine",
    )
    _add_outputs(parser)


def _add_outputs(parser: argparse.ArgumentParser) -> None:
    """The options after the runs and the gates: variants, settings, baseline update, Markdown verdict."""
    parser.add_argument(
        "--variants", type=lambda s: [v for v in s.split(",") if v], help="only these variants (comma-separated)"
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="pyproject.toml with [tool.flowers.check] (default: nearest from the working folder up)",
    )
    parser.add_argument(
        "--update-baseline",
        action="store_true",
        help="validate CURRENT and copy it over BASELINE atomically (prints what changes; exits 0)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="with --update-baseline: accept an interrupted run, failed cases or another profile",
    )
    parser.add_argument(
        "--markdown",
        metavar="FILE",
        action="append",
        default=[],
        help="also write the verdict as Markdown to FILE (appended when FILE is $GITHUB_STEP_SUMMARY); may be repeated",
    )
    parser.add_argument(
        "--no-baseline-ok",
        action="store_true",
        help="when BASELINE does not exist yet: say so in one line, with how to adopt CURRENT, and exit 0",
    )


def _load(path: str) -> Run:
    """One run: a file, or the newest run in a pytest-benchmark storage folder."""
    if Path(path).is_dir():
        return load_newest(path)  # the newest file unreadable: an error, not an older run checked instead
    return load_run(path)


def _calibrate(args: argparse.Namespace, config) -> int:
    if args.baseline or args.update_baseline:
        raise ResultsError(
            "--calibrate takes its runs after it and no BASELINE/CURRENT, e.g. flowers check --calibrate a.json b.json"
        )
    runs = [load_run(path) for path in args.calibrate]
    tallies = calibrate.calibrate(runs, config, args.metrics)
    _print(
        calibrate.render(
            tallies, calibrate.detectable(runs[0], config, args.metrics), config.defaults.false_alarm, args.metrics
        )
    )
    return 0


def _no_baseline(args: argparse.Namespace) -> int:
    """The first night of a new baseline: CURRENT must be readable; nothing to compare it with."""
    _load(args.current)
    line = (
        f"no baseline {args.baseline} yet: nothing to compare with; adopt this run with: "
        f"flowers check --update-baseline {args.baseline} {args.current}"
    )
    print(printable(line))
    markdown.write(args.markdown, line + "\n")
    return 0


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    args.metrics = args.metrics or config.metrics
    if args.calibrate:
        return _calibrate(args, config)
    if not args.baseline or not args.current:
        raise ResultsError("give BASELINE and CURRENT result files (or --calibrate RUN ...)")
    if args.update_baseline:
        update_baseline(args.baseline, _load(args.current), config, args.metrics, args.variants, args.force)
        return 0
    if not Path(args.baseline).exists() and args.no_baseline_ok:
        return _no_baseline(args)
    if not Path(args.baseline).exists():
        raise ResultsError(
            f"{args.baseline}: no such baseline; make one with: flowers check --update-baseline {args.baseline} CURRENT"
        )
    comp = compare(_load(args.baseline), _load(args.current), config, args.metrics, args.variants)
    accept = _accept(args.baseline, comp)
    markdown.write(
        args.markdown, markdown.render(comp) + "".join(f"\n{line.replace(': ', ': `', 1)}`\n" for line in accept)
    )
    *table, verdict = render(comp).split("\n")
    _print("\n".join([*table, *accept, verdict]))  # the verdict stays the last line
    return 1 if comp.regressed else 0


def _accept(baseline: str, comp) -> list[str]:
    """The command that accepts the variants' changed facts (and one that records facts a baseline
    lacks), one line each; none when there is nothing to accept."""
    changed = list(dict.fromkeys(r.variant for r in comp.rows if r.verdict == CHANGED))
    unrecorded = [
        v
        for v in dict.fromkeys(
            r.variant for r in comp.rows if r.how.startswith(identity.NOT_RECORDED) and identity.IN_BASELINE in r.how
        )
        if v not in changed
    ]
    known, profile = [*comp.baseline.variants, *comp.current.variants], comp.baseline.profile
    lines = []
    if changed:
        lines.append(
            "accept these changes on purpose (reruns their seeds, rewrites their cases in the baseline): "
            + identity.accept_command(baseline, profile, changed, known)
        )
    if unrecorded:
        lines.append(
            "record the facts in the baseline: " + identity.accept_command(baseline, profile, unrecorded, known)
        )
    return lines


def _print(text: str) -> None:
    try:
        print(text, flush=True)
    except BrokenPipeError:  # e.g. `flowers check ... | head`: the verdict still decides the exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
