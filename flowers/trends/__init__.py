"""Trends over a history store, with the nights where a metric stepped: ``flowers trends STORE -o DIR``.

Reads every series of a store (:mod:`flowers.store`) and writes ``DIR/index.html`` with PNG graphs
beside it: per variant, test accuracy, test loss and throughput against the date, each night's mean
with the range of its seeds, a dashed line at each step.  A step is a change point (PELT, through
``ruptures``) that stands out of the trend's noise (the gate's noise model: the seeds' spread, at
least the test split's binomial noise for accuracy, or the nights' own scatter when larger) and
exceeds the gate's tolerance for the metric; each links to what changed that night (config, data,
model, commit, packages), as ``flowers report`` shows it.  ``--reports`` also writes the report of
each series' latest nights into ``DIR/<series>/``.

The modules, in the order the data flows:

* :mod:`.series`: a series' runs -> per variant and metric, each night's values over its seeds;
* :mod:`.noise`: the noise a step must stand out of (mirrors the gate's noise model);
* :mod:`.steps`: change points and their levels, per trend;
* :mod:`.plot`: one PNG per variant;
* :mod:`.page`: the page's data model; :mod:`.write`: render (``flowers/templates/trends.html.j2``)
  and write; :mod:`.cli`: the command line.
"""

from __future__ import annotations

from flowers.trends.cli import add_arguments, run

__all__ = ["add_arguments", "run"]
