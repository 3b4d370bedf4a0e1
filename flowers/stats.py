"""Summary statistics over seeds, one implementation for report and check."""

from __future__ import annotations

import math
import statistics
from typing import Sequence


def mean_sd(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and sample standard deviation (n - 1); the deviation is None for a single value."""
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else None)


def mean_ci95(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and the half-width of its 95% confidence interval (Student t); None for a single value."""
    mean, sd = mean_sd(values)
    if sd is None:
        return mean, None
    from scipy import stats  # only needed with several seeds

    n = len(values)
    return mean, float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
