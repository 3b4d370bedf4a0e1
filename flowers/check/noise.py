"""How far a metric moves with nothing changed, measured from the baseline's own seeds, and the
limits the gate draws from it.

A gate compares the current run's values (one per seed) with the baseline's.  With nothing
changed, the current values are new draws from the distribution the baseline's seeds sample: a
different seed, or a CPU whose kernels add up in another order, sends training down another
trajectory.  So the gate asks whether the current values could be such draws:

* **scale**: accuracy as arcsin(sqrt(p)), the variance-stabilising scale of a proportion, on which
  a test split of n images has the same binomial noise 1/(2 sqrt(n)) whatever p, and a score near
  1.0, which can only fall, is not squeezed against the ceiling; loss and throughput on a log scale,
  where their seed spread is roughly symmetric and a change is relative.
* **sigma**, the spread of one seed: the baseline seeds' sample standard deviation; for accuracy
  never below the test split's binomial noise, because a few seeds that happen to agree do not make
  a 30-image test set exact.  With one baseline seed, accuracy has only that floor and the other
  metrics none.
* **limits**: a one-sided prediction interval.  The mean of ``n_cur`` new values falls below the
  baseline mean by more than ``q * sigma * sqrt(1/n_base + 1/n_cur)`` with probability ``alpha``
  (``q``: Student t with the seeds' degrees of freedom, or normal when the floor sets sigma).  The
  worst of ``n_cur`` values is compared with the interval of a single draw,
  ``q' * sigma * sqrt(1 + 1/n_base)`` at ``alpha / n_cur`` (Bonferroni), so two collapsed seeds
  of three are caught even when the mean alone would pass.

:mod:`flowers.check.metrics` adds the fixed tolerances as a floor (a change must exceed both) and
:mod:`flowers.check.comparison` splits the run's false-alarm budget over its gates.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from flowers.stats import mean_sd


@dataclass(frozen=True)
class Noise:
    """The spread of one seed's value on the gate's scale, and where it came from."""

    sigma: float
    df: int | None  # degrees of freedom of a measured sigma; None when a known floor (or nothing) sets it
    n_base: int  # baseline seeds
    source: str  # e.g. "seeds sd=0.102 (n=10)", "binomial sd=0.091 (n_test=30) > seeds sd=0.058 (n=10)"

    def quantile(self, alpha: float) -> float:
        """One-sided (1 - alpha) quantile of the reference distribution (0 without any noise)."""
        if self.sigma == 0:
            return 0.0
        if not self.df:
            return statistics.NormalDist().inv_cdf(1 - alpha)
        from scipy import stats  # imported here: reading results needs no scipy

        return float(stats.t.isf(alpha, self.df))

    def mean_limit(self, alpha: float, n_cur: int) -> float:
        """How far the mean of ``n_cur`` current values may fall short of the baseline mean."""
        return self.quantile(alpha) * self.sigma * math.sqrt(1 / self.n_base + 1 / n_cur)

    def worst_limit(self, alpha: float, n_cur: int) -> float:
        """How far the worst of ``n_cur`` current values may fall short of the baseline mean."""
        return self.quantile(alpha / n_cur) * self.sigma * math.sqrt(1 + 1 / self.n_base)


def binomial_floor(n_test: int) -> float:
    """The noise of an accuracy measured on ``n_test`` images, on the arcsine scale: 1/(2 sqrt(n))."""
    return 1 / (2 * math.sqrt(n_test))


def estimate(scaled_baseline: Sequence[float], floor: float = 0.0, floor_source: str = "") -> Noise:
    """The noise of one seed from the baseline's values on the gate's scale, never below ``floor``
    (accuracy: the test split's binomial noise, a known spread: its quantiles are normal; those of
    a spread measured from n seeds are Student t's with n - 1 degrees of freedom)."""
    n = len(scaled_baseline)
    sd = mean_sd(scaled_baseline)[1] if n > 1 else None
    seeds = f"seeds sd={sd:.3g} (n={n})" if sd is not None else ""
    if floor > (sd or 0.0):
        return Noise(floor, None, n, f"{floor_source}" + (f" > {seeds}" if seeds else ""))
    if sd is not None:
        return Noise(sd, n - 1, n, seeds)
    return Noise(0.0, None, n, "one baseline seed: no measured noise")
