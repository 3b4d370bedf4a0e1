"""The runs of one series as trends: per variant and gated metric, the values of each night.

A night is one run; a trend holds, per night, the values of the variant's ok seeds (an empty list
when the variant failed or did not run that night).  The metrics and their result keys are the
gate's (:data:`flowers.check.metrics.METRICS`): test accuracy, test loss and throughput, which reads
the first figure of the gate's (steady, whole-training, whole-case images/s) that every ok case of
the series timed long enough, so a trend never mixes two.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

from flowers.check.comparison import timing_key
from flowers.check.metrics import LOG, METRICS
from flowers.check.settings import Thresholds
from flowers.report.cases import ordered
from flowers.results import Case, Run, metric_values

TREND_METRICS = ("accuracy", "loss", "time")


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


def when(run: Run) -> datetime | None:
    """The run's date as an aware datetime (UTC when the file gave no offset); None when unreadable."""
    try:
        d = datetime.fromisoformat(run.datetime.replace("Z", "+00:00"))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


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
