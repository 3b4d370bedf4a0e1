"""Render result JSON files into report.md, report.html and PNG graphs.

``flowers report RESULTS... -o DIR`` (:mod:`.cli`, which also describes the options) reads
``--benchmark-json`` files or pytest-benchmark storage folders through :mod:`flowers.results` and
writes the report; the report is a pure function of the results.  The modules, in the order the data
flows through them:

* :mod:`.build`: loaded runs -> the data model, one group per profile, using :mod:`.sidebyside`
  (several runs: each run's scores side by side against a reference, with the effect statistics of
  :mod:`flowers.effects`), :mod:`.comparison` (the table against the original experiment),
  :mod:`.curves` (learning curves of every run compared), :mod:`.breakdown` (where the time goes),
  :mod:`.details` (run details and configuration) and :mod:`.history` (what changed between
  consecutive runs; the history table and trend graph); :mod:`.cases` holds the per-variant
  readings they share, and :mod:`.format` the display strings;
* :mod:`.model`: the data model, plain data classes of display strings and graphs (PNG bytes);
* :mod:`.render`: the Jinja2 environment and escaping; the templates are in ``flowers/templates/``;
* :mod:`.write`: graphs, then pages, each atomically, under a lock on the output folder;
* :mod:`.cli`: ``add_arguments`` and ``run`` for :mod:`flowers.cli`, over :func:`generate`.

The names below are the package's public interface.
"""

from __future__ import annotations

from flowers.report.breakdown import BREAKDOWN_PARTS
from flowers.report.build import DEFAULT_HELP, build
from flowers.report.cli import DEFAULT_INPUTS, add_arguments, default_inputs, generate, run
from flowers.report.curves import HISTORY_KEYS
from flowers.report.format import fmt_bytes, fmt_commit, fmt_date, fmt_int, fmt_seconds, fmt_stat, fmt_value
from flowers.report.history import changes
from flowers.report.model import (
    Breakdown,
    BreakdownRow,
    Change,
    ComparisonRow,
    Details,
    Figure,
    Group,
    History,
    HistoryCell,
    HistoryRow,
    Report,
    figure,
)
from flowers.report.render import md_escape, render, render_html, render_markdown
from flowers.report.write import write

__all__ = [
    "BREAKDOWN_PARTS",
    "DEFAULT_HELP",
    "DEFAULT_INPUTS",
    "HISTORY_KEYS",
    "Breakdown",
    "BreakdownRow",
    "Change",
    "ComparisonRow",
    "Details",
    "Figure",
    "Group",
    "History",
    "HistoryCell",
    "HistoryRow",
    "Report",
    "add_arguments",
    "build",
    "changes",
    "default_inputs",
    "figure",
    "fmt_bytes",
    "fmt_commit",
    "fmt_date",
    "fmt_int",
    "fmt_seconds",
    "fmt_stat",
    "fmt_value",
    "generate",
    "md_escape",
    "render",
    "render_html",
    "render_markdown",
    "run",
    "write",
]
