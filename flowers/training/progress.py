"""Progress of long work: one line per finished step, and a live bar within a step on a terminal.

A :class:`Progress` is what a case reports to.  ``progress("line")`` prints a line (per epoch, per
pipeline...).  ``progress.bar(total, label)`` gives a tqdm bar (count, rate, ETA) for the work
inside a step: batches of an epoch, the feature-cache build, image decoding.  The bar is drawn only
when the output is a terminal, on a line of its own (``newline``), one column narrower than the
terminal (a wrapped bar could not be redrawn in place), and is erased when done, before the step's
line is written: a terminal, like a log file or CI output, keeps one line per epoch.  tqdm redraws
at most every :data:`REDRAW_SECONDS`, which keeps its cost per batch to a comparison of clocks
(measured in docs/running.md).

``terminal`` is a context manager under which ``sys.stdout`` reaches the terminal: the benchmarks
pass one that suspends pytest's output capture, so progress shows without ``-s``.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager as ContextManager
from typing import Protocol

from tqdm import tqdm

REDRAW_SECONDS = 0.2  # tqdm's mininterval: how often a live bar is redrawn at most


class Bar(Protocol):
    """What a bar of :meth:`Progress.bar` offers the work it follows (tqdm's own methods)."""

    def update(self, n: int = 1) -> object: ...

    def close(self) -> None: ...


class TerminalFile:
    """A file for tqdm: writes go to ``sys.stdout`` inside ``terminal()`` (past pytest's capture)."""

    def __init__(self, terminal: Callable[[], ContextManager], isatty: bool):
        self.terminal, self._isatty = terminal, isatty

    def write(self, text: str) -> int:
        with self.terminal():
            sys.stdout.write(text)
            sys.stdout.flush()
        return len(text)

    def flush(self) -> None:
        """Each write is flushed already."""

    def isatty(self) -> bool:
        return self._isatty


class Progress:
    """Lines through ``write_line`` (None: silent); live bars when ``isatty`` (default: stdout's).

    ``newline``: called (inside ``terminal()``) before a bar is drawn, to end a line left open by
    others, such as pytest's file name before its result characters.
    """

    def __init__(
        self,
        write_line: Callable[[str], None] | None = None,
        terminal: Callable[[], ContextManager] = contextlib.nullcontext,
        isatty: bool | None = None,
        newline: Callable[[], None] = lambda: None,
    ):
        self.write_line, self.terminal, self.newline = write_line, terminal, newline
        if isatty is None:
            with terminal():
                isatty = sys.stdout.isatty()
        self.live = bool(isatty) and write_line is not None

    def __call__(self, line: str) -> None:
        if self.write_line:
            self.write_line(line)

    def bar(self, total: int | None, label: str, unit: str = "batch") -> Bar:
        """A bar for ``total`` units of work (disabled, at the cost of a no-op, when not live)."""
        width = None
        if self.live:
            with self.terminal():
                self.newline()
                width = shutil.get_terminal_size().columns - 1
        return tqdm(
            total=total,
            desc=f"  {label}",
            unit=unit,
            leave=False,
            mininterval=REDRAW_SECONDS,
            file=TerminalFile(self.terminal, self.live),
            disable=not self.live,
            ncols=width,
        )


SILENT = Progress()


def as_progress(progress: Progress | Callable[[str], None] | None) -> Progress:
    """A :class:`Progress` from what a caller gave: one already, a line writer, or None (silent)."""
    if isinstance(progress, Progress):
        return progress
    return Progress(progress, isatty=False) if progress else SILENT
