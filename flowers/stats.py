"""Summary statistics over seeds, one implementation for report and check."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def mean_sd(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (n - 1); the deviation is None for a single value.

    Finite values near the largest float (a loss of 1e308) still give a finite mean; a deviation
    beyond the largest float is ``inf``."""
    try:
        mean = statistics.fmean(values)
    except OverflowError:  # the sum is not a float; the sum of the values / n is
        mean = math.fsum(v / len(values) for v in values)
    if len(values) < 2:
        return mean, None
    try:
        return mean, statistics.stdev(values)
    except OverflowError:  # scaled down, then up again: inf if it is beyond the largest float
        scale = max(abs(v) for v in values)
        return mean, statistics.stdev([v / scale for v in values]) * scale


def mean_ci95(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and the half-width of its 95% confidence interval (Student t); None for a single value."""
    mean, sd = mean_sd(values)
    if sd is None:
        return mean, None
    from scipy import stats  # only needed with several seeds

    n = len(values)
    return mean, float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
