"""``flowers report``: the command line, a thin layer over :func:`generate`, which takes plain arguments."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flowers.errors import ResultsError
from flowers.report.build import DEFAULT_HELP, build
from flowers.report.render import render
from flowers.report.write import write
from flowers.results import Run, load_run, load_runs
from flowers.text import printable

PROG = "flowers report"
DEFAULT_INPUTS = ("out.json", ".benchmarks")
DESCRIPTION = """\
Render result JSON files into report.md, report.html and PNG graphs.

``flowers report RESULTS... -o DIR``: each RESULTS is a ``--benchmark-json`` file or a
pytest-benchmark storage folder (``.benchmarks/``, written by ``--benchmark-autosave``); without
RESULTS it reads ``out.json``, or ``.benchmarks/`` when there is no ``out.json``.  Over several
runs of a profile the report leads with the comparison view: each run's test accuracy, test loss
and throughput (mean and 95% interval over its seeds) side by side, the difference from a
reference run (``--reference``; default the oldest) with its interval and a verdict in words, and
what the seeds can resolve.  Then the comparison table against the original experiment, the time
breakdown and learning curves of every run compared, run details, and the history with what
changed between consecutive runs.  ``report.html`` is one
self-contained file; ``report.md`` links the PNG graphs written beside it.  An unreadable file in a
storage folder is skipped with a warning naming it; one named on its own is an error (exit 2).
"""


def default_inputs(cwd: Path | None = None) -> list[Path]:
    """``out.json`` when it exists, else the autosave folder ``.benchmarks``."""
    cwd = cwd or Path.cwd()
    for name in DEFAULT_INPUTS:
        if (cwd / name).exists():
            return [cwd / name]
    raise ResultsError(f"no RESULTS given and neither out.json nor .benchmarks/ is here; {DEFAULT_HELP}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "results",
        nargs="*",
        metavar="RESULTS",
        help="--benchmark-json files or pytest-benchmark storage folders (default: out.json, else .benchmarks/)",
    )
    parser.add_argument("-o", "--output", default="reports", metavar="DIR", help="output folder (default: reports)")
    parser.add_argument("--title", default="flowers-bench report", help="the report's title")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but warnings and errors")
    parser.add_argument(
        "--reference",
        type=parse_reference,
        metavar="N|FILE",
        help="the run the others are compared with: its number (#N, oldest first, in each profile) or a "
        "result file (default: the oldest run)",
    )


def parse_reference(text: str) -> int | Path:
    """``--reference``: a run's number (``2`` or ``#2``) or a result file."""
    number = text.removeprefix("#")
    if number.isdigit():
        if int(number) < 1:
            raise argparse.ArgumentTypeError(f"{text}: runs are numbered from 1")
        return int(number)
    return Path(text)


def run(args: argparse.Namespace) -> int:
    return generate(args.results, args.output, title=args.title, quiet=args.quiet, reference=args.reference)


def generate(
    results: list[str | Path],
    output: str | Path = "reports",
    title: str = "flowers-bench report",
    quiet: bool = False,
    reference: int | str | Path | None = None,
) -> int:
    """Load ``results`` (default: :func:`default_inputs`), build, render and write the report into
    ``output``; warnings and errors go to stderr.  ``reference``: the run the others are compared
    with (:func:`~flowers.report.build.build`; a file not among ``results`` is added to them).
    Returns the exit status (0, or 2 when the folder cannot be written); unusable input raises
    :class:`~flowers.errors.ResultsError` (exit 2)."""
    paths: list[str | Path] = [Path(p) for p in results] or list(default_inputs())
    runs = load_runs(paths)
    ref: int | Run | None = reference if isinstance(reference, int) else None
    if isinstance(reference, (str, Path)):
        ref = load_run(reference)
        if not any(Path(r.source).resolve() == Path(reference).resolve() for r in runs):
            runs.append(ref)
    report = build(runs, title=title, reference=ref)
    for warning in report.warnings:
        print(f"{PROG}: warning: {printable(warning)}", file=sys.stderr)
    pages = render(report)
    try:
        written = write(report, output, pages)
    except OSError as exc:
        print(f"{PROG}: error: cannot write into {printable(output)}: {printable(exc)}", file=sys.stderr)
        return 2
    if not quiet:
        out = Path(output)
        print(
            f"{PROG}: {report.runs} run(s) -> {out / 'report.md'}, {out / 'report.html'} "
            f"and {len(written) - len(pages)} graph(s)"
        )
    return 0
