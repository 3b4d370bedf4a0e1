"""The ``flowers`` command: ``flowers report|check|merge|store|trends`` over result JSON files.

Each sub-command lives in its own module with ``add_arguments(parser)`` and ``run(args) -> int``;
a user's mistake (:class:`flowers.errors.UserError`: unusable input, bad settings) or a path that
cannot be written or read (``OSError``) exits 2 with a one-line reason, and Ctrl-C exits 130.
Every message is :func:`~flowers.text.printable`: text from a result file cannot print a line of
its own.  The modules' docstrings are their ``--help``, as plain text (:func:`plain`).
"""

from __future__ import annotations

import argparse
import importlib
import re
import signal
import sys
import warnings

from flowers.errors import UserError
from flowers.results import SkippedResultWarning
from flowers.text import printable

COMMANDS = {
    "report": "flowers.report",
    "check": "flowers.check",
    "merge": "flowers.merge",
    "store": "flowers.store",
    "trends": "flowers.trends",
}


def plain(docstring: str) -> str:
    """A docstring as terminal help: reST's ``literals`` and :role:`targets` as plain text."""
    return re.sub(r":\w+:`~?([^`]+)`", r"\1", docstring).replace("``", "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flowers", description=plain(__doc__.splitlines()[0]))
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        doc = plain(module.__doc__ or name)
        p = sub.add_parser(name, help=doc.strip().splitlines()[0], description=doc)
        module.add_arguments(p)
        p.description = plain(p.description or "")  # add_arguments may set its own
        p.set_defaults(run=module.run)
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():  # restores the filters and showwarning afterwards
            warnings.simplefilter("always", SkippedResultWarning)
            warnings.showwarning = _one_line(args.command)
            return int(args.run(args) or 0)
    except UserError as exc:
        print(f"flowers {args.command}: error: {printable(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:  # an output folder that cannot be written (or a file that cannot be read)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"flowers {args.command}: error: {printable(exc.strerror or exc)}{printable(where)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"flowers {args.command}: interrupted; nothing was half-written", file=sys.stderr)
        return 130


def command() -> None:
    """The ``flowers`` program (its console script, and ``python -m flowers``): :func:`main`, then
    exit with its status.  Once main returned, the work is done and said so: a Ctrl-C or SIGTERM
    while the interpreter shuts down (a while, after matplotlib) is not acted on, so a success line
    is never followed by a death by signal."""
    code = main()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    raise SystemExit(code)


def _one_line(command: str):
    """``warnings.showwarning`` that prints a skipped result file as one ``flowers CMD: warning:`` line."""
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, SkippedResultWarning):
            print(f"flowers {command}: warning: {printable(message)}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    return show


if __name__ == "__main__":
    command()
