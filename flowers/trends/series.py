"""The runs of one series as trends: per variant and gated metric, the values of each night.

A night is one run; a trend holds, per night, the values of the variant's ok seeds (an empty list
when the variant failed or did not run that night).  The metrics and their result keys are the
gate's (:data:`flowers.check.METRICS`): test accuracy, test loss and throughput, which reads
the first figure of the gate's (steady, whole-training, whole-case images/s) that every ok case of
the series timed long enough, so a trend never mixes two.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime

from flowers.check import METRICS, Thresholds, timing_key
from flowers.effects import LOG
from flowers.errors import ResultsError
from flowers.registry import ordered
from flowers.results import Case, Run, metric_values
from flowers.text import one_line

TREND_METRICS = ("accuracy", "loss", "time")
# Years a night's date may lie in: a date axis spans its nights with a margin, and matplotlib
# places dates only within the years 1-9999.
YEARS = (1900, 9000)


@dataclass
class Trend:
    """One metric of one variant over the nights of a series (values in the metric's units)."""

    variant: str
    metric: str  # a name of METRICS: accuracy | loss | time
    key: str  # the result key read
    values: list[list[float]]  # per night, one value per ok seed
    n_test: int | None  # test split size (accuracy's binomial noise)

    @property
    def means(self) -> list[float | None]:
        return [math.fsum(v) / len(v) if v else None for v in self.values]


def when(run: Run) -> datetime:
    """The run's date in UTC (:meth:`flowers.results.Run.when`), within :data:`YEARS`; ResultsError
    naming the file otherwise."""
    d = run.when()
    if not YEARS[0] <= d.year <= YEARS[1]:
        shown = one_line(json.dumps(run.datetime_value), 60)
        raise ResultsError(f"{run.source}: datetime {shown} lies outside the years {YEARS[0]}-{YEARS[1]} a trend shows")
    return d


def _key(metric: str, cases: list[Case]) -> str:
    """The result key a trend reads: the gate's choice (the first throughput figure timed long
    enough in every case of the series) for throughput, else the metric's own."""
    if not METRICS[metric].keys or not cases:
        return METRICS[metric].key
    return timing_key(METRICS[metric], cases, cases, Thresholds())[0]


def _values(cases: list[Case], metric: str, key: str) -> list[float]:
    if METRICS[metric].keys:
        return [v for v in (c.throughput(key) for c in cases) if v is not None and v > 0]
    values = metric_values(cases, key)
    return [v for v in values if v > 0] if METRICS[metric].scale is LOG else values


def trends(runs: list[Run]) -> list[Trend]:
    """Every variant's trend of every gated metric over ``runs`` (oldest first), variants in
    registry order."""
    groups = [run.by_variant() for run in runs]
    ok = {
        v: [[c for c in g.get(v, []) if c.ok] for g in groups] for v in ordered([v for r in runs for v in r.variants])
    }
    out = []
    for variant, nights in ok.items():
        every = [c for night in nights for c in night]
        n_test = next((c.test_images for c in every if c.test_images), None)
        for metric in TREND_METRICS:
            key = _key(metric, every)
            out.append(Trend(variant, metric, key, [_values(night, metric, key) for night in nights], n_test))
    return out
