"""The ``flowers`` command: ``flowers report|check|merge|store|trends`` over result JSON files.

Each sub-command lives in its own module with ``add_arguments(parser)`` and ``run(args) -> int``;
unusable input (:class:`flowers.results.ResultsError`) exits 2 with a one-line reason.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from flowers.results import ResultsError, SkippedResultWarning

COMMANDS = {
    "report": "flowers.report",
    "check": "flowers.check",
    "merge": "flowers.merge",
    "store": "flowers.store",
    "trends": "flowers.trends",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flowers", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=module.__doc__.strip().splitlines()[0], description=module.__doc__)
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():  # restores the filters and showwarning afterwards
            warnings.simplefilter("always", SkippedResultWarning)
            warnings.showwarning = _one_line(args.command)
            return int(args.run(args) or 0)
    except ResultsError as exc:
        print(f"flowers {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"flowers {args.command}: interrupted; nothing was half-written", file=sys.stderr)
        return 130


def _one_line(command: str):
    """``warnings.showwarning`` that prints a skipped result file as one ``flowers CMD: warning:`` line."""
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, SkippedResultWarning):
            print(f"flowers {command}: warning: {message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    return show


if __name__ == "__main__":
    raise SystemExit(main())
