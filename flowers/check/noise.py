"""How far a metric moves with nothing changed, measured from the baseline's own seeds, and the
limits the gate draws from it.

A gate compares the current run's values (one per seed) with the baseline's.  With nothing
changed, the current values are new draws from the distribution the baseline's seeds sample: a
different seed, or a CPU whose kernels add up in another order, sends training down another
trajectory.  So the gate asks whether the current values could be such draws:

* **scale**: accuracy as it is (absolute change); loss and throughput on a log scale, where their
  seed spread is roughly symmetric and a change is relative.
* **sigma**, the spread of one seed: the baseline seeds' sample standard deviation; for accuracy
  never below the test split's binomial standard deviation sqrt(p(1-p)/n_test) (p kept one test
  image away from 0 and 1), because a few seeds that happen to agree do not make a 30-image test
  set exact.  With one baseline seed, accuracy has only that floor and the other metrics none.
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
from dataclasses import dataclass
from typing import Sequence

from flowers.stats import mean_sd


@dataclass(frozen=True)
class Noise:
    """The spread of one seed's value on the gate's scale, and where it came from."""

    sigma: float
    df: int | None  # degrees of freedom of a measured sigma; None when a known floor (or nothing) sets it
    n_base: int  # baseline seeds
    source: str  # e.g. "seeds sd=0.031 (n=10)", "binomial sd=0.062 (n_test=30)"

    def quantile(self, alpha: float) -> float:
        """One-sided (1 - alpha) quantile of the reference distribution (0 without any noise)."""
        if self.sigma == 0:
            return 0.0
        from scipy import stats  # imported here: reading results needs no scipy

        return float(stats.t.isf(alpha, self.df) if self.df else stats.norm.isf(alpha))

    def mean_limit(self, alpha: float, n_cur: int) -> float:
        """How far the mean of ``n_cur`` current values may fall short of the baseline mean."""
        return self.quantile(alpha) * self.sigma * math.sqrt(1 / self.n_base + 1 / n_cur)

    def worst_limit(self, alpha: float, n_cur: int) -> float:
        """How far the worst of ``n_cur`` current values may fall short of the baseline mean."""
        return self.quantile(alpha / n_cur) * self.sigma * math.sqrt(1 + 1 / self.n_base)


def binomial_sd(p: float, n_test: int) -> tuple[float, bool]:
    """Standard deviation of an accuracy measured on ``n_test`` images, with p kept one image away
    from 0 and 1 (a perfect score still has noise); and whether p had to be moved."""
    q = min(max(p, 1 / n_test), 1 - 1 / n_test) if n_test > 1 else 0.5
    return math.sqrt(q * (1 - q) / n_test), q != p


def estimate(scaled_baseline: Sequence[float], n_test: int | None = None, mean_p: float | None = None) -> Noise:
    """The noise of one seed from the baseline's values on the gate's scale; ``n_test`` and
    ``mean_p`` (the baseline's mean accuracy) give accuracy its binomial floor."""
    n = len(scaled_baseline)
    sd = mean_sd(scaled_baseline)[1] if n > 1 else None
    floor, clamped = binomial_sd(mean_p, n_test) if n_test and mean_p is not None else (0.0, False)
    if sd is not None and sd > floor:
        return Noise(sd, n - 1, n, f"seeds sd={sd:.3g} (n={n})")
    if floor > 0:
        seeds = f"seeds sd={sd:.3g} (n={n}) < " if sd is not None else ""
        return Noise(floor, None, n, f"{seeds}binomial sd={floor:.3f} (n_test={n_test}{', p clamped' if clamped else ''})")
    if sd is not None:
        return Noise(sd, n - 1, n, f"seeds sd={sd:.3g} (n={n})")
    return Noise(0.0, None, n, "one baseline seed: no measured noise")
