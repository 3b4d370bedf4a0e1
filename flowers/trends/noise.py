"""The noise a step in a trend must stand out of, per variant and metric, in the gate's terms.

Values are taken on the gate's scale (:attr:`flowers.check.metrics.Metric.scale`: accuracy as
arcsin(sqrt(p)), loss and throughput as logarithms, so their steps are relative), and the per-seed
noise is the seeds' sample standard deviation, never below the test split's binomial noise for
accuracy (:func:`flowers.effects.binomial_sd`), as ``flowers check`` measures it.  The
gate's tolerances act as the floor of a step's size (:mod:`flowers.trends.steps`).

Nights add a noise of their own that one night's seeds cannot show (the runner's CPU, its load), so
the noise of a night's mean is the seeds' (pooled over all nights, divided by sqrt(seeds)) or the
nights' own scatter measured robustly from night to night, whichever is larger.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from itertools import pairwise

from flowers.check import METRICS
from flowers.effects import binomial_sd

MAD_TO_SD = 1.4826  # the median absolute deviation of a normal sample times this is its sd


def to_scale(metric: str, value: float) -> float:
    """``value`` on the scale the gate judges ``metric`` on."""
    return METRICS[metric].scale.to(value)


def from_scale(metric: str, value: float) -> float:
    return METRICS[metric].scale.back(value)


def seed_sigma(nights: Sequence[Sequence[float]], metric: str, n_test: int | None) -> float | None:
    """Per-seed noise of ``metric`` on its scale: the seeds' sample sd pooled over the nights that
    have several seeds (None when none has), at least the binomial sd for accuracy."""
    scaled = [[to_scale(metric, v) for v in night] for night in nights]
    dof = sum(len(s) - 1 for s in scaled if len(s) > 1)
    pooled = None
    if dof:
        pooled = math.sqrt(sum(statistics.variance(s) * (len(s) - 1) for s in scaled if len(s) > 1) / dof)
    if METRICS[metric].binomial_floor and n_test:
        return max(pooled or 0.0, binomial_sd(n_test))
    return pooled


def scatter(means: Sequence[float]) -> float | None:
    """The nights' own noise, robust to steps: sd from the median absolute deviation of the
    night-to-night differences (a difference holds two nights' noise: divided by sqrt(2))."""
    diffs = [b - a for a, b in pairwise(means)]
    if len(diffs) < 2:
        return None
    mid = statistics.median(diffs)
    return MAD_TO_SD * statistics.median(abs(d - mid) for d in diffs) / math.sqrt(2)


def night_sigma(nights: Sequence[Sequence[float]], metric: str, n_test: int | None) -> float:
    """Noise of one night's mean on the metric's scale: :func:`seed_sigma` over sqrt(seeds per
    night) or :func:`scatter` of the night means, whichever is larger (> 0)."""
    filled = [night for night in nights if night]
    seeds = statistics.median(len(night) for night in filled)
    per_seed = seed_sigma(filled, metric, n_test)
    means = [statistics.fmean(to_scale(metric, v) for v in night) for night in filled]
    candidates = [per_seed / math.sqrt(seeds) if per_seed else 0.0, scatter(means) or 0.0]
    return max(*candidates, 1e-12)  # a noiseless series: only the tolerance floor keeps flags sane
