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
  consecutive runs; the history table and trend graph) and :mod:`.gate` (what ``flowers check``
  can detect with the latest run as its baseline); :mod:`.cases` holds the per-variant readings
  they share, :mod:`.plots` draws the graphs;
* :mod:`.model`: the data model, plain data classes of display strings and graphs;
* :mod:`.render`: the pages, from the templates in ``flowers/templates/``;
* :mod:`.write`: graphs, then pages, each atomically, under a lock on the output folder;
* :mod:`.cli`: ``add_arguments`` and ``run`` for :mod:`flowers.cli`, over :func:`generate`.

Display strings, escaping, the Jinja2 environment and the graphs' style are :mod:`flowers.display`'s,
shared with ``flowers trends`` and ``flowers check --markdown``.  The names below are the package's
public interface: what :mod:`flowers.trends` uses (it imports nothing else of it) and what users
call.
"""

from __future__ import annotations

from flowers.report.build import build
from flowers.report.cli import add_arguments, generate, run
from flowers.report.history import changes
from flowers.report.model import Change

__all__ = ["Change", "add_arguments", "build", "changes", "generate", "run"]
