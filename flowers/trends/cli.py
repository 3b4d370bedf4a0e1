"""``flowers trends STORE -o DIR``: the command line over :func:`generate`.

Ctrl-C (or SIGTERM) is acted on between steps (:func:`flowers.interrupts.deferred`): the graphs are
drawn in memory, then the page's files are written in one step that an interrupt cannot split
(:func:`flowers.trends.write.write`), so an interrupted run exits 130 with the folder as it was, or,
past that step, with the whole new page and its success line.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from flowers import interrupts, store
from flowers.check import load_config
from flowers.errors import ResultsError
from flowers.results import Run, SkippedResultWarning
from flowers.text import printable

PROG = "flowers trends"
REPORT_NIGHTS = 7  # --reports: the latest week of each series, with what changed night to night


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from flowers import trends

    parser.description = trends.__doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("store", metavar="STORE", help="a history store (flowers store add STORE RUN...)")
    parser.add_argument("-o", "--output", default="trends", metavar="DIR", help="output folder (default: trends)")
    parser.add_argument("--title", default="flowers-bench trends", help="the page's title")
    parser.add_argument(
        "--repo-url", metavar="URL", help="e.g. https://github.com/OWNER/REPO: link each step's commits"
    )
    parser.add_argument("--config", type=Path, help="pyproject.toml with [tool.flowers.check] (the tolerances)")
    parser.add_argument(
        "--reports",
        action="store_true",
        help=f"also write flowers report of each series' latest {REPORT_NIGHTS} nights into DIR/SERIES/",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but warnings and errors")


def _load(path: str) -> dict[str, list[Run]]:
    """The store's series; each unreadable file skipped is one warning line on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SkippedResultWarning)
        series = store.load(path)
    for w in caught:
        print(f"{PROG}: warning: {printable(w.message)}", file=sys.stderr)
    if not series:
        raise ResultsError(f"{path}: no series with readable runs; add one with: flowers store add {path} out.json")
    return series


def _reports(series: dict[str, list[Run]], out: Path) -> dict[str, str]:
    """``flowers report`` of each series' latest nights into ``out/<series>/``; the links."""
    from flowers.report import generate

    for name, runs in series.items():
        interrupts.checkpoint()
        generate([r.source for r in runs[-REPORT_NIGHTS:]], out / name, title=f"flowers-bench {name}", quiet=True)
    return {name: f"{name}/report.html" for name in series}


def run(args: argparse.Namespace) -> int:
    with interrupts.deferred():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    series = _load(args.store)
    # matplotlib and ruptures only when the page is made: `flowers check` builds this parser too
    from flowers.trends.page import build
    from flowers.trends.write import write

    page = build(series, load_config(args.config), args.repo_url, args.title)
    links = _reports(series, Path(args.output)) if args.reports else {}
    for section in page.sections:
        section.report = links.get(section.name)
    for warning in page.warnings:
        print(f"{PROG}: warning: {printable(warning)}", file=sys.stderr)
    interrupts.checkpoint()
    path = write(page, args.output)
    interrupts.checkpoint()  # the last: a signal after it comes when the work is done
    if not args.quiet:
        steps = sum(len(s.steps) for s in page.sections)
        nights = sum(s.nights for s in page.sections)
        print(
            f"{PROG}: {len(page.sections)} series, {nights} nights, {steps} step(s) -> {printable(path)} "
            f"({time.perf_counter() - started:.1f} s)"
        )
    return 0
