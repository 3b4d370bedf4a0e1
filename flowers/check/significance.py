"""Is the current run worse than the baseline beyond the spread between seeds?  One-sided p-values.

``worse`` is ``"lower"`` (a metric where lower is worse, e.g. accuracy) or ``"higher"`` (e.g. loss).
Several seeds on both sides: Welch's t-test.  One value against several: the value taken as one
more draw from the other side's seed spread.  One value a side, or no spread on the only side
with several: no p-value (:func:`seed_p` gives None and the gate falls back to its fixed limits).
scipy is imported only when a p-value is computed.
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

from flowers.stats import mean_sd


def _difference(baseline: Sequence[float], current: Sequence[float]) -> float:
    """Mean of current minus mean of baseline."""
    return mean_sd(current)[0] - mean_sd(baseline)[0]


def _spread(values: Sequence[float]) -> float:
    """max - min, with float noise (e.g. 0.9 - 0.1 + 0.1) counted as none."""
    span = max(values) - min(values)
    return 0.0 if span <= 1e-12 * max(1.0, max(abs(v) for v in values)) else span


def _exact_p(diff: float, worse: str) -> float:
    """No spread to test against: the difference is certain (p 0 or 1) or absent (0.5)."""
    bad = diff < 0 if worse == "lower" else diff > 0
    return 0.0 if bad else 1.0 if diff else 0.5


def one_sided_p(baseline: Sequence[float], current: Sequence[float], worse: str) -> float:
    """Welch's t-test p-value for "current is worse than baseline" (``worse`` = "lower" or "higher")."""
    from scipy import stats  # imported here: only the several-seed path needs it

    diff = _difference(baseline, current)
    if _spread(baseline) == 0 and _spread(current) == 0:
        return _exact_p(diff, worse)  # scipy would give NaN
    alternative = "less" if worse == "lower" else "greater"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # near-identical samples: precision note only
        result = stats.ttest_ind(list(current), list(baseline), equal_var=False, alternative=alternative)
    p = float(result.pvalue)
    return 1.0 if math.isnan(p) else p


def one_vs_several_p(baseline: Sequence[float], current: Sequence[float], worse: str) -> float:
    """One value on one side, several seeds on the other: p-value that current is worse.

    Welch's test needs a spread on both sides; with one value on a side it is taken as one more
    draw from the seed distribution of the other side, so the difference of the two centres has
    variance s^2 (1 + 1/n) (a prediction-interval t-test, n - 1 degrees of freedom).
    """
    from scipy import stats

    several = baseline if len(baseline) > 1 else current
    n = len(several)
    se = mean_sd(several)[1] * math.sqrt(1 + 1 / n)
    diff = _difference(baseline, current)
    if se == 0:
        return _exact_p(diff, worse)
    t = diff / se
    return float(stats.t.cdf(t, n - 1) if worse == "lower" else stats.t.sf(t, n - 1))


def seed_p(baseline: Sequence[float], current: Sequence[float], worse: str) -> float | None:
    """p-value from the spread between seeds that current is worse than baseline, or None when the
    seeds cannot give one (one value a side, or no spread on the only side with several)."""
    if len(baseline) >= 2 and len(current) >= 2:
        return one_sided_p(baseline, current, worse)
    if len(baseline) == 1 and len(current) == 1:
        return None
    several = baseline if len(baseline) > 1 else current
    if _spread(several) == 0:
        return None
    return one_vs_several_p(baseline, current, worse)
